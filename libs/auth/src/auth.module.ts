import { Global, Module } from '@nestjs/common';

/** Users, JWT, roles and permissions, the API guard, stream authorization (filled by the auth work). */
@Global()
@Module({})
export class AuthModule {}
