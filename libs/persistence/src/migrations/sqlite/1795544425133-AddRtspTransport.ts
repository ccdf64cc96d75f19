import { MigrationInterface, QueryRunner } from "typeorm";

export class AddRtspTransport1795544425133 implements MigrationInterface {
    name = 'AddRtspTransport1795544425133'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "temporary_pull_proxies" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "name" varchar(64) NOT NULL, "streamPath" varchar(256) NOT NULL, "url" varchar(1024) NOT NULL, "enabled" boolean NOT NULL DEFAULT (1), "pullOnStart" boolean NOT NULL DEFAULT (0), "stopOnIdleMs" integer NOT NULL DEFAULT (10000), "record" boolean NOT NULL DEFAULT (0), "audio" boolean NOT NULL DEFAULT (1), "description" varchar(255) NOT NULL DEFAULT (''), "status" varchar(16) NOT NULL DEFAULT ('offline'), "lastError" text, "rtt" integer, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), "rtspTransport" varchar(8) NOT NULL DEFAULT ('tcp'), CONSTRAINT "UQ_cf6fca82f7a62d0b9fd7cd3f041" UNIQUE ("streamPath"), CONSTRAINT "UQ_9a0a0d33cf67666f54347ed9ab6" UNIQUE ("name"))`);
        await queryRunner.query(`INSERT INTO "temporary_pull_proxies"("id", "name", "streamPath", "url", "enabled", "pullOnStart", "stopOnIdleMs", "record", "audio", "description", "status", "lastError", "rtt", "createdAt", "updatedAt") SELECT "id", "name", "streamPath", "url", "enabled", "pullOnStart", "stopOnIdleMs", "record", "audio", "description", "status", "lastError", "rtt", "createdAt", "updatedAt" FROM "pull_proxies"`);
        await queryRunner.query(`DROP TABLE "pull_proxies"`);
        await queryRunner.query(`ALTER TABLE "temporary_pull_proxies" RENAME TO "pull_proxies"`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "pull_proxies" RENAME TO "temporary_pull_proxies"`);
        await queryRunner.query(`CREATE TABLE "pull_proxies" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "name" varchar(64) NOT NULL, "streamPath" varchar(256) NOT NULL, "url" varchar(1024) NOT NULL, "enabled" boolean NOT NULL DEFAULT (1), "pullOnStart" boolean NOT NULL DEFAULT (0), "stopOnIdleMs" integer NOT NULL DEFAULT (10000), "record" boolean NOT NULL DEFAULT (0), "audio" boolean NOT NULL DEFAULT (1), "description" varchar(255) NOT NULL DEFAULT (''), "status" varchar(16) NOT NULL DEFAULT ('offline'), "lastError" text, "rtt" integer, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), CONSTRAINT "UQ_cf6fca82f7a62d0b9fd7cd3f041" UNIQUE ("streamPath"), CONSTRAINT "UQ_9a0a0d33cf67666f54347ed9ab6" UNIQUE ("name"))`);
        await queryRunner.query(`INSERT INTO "pull_proxies"("id", "name", "streamPath", "url", "enabled", "pullOnStart", "stopOnIdleMs", "record", "audio", "description", "status", "lastError", "rtt", "createdAt", "updatedAt") SELECT "id", "name", "streamPath", "url", "enabled", "pullOnStart", "stopOnIdleMs", "record", "audio", "description", "status", "lastError", "rtt", "createdAt", "updatedAt" FROM "temporary_pull_proxies"`);
        await queryRunner.query(`DROP TABLE "temporary_pull_proxies"`);
    }

}
