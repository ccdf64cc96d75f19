import { MigrationInterface, QueryRunner } from "typeorm";

export class Initial1795534446038 implements MigrationInterface {
    name = 'Initial1795534446038'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "auth_sessions" ("id" varchar(36) PRIMARY KEY NOT NULL, "userId" integer NOT NULL, "refreshTokenHash" varchar(64) NOT NULL, "expiresAt" bigint NOT NULL, "revokedAt" bigint, "createdAt" datetime NOT NULL DEFAULT (datetime('now')))`);
        await queryRunner.query(`CREATE INDEX "IDX_925b24d7fc2f9324ce972aee02" ON "auth_sessions" ("userId") `);
        await queryRunner.query(`CREATE TABLE "jobs" ("id" varchar(191) PRIMARY KEY NOT NULL, "queue" varchar(64) NOT NULL, "payload" text NOT NULL, "status" varchar(16) NOT NULL, "attempts" integer NOT NULL DEFAULT (0), "maxAttempts" integer NOT NULL DEFAULT (1), "backoffType" varchar(16) NOT NULL DEFAULT ('fixed'), "backoffDelay" integer NOT NULL DEFAULT (0), "runAt" bigint NOT NULL, "lockedUntil" bigint, "lastError" text, "createdAt" bigint NOT NULL, "finishedAt" bigint)`);
        await queryRunner.query(`CREATE INDEX "IDX_921bac7793d4cd89ccb9ef3fd5" ON "jobs" ("queue") `);
        await queryRunner.query(`CREATE INDEX "IDX_f0517eec3f63f617ee5138edeb" ON "jobs" ("status", "runAt") `);
        await queryRunner.query(`CREATE TABLE "pull_proxies" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "name" varchar(64) NOT NULL, "streamPath" varchar(256) NOT NULL, "url" varchar(1024) NOT NULL, "enabled" boolean NOT NULL DEFAULT (1), "pullOnStart" boolean NOT NULL DEFAULT (0), "stopOnIdleMs" integer NOT NULL DEFAULT (10000), "record" boolean NOT NULL DEFAULT (0), "audio" boolean NOT NULL DEFAULT (1), "description" varchar(255) NOT NULL DEFAULT (''), "status" varchar(16) NOT NULL DEFAULT ('offline'), "lastError" text, "rtt" integer, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), CONSTRAINT "UQ_9a0a0d33cf67666f54347ed9ab6" UNIQUE ("name"), CONSTRAINT "UQ_cf6fca82f7a62d0b9fd7cd3f041" UNIQUE ("streamPath"))`);
        await queryRunner.query(`CREATE TABLE "push_proxies" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "name" varchar(64) NOT NULL, "streamPath" varchar(256) NOT NULL, "url" varchar(1024) NOT NULL, "enabled" boolean NOT NULL DEFAULT (1), "pushOnStart" boolean NOT NULL DEFAULT (1), "audio" boolean NOT NULL DEFAULT (1), "description" varchar(255) NOT NULL DEFAULT (''), "status" varchar(16) NOT NULL DEFAULT ('offline'), "lastError" text, "rtt" integer, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), CONSTRAINT "UQ_3796358819ab8656f967fa36e1d" UNIQUE ("name"))`);
        await queryRunner.query(`CREATE INDEX "IDX_e9a6990a785eb6d1adfc6d8fcc" ON "push_proxies" ("streamPath") `);
        await queryRunner.query(`CREATE TABLE "recordings" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "streamPath" varchar(256) NOT NULL, "format" varchar(8) NOT NULL, "startTime" bigint NOT NULL, "endTime" bigint, "duration" integer NOT NULL DEFAULT (0), "videoCodec" varchar(32), "audioCodec" varchar(32), "size" bigint NOT NULL DEFAULT (0), "filePath" varchar(1024) NOT NULL, "storage" varchar(16) NOT NULL DEFAULT ('local'), "status" varchar(16) NOT NULL DEFAULT ('recording'), "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')))`);
        await queryRunner.query(`CREATE INDEX "IDX_443d6e749f465766266078c37f" ON "recordings" ("streamPath", "startTime") `);
        await queryRunner.query(`CREATE TABLE "settings" ("key" varchar(128) PRIMARY KEY NOT NULL, "value" text NOT NULL, "updatedAt" datetime NOT NULL DEFAULT (datetime('now')))`);
        await queryRunner.query(`CREATE TABLE "stream_aliases" ("alias" varchar(256) PRIMARY KEY NOT NULL, "streamPath" varchar(256) NOT NULL, "autoRemove" boolean NOT NULL DEFAULT (0), "createdAt" datetime NOT NULL DEFAULT (datetime('now')))`);
        await queryRunner.query(`CREATE TABLE "users" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "username" varchar(64) NOT NULL, "passwordHash" varchar(255) NOT NULL, "role" varchar(16) NOT NULL, "disabled" boolean NOT NULL DEFAULT (0), "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), CONSTRAINT "UQ_fe0bb3f6520ee0469504521e710" UNIQUE ("username"))`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE "users"`);
        await queryRunner.query(`DROP TABLE "stream_aliases"`);
        await queryRunner.query(`DROP TABLE "settings"`);
        await queryRunner.query(`DROP INDEX "IDX_443d6e749f465766266078c37f"`);
        await queryRunner.query(`DROP TABLE "recordings"`);
        await queryRunner.query(`DROP INDEX "IDX_e9a6990a785eb6d1adfc6d8fcc"`);
        await queryRunner.query(`DROP TABLE "push_proxies"`);
        await queryRunner.query(`DROP TABLE "pull_proxies"`);
        await queryRunner.query(`DROP INDEX "IDX_f0517eec3f63f617ee5138edeb"`);
        await queryRunner.query(`DROP INDEX "IDX_921bac7793d4cd89ccb9ef3fd5"`);
        await queryRunner.query(`DROP TABLE "jobs"`);
        await queryRunner.query(`DROP INDEX "IDX_925b24d7fc2f9324ce972aee02"`);
        await queryRunner.query(`DROP TABLE "auth_sessions"`);
    }

}
