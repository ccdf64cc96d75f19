import { Controller, Get, Headers, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { AppError, ConfigService } from '@m7s/core';
import { AuthService, BEARER_SECURITY, Permission, Public, roleHas } from '@m7s/auth';
import type { MetricsConfig } from '../observability.config';
import { MetricsService } from './metrics.service';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * GET /api/metrics. Open to any scraper when metrics.public is true; otherwise it needs an access token
 * whose role has the metrics permission. A decorator cannot follow the config, so the route is Public() for
 * the guard and checks the token itself when the config asks for one.
 */
@ApiTags('observability')
@Controller('api/metrics')
export class MetricsController {
  private readonly config: MetricsConfig;

  constructor(
    private readonly metrics: MetricsService,
    private readonly auth: AuthService,
    config: ConfigService,
  ) {
    this.config = config.section<MetricsConfig>('metrics');
  }

  @Get()
  @Public()
  @ApiOperation({
    summary: 'Prometheus metrics: process, streams, players per protocol, bytes, bitrate and fps per stream, queues',
    description: `Without a token when metrics.public is true; otherwise a bearer token with the \`${Permission.Metrics}\` permission.`,
  })
  // security [{}, {bearer: []}]: the token is optional (it depends on metrics.public).
  @ApiSecurity({})
  @ApiBearerAuth(BEARER_SECURITY)
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4', schema: { type: 'string' } })
  @ApiUnauthorizedResponse({ description: 'metrics.public is false and there is no valid token (UNAUTHENTICATED)' })
  @ApiForbiddenResponse({ description: `metrics.public is false and the role lacks the \`${Permission.Metrics}\` permission (PERMISSION_DENIED)` })
  @ApiNotFoundResponse({ description: 'metrics.enable is false (NOT_FOUND)' })
  async scrape(@Headers('authorization') authorization: string | undefined, @Res() res: Response): Promise<void> {
    if (!this.config.enable) throw new AppError('NOT_FOUND', 'metrics are disabled (metrics.enable)');
    if (!this.config.public) await this.authorize(authorization);
    const text = await this.metrics.render();
    // end(), not send(): send() would rewrite the content type's parameters.
    res.setHeader('Content-Type', this.metrics.contentType);
    res.end(text);
  }

  private async authorize(authorization: string | undefined): Promise<void> {
    const user = await this.auth.authenticate(authorization ? BEARER.exec(authorization)?.[1] : undefined);
    if (!roleHas(user.role, Permission.Metrics)) {
      throw new AppError('PERMISSION_DENIED', `role ${user.role} lacks the ${Permission.Metrics} permission`, { permission: Permission.Metrics });
    }
  }
}
