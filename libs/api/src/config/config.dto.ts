import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsString, Matches, MaxLength } from 'class-validator';
import { Optional } from '../common/validators';

export class ConfigViewDto {
  @ApiProperty({ example: 'publish', description: 'Section name; empty for the whole config' }) name!: string;
  @ApiProperty({ description: 'The effective value (defaults < file < environment < API changes), secrets masked', type: 'object', additionalProperties: true })
  value!: unknown;
  @ApiProperty({ description: 'What the API changed (persisted), secrets masked', type: 'object', additionalProperties: true, nullable: true })
  modified!: unknown;
}

export class ModifyConfigDto {
  @ApiPropertyOptional({ example: 'subscribe', description: 'A section (publish, subscribe, rtmp, webhook...); without it `values` is a partial tree of sections' })
  @Optional()
  @IsString()
  @MaxLength(64)
  @Matches(/^[A-Za-z][A-Za-z0-9]*$/, { message: 'name must be a config section name (letters and digits)' })
  name?: string;

  @ApiProperty({
    example: { waitTimeout: '5s' },
    description: 'The keys to change (a partial section). null resets a key to the value below the API (file, environment or default)',
    type: 'object',
    additionalProperties: true,
  })
  @IsObject()
  values!: Record<string, unknown>;
}

export class ModifyConfigResultDto {
  @ApiProperty({ example: true }) success!: boolean;
  @ApiProperty({ type: [String], example: ['subscribe.waitTimeout'], description: 'Changed keys in effect now (for new sessions)' }) applied!: string[];
  @ApiProperty({ type: [String], example: ['rtmp.listen'], description: 'Changed keys that take effect at the next start' }) restartRequired!: string[];
  @ApiProperty({ type: [String], description: 'Keys sent whose effective value did not change' }) unchanged!: string[];
}
