import type { MediaKind, RtpTrackFormat } from '@m7s/media';
import type { OfferCodec } from './offer';

/** The RTP format the ingest reads for a negotiated WebRTC codec (what rtpFormatOfSdpMedia gives for RTSP). */
export function rtpFormatOfCodec(kind: MediaKind, codec: OfferCodec): RtpTrackFormat {
  return { kind, payloadType: codec.payloadType, encoding: codec.encoding, clockRate: codec.clockRate, channels: codec.channels, fmtp: { ...codec.fmtp } };
}
