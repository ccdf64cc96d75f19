import { MigrationInterface, QueryRunner } from "typeorm";

export class Initial1795534448726 implements MigrationInterface {
    name = 'Initial1795534448726'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "auth_sessions" ("id" character varying(36) NOT NULL, "userId" integer NOT NULL, "refreshTokenHash" character varying(64) NOT NULL, "expiresAt" bigint NOT NULL, "revokedAt" bigint, "createdAt" TIMESTAMP NOT NULL DEFAULT now(), CONSTRAINT "PK_641507381f32580e8479efc36cd" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_925b24d7fc2f9324ce972aee02" ON "auth_sessions" ("userId") `);
        await queryRunner.query(`CREATE TABLE "jobs" ("id" character varying(191) NOT NULL, "queue" character varying(64) NOT NULL, "payload" text NOT NULL, "status" character varying(16) NOT NULL, "attempts" integer NOT NULL DEFAULT '0', "maxAttempts" integer NOT NULL DEFAULT '1', "backoffType" character varying(16) NOT NULL DEFAULT 'fixed', "backoffDelay" integer NOT NULL DEFAULT '0', "runAt" bigint NOT NULL, "lockedUntil" bigint, "lastError" text, "createdAt" bigint NOT NULL, "finishedAt" bigint, CONSTRAINT "PK_cf0a6c42b72fcc7f7c237def345" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_921bac7793d4cd89ccb9ef3fd5" ON "jobs" ("queue") `);
        await queryRunner.query(`CREATE INDEX "IDX_f0517eec3f63f617ee5138edeb" ON "jobs" ("status", "runAt") `);
        await queryRunner.query(`CREATE TABLE "pull_proxies" ("id" SERIAL NOT NULL, "name" character varying(64) NOT NULL, "streamPath" character varying(256) NOT NULL, "url" character varying(1024) NOT NULL, "enabled" boolean NOT NULL DEFAULT true, "pullOnStart" boolean NOT NULL DEFAULT false, "stopOnIdleMs" integer NOT NULL DEFAULT '10000', "record" boolean NOT NULL DEFAULT false, "audio" boolean NOT NULL DEFAULT true, "description" character varying(255) NOT NULL DEFAULT '', "status" character varying(16) NOT NULL DEFAULT 'offline', "lastError" text, "rtt" integer, "createdAt" TIMESTAMP NOT NULL DEFAULT now(), "updatedAt" TIMESTAMP NOT NULL DEFAULT now(), CONSTRAINT "UQ_9a0a0d33cf67666f54347ed9ab6" UNIQUE ("name"), CONSTRAINT "UQ_cf6fca82f7a62d0b9fd7cd3f041" UNIQUE ("streamPath"), CONSTRAINT "PK_d39d8652f9d30cd624cfc00ddea" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TABLE "push_proxies" ("id" SERIAL NOT NULL, "name" character varying(64) NOT NULL, "streamPath" character varying(256) NOT NULL, "url" character varying(1024) NOT NULL, "enabled" boolean NOT NULL DEFAULT true, "pushOnStart" boolean NOT NULL DEFAULT true, "audio" boolean NOT NULL DEFAULT true, "description" character varying(255) NOT NULL DEFAULT '', "status" character varying(16) NOT NULL DEFAULT 'offline', "lastError" text, "rtt" integer, "createdAt" TIMESTAMP NOT NULL DEFAULT now(), "updatedAt" TIMESTAMP NOT NULL DEFAULT now(), CONSTRAINT "UQ_3796358819ab8656f967fa36e1d" UNIQUE ("name"), CONSTRAINT "PK_0de949bac1b1cec91c9f6a14859" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_e9a6990a785eb6d1adfc6d8fcc" ON "push_proxies" ("streamPath") `);
        await queryRunner.query(`CREATE TABLE "recordings" ("id" SERIAL NOT NULL, "streamPath" character varying(256) NOT NULL, "format" character varying(8) NOT NULL, "startTime" bigint NOT NULL, "endTime" bigint, "duration" integer NOT NULL DEFAULT '0', "videoCodec" character varying(32), "audioCodec" character varying(32), "size" bigint NOT NULL DEFAULT '0', "filePath" character varying(1024) NOT NULL, "storage" character varying(16) NOT NULL DEFAULT 'local', "status" character varying(16) NOT NULL DEFAULT 'recording', "createdAt" TIMESTAMP NOT NULL DEFAULT now(), "updatedAt" TIMESTAMP NOT NULL DEFAULT now(), CONSTRAINT "PK_8c3247d5ee4551d59bb2115a484" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_443d6e749f465766266078c37f" ON "recordings" ("streamPath", "startTime") `);
        await queryRunner.query(`CREATE TABLE "settings" ("key" character varying(128) NOT NULL, "value" text NOT NULL, "updatedAt" TIMESTAMP NOT NULL DEFAULT now(), CONSTRAINT "PK_c8639b7626fa94ba8265628f214" PRIMARY KEY ("key"))`);
        await queryRunner.query(`CREATE TABLE "stream_aliases" ("alias" character varying(256) NOT NULL, "streamPath" character varying(256) NOT NULL, "autoRemove" boolean NOT NULL DEFAULT false, "createdAt" TIMESTAMP NOT NULL DEFAULT now(), CONSTRAINT "PK_0c3a50e7fa3d210fc83409e3677" PRIMARY KEY ("alias"))`);
        await queryRunner.query(`CREATE TABLE "users" ("id" SERIAL NOT NULL, "username" character varying(64) NOT NULL, "passwordHash" character varying(255) NOT NULL, "role" character varying(16) NOT NULL, "disabled" boolean NOT NULL DEFAULT false, "createdAt" TIMESTAMP NOT NULL DEFAULT now(), "updatedAt" TIMESTAMP NOT NULL DEFAULT now(), CONSTRAINT "UQ_fe0bb3f6520ee0469504521e710" UNIQUE ("username"), CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))`);
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
