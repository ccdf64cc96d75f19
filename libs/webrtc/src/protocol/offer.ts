import { MediaError, mediaDirection, parseFmtp, parseRtpmap, parseSdp, SdpDirection, sdpAttribute, sdpAttributes, SessionDescription, writeSdp } from '@m7s/media';

/** One payload format of an offered m-line: its rtpmap, fmtp and rtcp-fb lines. */
export interface OfferCodec {
  payloadType: number;
  /** Upper-case encoding name (H264, H265, VP8, VP9, AV1, OPUS, PCMA, PCMU, RTX...); HEVC reads as H265, AV1X as AV1. */
  encoding: string;
  clockRate: number;
  channels?: number;
  /** fmtp parameters, names lower-cased. */
  fmtp: Record<string, string>;
  /** rtcp-fb values for this payload type (and for `*`). */
  feedback: string[];
}

export interface OfferMedia {
  /** Position among the m-lines. */
  index: number;
  /** audio, video, application... */
  kind: string;
  mid: string | undefined;
  direction: SdpDirection;
  codecs: OfferCodec[];
}

export interface WebrtcOffer {
  sdp: SessionDescription;
  media: OfferMedia[];
  /** ICE credentials of the first m-line that has them (or of the session level). */
  iceUfrag: string;
  icePwd: string;
}

export interface OfferLimits {
  maxBytes: number;
}

/** RFC 3551 static payload types a browser may offer without rtpmap. */
const STATIC_PAYLOADS: Record<number, { encoding: string; clockRate: number; channels: number }> = {
  0: { encoding: 'PCMU', clockRate: 8000, channels: 1 },
  8: { encoding: 'PCMA', clockRate: 8000, channels: 1 },
};

function bad(reason: string): never {
  throw new MediaError('BAD_SDP', reason);
}

function normalizeEncoding(name: string): string {
  const upper = name.toUpperCase();
  if (upper === 'HEVC') return 'H265';
  if (upper === 'AV1X') return 'AV1';
  return upper;
}

/**
 * Reads a WebRTC offer (WHIP/WHEP body): an SDP with ICE credentials and a DTLS fingerprint, and its
 * audio/video payload formats. Throws MediaError('BAD_SDP') with the reason for anything else.
 */
export function parseOffer(text: string, limits: OfferLimits): WebrtcOffer {
  const sdp = parseSdp(text, { maxBytes: limits.maxBytes, maxMedia: 16, maxAttributes: 1024 });
  if (sdp.media.length === 0) bad('the offer has no m-line');
  const session = sdp.attributes;
  let iceUfrag = sdpAttribute(session, 'ice-ufrag');
  let icePwd = sdpAttribute(session, 'ice-pwd');
  let fingerprint = sdpAttribute(session, 'fingerprint');
  const media: OfferMedia[] = sdp.media.map((m, index) => {
    iceUfrag ||= sdpAttribute(m.attributes, 'ice-ufrag');
    icePwd ||= sdpAttribute(m.attributes, 'ice-pwd');
    fingerprint ||= sdpAttribute(m.attributes, 'fingerprint');
    const kind = m.type.toLowerCase();
    const entry: OfferMedia = { index, kind, mid: sdpAttribute(m.attributes, 'mid'), direction: mediaDirection(m, sdp), codecs: [] };
    if (kind !== 'audio' && kind !== 'video') return entry;
    if (!/SAVPF$/i.test(m.protocol)) bad(`m-line ${index} (${kind}) uses ${m.protocol}, not UDP/TLS/RTP/SAVPF`);
    entry.codecs = offeredCodecs(m.formats, m.attributes);
    return entry;
  });
  if (!iceUfrag || !icePwd) bad('the offer has no a=ice-ufrag / a=ice-pwd');
  if (!fingerprint) bad('the offer has no a=fingerprint (DTLS)');
  return { sdp, media, iceUfrag, icePwd };
}

function offeredCodecs(formats: readonly string[], attributes: SessionDescription['attributes']): OfferCodec[] {
  const rtpmaps = new Map<number, { encoding: string; clockRate: number; channels?: number }>();
  for (const value of sdpAttributes(attributes, 'rtpmap')) {
    try {
      const map = parseRtpmap(value);
      rtpmaps.set(map.payloadType, map);
    } catch {
      // an unreadable rtpmap leaves its format unusable
    }
  }
  const fmtps = new Map<number, Record<string, string>>();
  for (const value of sdpAttributes(attributes, 'fmtp')) {
    try {
      const fmtp = parseFmtp(value);
      if (!fmtps.has(fmtp.payloadType)) fmtps.set(fmtp.payloadType, fmtp.params);
    } catch {
      // ignored like an unreadable rtpmap
    }
  }
  const feedback = sdpAttributes(attributes, 'rtcp-fb').map((v) => /^(\*|\d{1,3})\s+(.+)$/.exec(v.trim())).filter((m) => m !== null);
  const codecs: OfferCodec[] = [];
  for (const format of formats) {
    if (!/^\d{1,3}$/.test(format)) continue;
    const payloadType = Number(format);
    if (payloadType > 127 || codecs.some((c) => c.payloadType === payloadType)) continue;
    const map = rtpmaps.get(payloadType) ?? STATIC_PAYLOADS[payloadType];
    if (!map) continue;
    codecs.push({
      payloadType,
      encoding: normalizeEncoding(map.encoding),
      clockRate: map.clockRate,
      channels: map.channels,
      fmtp: { ...(fmtps.get(payloadType) ?? {}) },
      feedback: feedback.filter((m) => m[1] === '*' || Number(m[1]) === payloadType).map((m) => m[2].trim()),
    });
  }
  return codecs;
}

/** An mDNS host name (`<uuid>.local`) a browser hides its address behind: a server cannot resolve it usefully. */
export function isMdnsCandidate(candidate: string): boolean {
  return /^(?:candidate:)?\S+ \S+ \S+ \S+ \S+\.local /i.test(candidate.trim());
}

/**
 * The offer with each audio/video m-line reduced to the payload types chosen for it (`keep`, by m-line
 * index; m-lines not in it are left as they are): their rtpmap, fmtp and rtcp-fb lines stay, the others'
 * go. The peer connection then answers with exactly those formats. mDNS candidates go too: the browser's
 * connectivity checks reveal its address (a peer-reflexive candidate) anyway.
 */
export function pruneOffer(offer: WebrtcOffer, keep: ReadonlyMap<number, readonly number[]>): WebrtcOffer {
  const sdpMedia = offer.sdp.media.map((m, index) => {
    const pts = keep.get(index);
    const candidates = m.attributes.filter((a) => !(a.name.toLowerCase() === 'candidate' && isMdnsCandidate(a.value ?? '')));
    if (!pts) return { ...m, attributes: candidates };
    const kept = new Set(pts.map(String));
    const attributes = candidates.filter((a) => {
      const name = a.name.toLowerCase();
      if (name !== 'rtpmap' && name !== 'fmtp' && name !== 'rtcp-fb') return true;
      const pt = /^\s*(\*|\d{1,3})/.exec(a.value ?? '')?.[1];
      return pt === '*' || (pt !== undefined && kept.has(String(Number(pt))));
    });
    return { ...m, formats: m.formats.filter((f) => kept.has(String(Number(f)))), attributes };
  });
  const media = offer.media.map((m) => {
    const pts = keep.get(m.index);
    return pts ? { ...m, codecs: m.codecs.filter((c) => pts.includes(c.payloadType)) } : m;
  });
  return { ...offer, sdp: { ...offer.sdp, media: sdpMedia }, media };
}

/** The offer as SDP text. */
export function offerSdp(offer: WebrtcOffer): string {
  return writeSdp(offer.sdp);
}

/** An earlier offer with new ICE credentials everywhere they are written (an ICE restart asked by PATCH). */
export function offerWithIceCredentials(offer: WebrtcOffer, ufrag: string, pwd: string): WebrtcOffer {
  const replace = (attrs: SessionDescription['attributes']) =>
    attrs.map((a) => {
      const name = a.name.toLowerCase();
      if (name === 'ice-ufrag') return { name: a.name, value: ufrag };
      if (name === 'ice-pwd') return { name: a.name, value: pwd };
      return a;
    });
  const version = /^\d{1,15}$/.test(offer.sdp.origin.sessionVersion) ? String(Number(offer.sdp.origin.sessionVersion) + 1) : '1';
  const sdp: SessionDescription = {
    ...offer.sdp,
    origin: { ...offer.sdp.origin, sessionVersion: version },
    attributes: replace(offer.sdp.attributes),
    media: offer.sdp.media.map((m) => ({ ...m, attributes: replace(m.attributes).filter((a) => a.name.toLowerCase() !== 'candidate') })),
  };
  return { ...offer, sdp, iceUfrag: ufrag, icePwd: pwd };
}
