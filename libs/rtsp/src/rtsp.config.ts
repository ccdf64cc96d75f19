import { Type } from 'class-transformer';
import { IsArray, IsBoolean, IsIn, IsInt, IsIP, IsString, Max, Min, ValidateNested } from 'class-validator';
import { ByteSize, Duration, IsListen, PluginSectionConfig } from '@m7s/core';

export class RtspTlsConfig {
  /** RTSPS listener, used only when cert and key are set. */
  @IsListen() listen = ':8322';
  /** PEM files. */
  @IsString() cert = '';
  @IsString() key = '';
}

export class RtspUdpConfig {
  /** Offer RTP over UDP (unicast) in SETUP. */
  @IsBoolean() enable = true;
  /** Server RTP/RTCP port pairs are taken from this range (RTP even, RTCP the next odd port). */
  @IsInt() @Min(1024) @Max(65534) portMin = 20000;
  @IsInt() @Min(1025) @Max(65535) portMax = 20999;
}

export class RtspMulticastConfig {
  /** Offer UDP multicast play (Transport: RTP/AVP;multicast): one group per stream track, shared by every player. */
  @IsBoolean() enable = false;
  /** Groups are allocated from here upward (one per track). */
  @IsIP(4) addressBase = '239.255.42.1';
  /** Ports for the groups (RTP even, RTCP odd). */
  @IsInt() @Min(1024) @Max(65534) portMin = 21000;
  @IsInt() @Min(1025) @Max(65535) portMax = 21999;
  @IsInt() @Min(1) @Max(255) ttl = 16;
  /** Interface address multicast is sent from ('' = the system's choice). */
  @IsString() interface = '';
}

export class RtspConfig extends PluginSectionConfig {
  @IsListen() listen = ':8554';
  /** Lower transports a client may choose in SETUP. */
  @IsArray() @IsIn(['tcp', 'udp', 'multicast'], { each: true }) transports: string[] = ['tcp', 'udp', 'multicast'];
  /** A session that sends no request, RTCP or RTP (publish) for this long is closed. */
  @Duration() sessionTimeout = 60_000;
  /** Largest RTSP header block and body accepted. */
  @ByteSize() maxHeaderSize = 8192;
  @ByteSize() maxBodySize = 65536;
  /** Largest interleaved ($) frame accepted; more closes the connection. */
  @ByteSize() maxInterleavedSize = 65535;
  /** RTP payload size for packets this server sends. */
  @IsInt() @Min(300) @Max(65000) mtu = 1200;
  /** How long a publisher's UDP packets wait for a missing one before the gap is accepted. */
  @Duration() reorderDelay = 100;
  /** Authentication schemes offered when stream credentials are configured (streamAuth.users). */
  @IsArray() @IsIn(['basic', 'digest'], { each: true }) authMethods: string[] = ['digest', 'basic'];
  @IsString() realm = 'm7s';
  @IsInt() @Min(1) maxConnections = 10_000;
  @ValidateNested() @Type(() => RtspUdpConfig) udp = new RtspUdpConfig();
  @ValidateNested() @Type(() => RtspMulticastConfig) multicast = new RtspMulticastConfig();
  @ValidateNested() @Type(() => RtspTlsConfig) tls = new RtspTlsConfig();
}
