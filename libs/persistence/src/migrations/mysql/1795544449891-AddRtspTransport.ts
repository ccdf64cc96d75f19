import { MigrationInterface, QueryRunner } from "typeorm";

export class AddRtspTransport1795544449891 implements MigrationInterface {
    name = 'AddRtspTransport1795544449891'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE \`pull_proxies\` ADD \`rtspTransport\` varchar(8) NOT NULL DEFAULT 'tcp'`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE \`pull_proxies\` DROP COLUMN \`rtspTransport\``);
    }

}
