import { MigrationInterface, QueryRunner } from "typeorm";

export class Initial1795534451253 implements MigrationInterface {
    name = 'Initial1795534451253'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE \`auth_sessions\` (\`id\` varchar(36) NOT NULL, \`userId\` int NOT NULL, \`refreshTokenHash\` varchar(64) NOT NULL, \`expiresAt\` bigint NOT NULL, \`revokedAt\` bigint NULL, \`createdAt\` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), INDEX \`IDX_925b24d7fc2f9324ce972aee02\` (\`userId\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
        await queryRunner.query(`CREATE TABLE \`jobs\` (\`id\` varchar(191) NOT NULL, \`queue\` varchar(64) NOT NULL, \`payload\` text NOT NULL, \`status\` varchar(16) NOT NULL, \`attempts\` int NOT NULL DEFAULT '0', \`maxAttempts\` int NOT NULL DEFAULT '1', \`backoffType\` varchar(16) NOT NULL DEFAULT 'fixed', \`backoffDelay\` int NOT NULL DEFAULT '0', \`runAt\` bigint NOT NULL, \`lockedUntil\` bigint NULL, \`lastError\` text NULL, \`createdAt\` bigint NOT NULL, \`finishedAt\` bigint NULL, INDEX \`IDX_921bac7793d4cd89ccb9ef3fd5\` (\`queue\`), INDEX \`IDX_f0517eec3f63f617ee5138edeb\` (\`status\`, \`runAt\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
        await queryRunner.query(`CREATE TABLE \`pull_proxies\` (\`id\` int NOT NULL AUTO_INCREMENT, \`name\` varchar(64) NOT NULL, \`streamPath\` varchar(256) NOT NULL, \`url\` varchar(1024) NOT NULL, \`enabled\` tinyint NOT NULL DEFAULT 1, \`pullOnStart\` tinyint NOT NULL DEFAULT 0, \`stopOnIdleMs\` int NOT NULL DEFAULT '10000', \`record\` tinyint NOT NULL DEFAULT 0, \`audio\` tinyint NOT NULL DEFAULT 1, \`description\` varchar(255) NOT NULL DEFAULT '', \`status\` varchar(16) NOT NULL DEFAULT 'offline', \`lastError\` text NULL, \`rtt\` int NULL, \`createdAt\` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), \`updatedAt\` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), UNIQUE INDEX \`IDX_9a0a0d33cf67666f54347ed9ab\` (\`name\`), UNIQUE INDEX \`IDX_cf6fca82f7a62d0b9fd7cd3f04\` (\`streamPath\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
        await queryRunner.query(`CREATE TABLE \`push_proxies\` (\`id\` int NOT NULL AUTO_INCREMENT, \`name\` varchar(64) NOT NULL, \`streamPath\` varchar(256) NOT NULL, \`url\` varchar(1024) NOT NULL, \`enabled\` tinyint NOT NULL DEFAULT 1, \`pushOnStart\` tinyint NOT NULL DEFAULT 1, \`audio\` tinyint NOT NULL DEFAULT 1, \`description\` varchar(255) NOT NULL DEFAULT '', \`status\` varchar(16) NOT NULL DEFAULT 'offline', \`lastError\` text NULL, \`rtt\` int NULL, \`createdAt\` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), \`updatedAt\` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), INDEX \`IDX_e9a6990a785eb6d1adfc6d8fcc\` (\`streamPath\`), UNIQUE INDEX \`IDX_3796358819ab8656f967fa36e1\` (\`name\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
        await queryRunner.query(`CREATE TABLE \`recordings\` (\`id\` int NOT NULL AUTO_INCREMENT, \`streamPath\` varchar(256) NOT NULL, \`format\` varchar(8) NOT NULL, \`startTime\` bigint NOT NULL, \`endTime\` bigint NULL, \`duration\` int NOT NULL DEFAULT '0', \`videoCodec\` varchar(32) NULL, \`audioCodec\` varchar(32) NULL, \`size\` bigint NOT NULL DEFAULT '0', \`filePath\` varchar(1024) NOT NULL, \`storage\` varchar(16) NOT NULL DEFAULT 'local', \`status\` varchar(16) NOT NULL DEFAULT 'recording', \`createdAt\` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), \`updatedAt\` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), INDEX \`IDX_443d6e749f465766266078c37f\` (\`streamPath\`, \`startTime\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
        await queryRunner.query(`CREATE TABLE \`settings\` (\`key\` varchar(128) NOT NULL, \`value\` text NOT NULL, \`updatedAt\` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), PRIMARY KEY (\`key\`)) ENGINE=InnoDB`);
        await queryRunner.query(`CREATE TABLE \`stream_aliases\` (\`alias\` varchar(256) NOT NULL, \`streamPath\` varchar(256) NOT NULL, \`autoRemove\` tinyint NOT NULL DEFAULT 0, \`createdAt\` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), PRIMARY KEY (\`alias\`)) ENGINE=InnoDB`);
        await queryRunner.query(`CREATE TABLE \`users\` (\`id\` int NOT NULL AUTO_INCREMENT, \`username\` varchar(64) NOT NULL, \`passwordHash\` varchar(255) NOT NULL, \`role\` varchar(16) NOT NULL, \`disabled\` tinyint NOT NULL DEFAULT 0, \`createdAt\` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), \`updatedAt\` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), UNIQUE INDEX \`IDX_fe0bb3f6520ee0469504521e71\` (\`username\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX \`IDX_fe0bb3f6520ee0469504521e71\` ON \`users\``);
        await queryRunner.query(`DROP TABLE \`users\``);
        await queryRunner.query(`DROP TABLE \`stream_aliases\``);
        await queryRunner.query(`DROP TABLE \`settings\``);
        await queryRunner.query(`DROP INDEX \`IDX_443d6e749f465766266078c37f\` ON \`recordings\``);
        await queryRunner.query(`DROP TABLE \`recordings\``);
        await queryRunner.query(`DROP INDEX \`IDX_3796358819ab8656f967fa36e1\` ON \`push_proxies\``);
        await queryRunner.query(`DROP INDEX \`IDX_e9a6990a785eb6d1adfc6d8fcc\` ON \`push_proxies\``);
        await queryRunner.query(`DROP TABLE \`push_proxies\``);
        await queryRunner.query(`DROP INDEX \`IDX_cf6fca82f7a62d0b9fd7cd3f04\` ON \`pull_proxies\``);
        await queryRunner.query(`DROP INDEX \`IDX_9a0a0d33cf67666f54347ed9ab\` ON \`pull_proxies\``);
        await queryRunner.query(`DROP TABLE \`pull_proxies\``);
        await queryRunner.query(`DROP INDEX \`IDX_f0517eec3f63f617ee5138edeb\` ON \`jobs\``);
        await queryRunner.query(`DROP INDEX \`IDX_921bac7793d4cd89ccb9ef3fd5\` ON \`jobs\``);
        await queryRunner.query(`DROP TABLE \`jobs\``);
        await queryRunner.query(`DROP INDEX \`IDX_925b24d7fc2f9324ce972aee02\` ON \`auth_sessions\``);
        await queryRunner.query(`DROP TABLE \`auth_sessions\``);
    }

}
