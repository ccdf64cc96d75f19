import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { IsMediaUrl, NoControlChars, Optional } from '../common/validators';

export const PULL_SCHEMES = ['rtsp', 'rtsps', 'rtmp', 'rtmps', 'http', 'https'] as const;
export const PUSH_SCHEMES = ['rtmp', 'rtmps', 'rtsp', 'rtsps'] as const;
const PROXY_STATUSES = ['offline', 'online', 'pulling', 'pushing', 'disabled'];
export const RTSP_TRANSPORTS = ['tcp', 'udp', 'auto'] as const;
const RTSP_TRANSPORT_DOC = 'rtsp:// sources: RTP over the RTSP connection (tcp), over UDP (udp), or UDP falling back to TCP (auto)';

class ProxyFieldsDto {
  @ApiProperty({ example: 'camera-1', maxLength: 64 })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  @NoControlChars()
  name!: string;

  @ApiProperty({ example: 'live/camera1', description: 'Local stream path' })
  @IsString()
  @MaxLength(256)
  streamPath!: string;

  @ApiPropertyOptional({ default: true })
  @Optional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ default: true, description: 'Relay the audio track' })
  @Optional()
  @IsBoolean()
  audio?: boolean;

  @ApiPropertyOptional({ default: '', maxLength: 255 })
  @Optional()
  @IsString()
  @MaxLength(255)
  @NoControlChars()
  description?: string;
}

export class CreatePullProxyDto extends ProxyFieldsDto {
  @ApiProperty({ example: 'rtsp://192.168.1.10:554/stream1', description: `Source URL: ${PULL_SCHEMES.join(', ')}` })
  @IsString()
  @MaxLength(1024)
  @IsMediaUrl(PULL_SCHEMES)
  url!: string;

  @ApiPropertyOptional({ default: false, description: 'Pull when the server starts instead of when the first player asks' })
  @Optional()
  @IsBoolean()
  pullOnStart?: boolean;

  @ApiPropertyOptional({ default: 10000, description: 'An on-demand pull stops this long (ms) after its last player left' })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  stopOnIdleMs?: number;

  @ApiPropertyOptional({ default: false, description: 'Record the pulled stream' })
  @Optional()
  @IsBoolean()
  record?: boolean;

  @ApiPropertyOptional({ enum: RTSP_TRANSPORTS, default: 'tcp', description: RTSP_TRANSPORT_DOC })
  @Optional()
  @IsIn(RTSP_TRANSPORTS)
  rtspTransport?: (typeof RTSP_TRANSPORTS)[number];
}

export class CreatePushProxyDto extends ProxyFieldsDto {
  @ApiProperty({ example: 'rtmp://upstream.example.com/live/key', description: `Target URL: ${PUSH_SCHEMES.join(', ')}` })
  @IsString()
  @MaxLength(1024)
  @IsMediaUrl(PUSH_SCHEMES)
  url!: string;

  @ApiPropertyOptional({ default: true, description: 'Push as soon as the stream is published' })
  @Optional()
  @IsBoolean()
  pushOnStart?: boolean;
}

class IdDto {
  @ApiProperty({ example: 1 })
  @IsInt()
  @Min(1)
  @Max(2 ** 31 - 1)
  id!: number;
}

/** Monibuca's update: the id and the fields to change (status fields are read-only). */
export class UpdatePullProxyDto extends IdDto {
  @ApiPropertyOptional({ maxLength: 64 }) @Optional() @IsString() @MinLength(1) @MaxLength(64) @NoControlChars() name?: string;
  @ApiPropertyOptional() @Optional() @IsString() @MaxLength(256) streamPath?: string;
  @ApiPropertyOptional() @Optional() @IsString() @MaxLength(1024) @IsMediaUrl(PULL_SCHEMES) url?: string;
  @ApiPropertyOptional() @Optional() @IsBoolean() enabled?: boolean;
  @ApiPropertyOptional() @Optional() @IsBoolean() audio?: boolean;
  @ApiPropertyOptional({ maxLength: 255 }) @Optional() @IsString() @MaxLength(255) @NoControlChars() description?: string;
  @ApiPropertyOptional() @Optional() @IsBoolean() pullOnStart?: boolean;
  @ApiPropertyOptional() @Optional() @IsInt() @Min(0) @Max(86_400_000) stopOnIdleMs?: number;
  @ApiPropertyOptional() @Optional() @IsBoolean() record?: boolean;
  @ApiPropertyOptional({ enum: RTSP_TRANSPORTS, description: RTSP_TRANSPORT_DOC }) @Optional() @IsIn(RTSP_TRANSPORTS) rtspTransport?: (typeof RTSP_TRANSPORTS)[number];
}

export class UpdatePushProxyDto extends IdDto {
  @ApiPropertyOptional({ maxLength: 64 }) @Optional() @IsString() @MinLength(1) @MaxLength(64) @NoControlChars() name?: string;
  @ApiPropertyOptional() @Optional() @IsString() @MaxLength(256) streamPath?: string;
  @ApiPropertyOptional() @Optional() @IsString() @MaxLength(1024) @IsMediaUrl(PUSH_SCHEMES) url?: string;
  @ApiPropertyOptional() @Optional() @IsBoolean() enabled?: boolean;
  @ApiPropertyOptional() @Optional() @IsBoolean() audio?: boolean;
  @ApiPropertyOptional({ maxLength: 255 }) @Optional() @IsString() @MaxLength(255) @NoControlChars() description?: string;
  @ApiPropertyOptional() @Optional() @IsBoolean() pushOnStart?: boolean;
}

class ProxyStateDto {
  @ApiProperty() id!: number;
  @ApiProperty() name!: string;
  @ApiProperty() streamPath!: string;
  @ApiProperty() url!: string;
  @ApiProperty() enabled!: boolean;
  @ApiProperty() audio!: boolean;
  @ApiProperty() description!: string;
  @ApiProperty({ enum: PROXY_STATUSES, description: 'Read-only, kept by the relay' }) status!: string;
  @ApiProperty({ type: String, nullable: true, description: 'Read-only' }) lastError!: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Read-only: round-trip time to the remote, ms' }) rtt!: number | null;
  @ApiProperty({ description: 'ms since the epoch' }) createdAt!: number;
  @ApiProperty({ description: 'ms since the epoch' }) updatedAt!: number;
}

export class PullProxyDto extends ProxyStateDto {
  @ApiProperty() pullOnStart!: boolean;
  @ApiProperty() stopOnIdleMs!: number;
  @ApiProperty() record!: boolean;
  @ApiProperty({ enum: RTSP_TRANSPORTS }) rtspTransport!: string;
}

export class PushProxyDto extends ProxyStateDto {
  @ApiProperty() pushOnStart!: boolean;
}

export class PullProxyListDto {
  @ApiProperty({ type: [PullProxyDto] }) list!: PullProxyDto[];
}

export class PushProxyListDto {
  @ApiProperty({ type: [PushProxyDto] }) list!: PushProxyDto[];
}
