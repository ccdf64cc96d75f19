import { Type } from 'class-transformer';
import { IsArray, IsBoolean, IsIn, IsInt, IsString, Matches, Max, Min, registerDecorator, ValidateNested, ValidationOptions } from 'class-validator';
import { ByteSize, Duration, PluginSectionConfig } from '@m7s/core';
import { ipVersion, isIceServerUrl, parseAddressMapping, WEBRTC_AUDIO_CODECS, WEBRTC_VIDEO_CODECS } from './protocol';

function Each(name: string, message: string, test: (v: string) => boolean, options?: ValidationOptions): PropertyDecorator {
  return (target, key) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: key as string,
      options: { message, ...options },
      validator: { validate: (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string' && test(x)) },
    });
}

/** "min-max" with 1 <= min < max <= 65535 (werift needs two different bounds), or ''. */
function PortRange(): PropertyDecorator {
  return (target, key) =>
    registerDecorator({
      name: 'isPortRange',
      target: target.constructor,
      propertyName: key as string,
      options: { message: 'must have 1 <= min < max <= 65535' },
      validator: {
        validate: (v: unknown) => {
          if (v === '') return true;
          const m = typeof v === 'string' ? /^(\d+)-(\d+)$/.exec(v) : null;
          return m !== null && Number(m[1]) >= 1 && Number(m[1]) < Number(m[2]) && Number(m[2]) <= 65535;
        },
      },
    });
}

/** A STUN or TURN server handed to clients (and, with iceServersForServer, used by the server's ICE agent). */
export class IceServerConfig {
  @Each('isIceUrls', 'must be stun:, stuns:, turn: or turns: URLs', isIceServerUrl) urls: string[] = [];
  @IsString() username = '';
  @IsString() credential = '';
}

/** `webrtc` section: WHIP publish and WHEP play on werift peer connections, the session resource, the page. */
export class WebrtcConfig extends PluginSectionConfig {
  /** ICE UDP (and TCP) ports of the sessions' sockets, "min-max"; '' lets the OS pick. */
  @Matches(/^$|^([1-9]\d{0,4})-([1-9]\d{0,4})$/, { message: 'must be "min-max" (e.g. 9000-9999) or empty' })
  @PortRange()
  icePortRange = '9000-9999';
  /** Offer ICE over TCP too (passive host candidates). */
  @IsBoolean() iceUseTcp = false;
  /** Host candidates from IPv6 addresses too. */
  @IsBoolean() iceUseIpv6 = true;
  /** Addresses offered as host candidates beside the interfaces' own (loopback, interfaces the OS list leaves out). */
  @Each('isIpList', 'must be IP addresses', (v) => ipVersion(v) !== 0) iceHostAddresses: string[] = [];
  /** Where clients reach this server: "203.0.113.7" beside every host candidate of its IP version, "10.0.0.5=203.0.113.7" beside 10.0.0.5's; same port. */
  @Each('isAddressMappings', 'must be "PUBLIC_IP" or "PRIVATE_IP=PUBLIC_IP"', (v) => parseAddressMapping(v) !== undefined) publicAddresses: string[] = [];
  /** STUN/TURN servers given to clients: Link headers of the answers and the page. */
  @IsArray() @ValidateNested({ each: true }) @Type(() => IceServerConfig) iceServers: IceServerConfig[] = [];
  /** The server's ICE agent also uses the first STUN and TURN server of iceServers (server-reflexive and relay candidates). */
  @IsBoolean() iceServersForServer = false;
  /** A session whose ICE and DTLS are not connected within this long, or that lost its connection this long, is closed. */
  @Duration() connectTimeout = 15_000;
  /** Longest wait for the server's own candidates before the answer goes out. */
  @Duration() gatherTimeout = 5_000;
  /** Video codecs a WHIP publisher may send, in the server's order of preference. */
  @IsArray() @IsIn(WEBRTC_VIDEO_CODECS, { each: true }) videoCodecs: string[] = ['h264', 'h265', 'av1', 'vp9', 'vp8'];
  /** Audio codecs a WHIP publisher may send, in order of preference. */
  @IsArray() @IsIn(WEBRTC_AUDIO_CODECS, { each: true }) audioCodecs: string[] = ['opus', 'pcma', 'pcmu'];
  /** PLI to a WHIP publisher waiting for a key frame, and key-frame requests of WHEP players to a stream's publisher: at most this often. */
  @Duration() keyFrameInterval = 500;
  /** How long a WHIP publisher's packets wait for a missing (retransmitted) one. */
  @Duration() reorderDelay = 100;
  /** RTP payload size of packets this server sends. */
  @IsInt() @Min(300) @Max(1400) mtu = 1200;
  /** Largest SDP offer or trickle-ICE fragment accepted. */
  @ByteSize() maxSdpSize = 64 * 1024;
  /** Most WebRTC sessions at once; more are refused with 503. */
  @IsInt() @Min(1) maxSessions = 1000;
}

/** The icePortRange of a config, or undefined for OS ports. */
export function icePortRangeOf(config: WebrtcConfig): [number, number] | undefined {
  const m = /^(\d+)-(\d+)$/.exec(config.icePortRange);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2])];
}
