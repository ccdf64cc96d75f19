import { MediaError } from '@m7s/media';

/** A remote candidate of a trickle-ICE fragment, as addIceCandidate takes it. */
export interface FragCandidate {
  /** `candidate:...` (the attribute without `a=`). */
  candidate: string;
  /** The a=mid of the m-line it is under, if any. */
  sdpMid?: string;
  /** Position of that m-line in the fragment. */
  sdpMLineIndex: number;
}

/** An application/trickle-ice-sdpfrag body (RFC 8840) of a WHIP/WHEP PATCH (RFC 9725 4.3). */
export interface SdpFrag {
  /** ICE credentials when the fragment names them (new ones mean an ICE restart). */
  iceUfrag?: string;
  icePwd?: string;
  candidates: FragCandidate[];
  endOfCandidates: boolean;
}

export interface SdpFragLimits {
  maxBytes: number;
  maxCandidates: number;
}

/** RFC 8445 ice-char: ALPHA / DIGIT / "+" / "/". */
const ICE_CHARS = /^[A-Za-z0-9+/]+$/;
/** `candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> [...]` (RFC 8839 5.1). */
const CANDIDATE = /^candidate:[A-Za-z0-9+/]{1,32} \d{1,3} [A-Za-z]{1,16} \d{1,10} [0-9A-Za-z.:\-_%]{1,253} \d{1,5} typ [a-z]{1,10}(?: [\x21-\x7e]{1,253})*$/;

function bad(reason: string): never {
  throw new MediaError('BAD_SDP', reason);
}

/**
 * Reads a trickle-ICE fragment: ice-ufrag/ice-pwd (session or media level), the candidates under each
 * m-line (with its mid) and a=end-of-candidates. Lines it does not use (ice-options, group, m= details)
 * are skipped. Throws MediaError('BAD_SDP') for a malformed candidate or credential, or over the limits.
 */
export function parseSdpFrag(text: string, limits: SdpFragLimits): SdpFrag {
  if (Buffer.byteLength(text) > limits.maxBytes) bad(`fragment over ${limits.maxBytes} bytes`);
  const frag: SdpFrag = { candidates: [], endOfCandidates: false };
  let mLineIndex = -1;
  let mid: string | undefined;
  for (const raw of text.split(/\r\n|\n|\r/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('m=')) {
      mLineIndex++;
      mid = undefined;
      continue;
    }
    if (!line.startsWith('a=')) continue;
    const colon = line.indexOf(':');
    const name = (colon < 0 ? line.slice(2) : line.slice(2, colon)).toLowerCase();
    const value = colon < 0 ? '' : line.slice(colon + 1).trim();
    switch (name) {
      case 'ice-ufrag':
        if (value.length < 4 || value.length > 256 || !ICE_CHARS.test(value)) bad('a=ice-ufrag must be 4 to 256 ice-chars');
        if (frag.iceUfrag !== undefined && frag.iceUfrag !== value) bad('two different a=ice-ufrag values');
        frag.iceUfrag = value;
        break;
      case 'ice-pwd':
        if (value.length < 22 || value.length > 256 || !ICE_CHARS.test(value)) bad('a=ice-pwd must be 22 to 256 ice-chars');
        if (frag.icePwd !== undefined && frag.icePwd !== value) bad('two different a=ice-pwd values');
        frag.icePwd = value;
        break;
      case 'mid':
        mid = value;
        break;
      case 'candidate': {
        const candidate = line.slice(2).replace(/\s+/g, ' ');
        if (!CANDIDATE.test(candidate)) bad(`malformed candidate '${candidate.slice(0, 80)}'`);
        if (frag.candidates.length >= limits.maxCandidates) bad(`more than ${limits.maxCandidates} candidates`);
        frag.candidates.push({ candidate, sdpMid: mid, sdpMLineIndex: Math.max(0, mLineIndex) });
        break;
      }
      case 'end-of-candidates':
        frag.endOfCandidates = true;
        break;
      default:
        break;
    }
  }
  if ((frag.iceUfrag === undefined) !== (frag.icePwd === undefined)) bad('a=ice-ufrag and a=ice-pwd go together');
  return frag;
}

export interface ServerFragMedia {
  kind: string;
  mid: string | undefined;
  formats: readonly string[];
}

/**
 * The server's fragment answering an ICE restart (RFC 9725 4.3.2): its new credentials, then the m-lines,
 * the candidates (bundled: under the first) and a=end-of-candidates.
 */
export function buildSdpFrag(o: { iceUfrag: string; icePwd: string; media: readonly ServerFragMedia[]; candidates: readonly string[] }): string {
  const lines = [`a=ice-ufrag:${o.iceUfrag}`, `a=ice-pwd:${o.icePwd}`];
  const mids = o.media.map((m) => m.mid).filter((m): m is string => m !== undefined);
  if (mids.length > 0) lines.push(`a=group:BUNDLE ${mids.join(' ')}`);
  o.media.forEach((m, i) => {
    lines.push(`m=${m.kind} 9 UDP/TLS/RTP/SAVPF ${m.formats.length ? m.formats.join(' ') : '0'}`);
    if (m.mid !== undefined) lines.push(`a=mid:${m.mid}`);
    if (i === 0) {
      for (const c of o.candidates) lines.push(`a=${c}`);
      lines.push('a=end-of-candidates');
    }
  });
  return lines.map((l) => `${l}\r\n`).join('');
}
