import { Type } from 'class-transformer';
import { IsInt, IsString, Max, Min, ValidateNested } from 'class-validator';
import { ByteSize, Duration, IsListen, PluginSectionConfig } from '@m7s/core';

export class RtmpTlsConfig {
  /** RTMPS listener, used only when cert and key are set. */
  @IsListen() listen = ':1936';
  /** PEM files. */
  @IsString() cert = '';
  @IsString() key = '';
}

export class RtmpConfig extends PluginSectionConfig {
  @IsListen() listen = ':1935';
  /** Chunk size this server sends with. */
  @IsInt() @Min(128) @Max(65536) chunkSize = 4096;
  /** Largest message accepted from a peer. */
  @ByteSize() maxMessageSize = 16 * 1024 * 1024;
  /** Handshake and connect must complete within this time. */
  @Duration() handshakeTimeout = 10_000;
  @IsInt() @Min(0) windowAckSize = 2_500_000;
  @IsInt() @Min(1) maxConnections = 10_000;
  @ValidateNested() @Type(() => RtmpTlsConfig) tls = new RtmpTlsConfig();
}
