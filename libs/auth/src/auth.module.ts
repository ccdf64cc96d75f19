import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { randomBytes } from 'node:crypto';
import { ConfigService, StreamAuth } from '@m7s/core';
import { SettingsService } from '@m7s/persistence';
import type { AuthConfig } from './auth.config';
import { AuthController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { AuthService, JWT_SECRET_SETTING } from './auth.service';
import { SessionService } from './session.service';
import { StreamAuthService } from './stream-auth.service';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

/** auth.jwtSecret, else the secret generated on the first start and kept in the settings table. */
async function jwtSecret(config: ConfigService, settings: SettingsService): Promise<string> {
  const configured = config.section<AuthConfig>('auth').jwtSecret;
  return configured || settings.getOrCreate(JWT_SECRET_SETTING, () => randomBytes(48).toString('base64url'));
}

/** Users, JWT, roles and permissions, the API guard (on every route and gRPC method), stream authorization. */
@Global()
@Module({
  imports: [
    JwtModule.registerAsync({
      inject: [ConfigService, SettingsService],
      useFactory: async (config: ConfigService, settings: SettingsService) => ({
        secret: await jwtSecret(config, settings),
        signOptions: { algorithm: 'HS256' },
        verifyOptions: { algorithms: ['HS256'] },
      }),
    }),
  ],
  controllers: [AuthController, UsersController],
  providers: [
    SessionService,
    UsersService,
    AuthService,
    { provide: APP_GUARD, useClass: AuthGuard },
    { provide: StreamAuth, useClass: StreamAuthService },
  ],
  exports: [AuthService, UsersService, SessionService, StreamAuth],
})
export class AuthModule {}
