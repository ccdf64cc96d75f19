import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class LivenessDto {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
}

export class ReadinessDto {
  @ApiProperty({ enum: ['ok', 'error'] }) status!: 'ok' | 'error';
  @ApiProperty({
    description: 'Each dependency checked: db always, redis when redis.url is set',
    example: { db: 'up', redis: 'up' },
    additionalProperties: { type: 'string', enum: ['up', 'down'] },
  })
  checks!: Record<string, 'up' | 'down'>;
  @ApiPropertyOptional({
    description: 'Why each failing check failed',
    example: { redis: 'connect ECONNREFUSED 127.0.0.1:6379' },
    additionalProperties: { type: 'string' },
  })
  errors?: Record<string, string>;
}
