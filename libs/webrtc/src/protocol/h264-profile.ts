/**
 * H.264 profiles as WebRTC negotiates them (RFC 6184 profile-level-id: profile_idc, the constraint-flag byte
 * profile-iop, level_idc), read the way libwebrtc's h264_profile_level_id does.
 */
export type H264Profile = 'constrained-baseline' | 'baseline' | 'main' | 'constrained-high' | 'high' | 'predictive-high-444';

export interface H264ProfileLevel {
  profile: H264Profile;
  /** level_idc (31 = 3.1); level 1b reads as 9. */
  level: number;
}

/** profile_idc and a mask over profile-iop ('x' = any bit), in libwebrtc's order: the first match wins. */
const PATTERNS: readonly { idc: number; iop: string; profile: H264Profile }[] = [
  { idc: 0x42, iop: 'x1xx0000', profile: 'constrained-baseline' },
  { idc: 0x4d, iop: '1xxx0000', profile: 'constrained-baseline' },
  { idc: 0x58, iop: '11xx0000', profile: 'constrained-baseline' },
  { idc: 0x42, iop: 'x0xx0000', profile: 'baseline' },
  { idc: 0x58, iop: '10xx0000', profile: 'baseline' },
  { idc: 0x4d, iop: '0x0x0000', profile: 'main' },
  { idc: 0x64, iop: '00000000', profile: 'high' },
  { idc: 0x64, iop: '00001100', profile: 'constrained-high' },
  { idc: 0xf4, iop: '00000000', profile: 'predictive-high-444' },
];

function matches(iop: number, mask: string): boolean {
  for (let bit = 0; bit < 8; bit++) {
    const want = mask[bit];
    if (want !== 'x' && ((iop >> (7 - bit)) & 1) !== Number(want)) return false;
  }
  return true;
}

/** profile_idc, profile-iop and level_idc (the three bytes after an SPS's NAL header) as a profile and level. */
export function h264ProfileOfBytes(idc: number, iop: number, levelIdc: number): H264ProfileLevel | undefined {
  const pattern = PATTERNS.find((p) => p.idc === idc && matches(iop, p.iop));
  if (!pattern) return undefined;
  // Level 1b: level_idc 11 with constraint_set3 in the baseline/main profiles.
  const level = levelIdc === 11 && (iop & 0x10) !== 0 && (idc === 0x42 || idc === 0x4d || idc === 0x58) ? 9 : levelIdc;
  return { profile: pattern.profile, level };
}

/** An fmtp profile-level-id (6 hex digits); undefined when malformed or of an unknown profile. */
export function parseH264ProfileLevelId(value: string | undefined): H264ProfileLevel | undefined {
  if (value === undefined || !/^[0-9a-fA-F]{6}$/.test(value)) return undefined;
  const n = parseInt(value, 16);
  return h264ProfileOfBytes(n >> 16, (n >> 8) & 0xff, n & 0xff);
}

/** What an fmtp without profile-level-id means (RFC 6184 8.1: baseline, level 1; 42000a). */
export const DEFAULT_PROFILE_LEVEL_ID = '42000a';

/** The profiles whose decoders also decode a stream of `profile` (a decoder of a superset profile). */
const DECODERS_OF: Record<H264Profile, readonly H264Profile[]> = {
  'constrained-baseline': ['constrained-baseline', 'baseline', 'main', 'constrained-high', 'high', 'predictive-high-444'],
  baseline: ['baseline'],
  main: ['main', 'high', 'predictive-high-444'],
  'constrained-high': ['constrained-high', 'high', 'predictive-high-444'],
  high: ['high', 'predictive-high-444'],
  'predictive-high-444': ['predictive-high-444'],
};

/** Whether a receiver that offered `offered` has a decoder for a stream of `stream`'s profile (levels aside). */
export function h264Decodes(offered: H264ProfileLevel, stream: H264ProfileLevel): boolean {
  return DECODERS_OF[stream.profile].includes(offered.profile);
}
