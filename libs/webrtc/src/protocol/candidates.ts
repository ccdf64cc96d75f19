const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** 4 for an IPv4 address, 6 for an IPv6 one, 0 for anything else (like node:net isIP, without the socket module). */
export function ipVersion(address: string): 0 | 4 | 6 {
  if (IPV4.test(address)) return 4;
  const halves = address.split('::');
  if (!address.includes(':') || halves.length > 2) return 0;
  const groups = halves.flatMap((h) => (h === '' ? [] : h.split(':')));
  const last = groups[groups.length - 1];
  const v4Tail = last !== undefined && IPV4.test(last);
  const hex = v4Tail ? groups.slice(0, -1) : groups;
  if (!hex.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return 0;
  const size = hex.length + (v4Tail ? 2 : 0);
  return (halves.length === 2 ? size <= 7 : size === 8) ? 6 : 0;
}

/**
 * An address clients reach this server at (public IP, 1:1 NAT): `to` is advertised beside host candidates
 * of `from` (every host candidate of the same IP version when `from` is unset), with the same port, as MediaMTX's additional
 * hosts and SRS's candidate do.
 */
export interface AddressMapping {
  from?: string;
  to: string;
}

/** `203.0.113.7` or `10.0.0.5=203.0.113.7`; undefined when either side is not an IP address. */
export function parseAddressMapping(entry: string): AddressMapping | undefined {
  const [left, right, extra] = entry.split('=').map((s) => s.trim());
  if (extra !== undefined) return undefined;
  if (right === undefined) return ipVersion(left) ? { to: left } : undefined;
  return ipVersion(left) && ipVersion(right) ? { from: left, to: right } : undefined;
}

interface ParsedCandidate {
  foundation: string;
  component: string;
  transport: string;
  priority: number;
  address: string;
  port: string;
  type: string;
  /** Everything after `typ <type>`. */
  rest: string[];
}

/** A `candidate:...` attribute value split into its fields; undefined when it is not one. */
export function parseCandidate(value: string): ParsedCandidate | undefined {
  const tokens = value.trim().replace(/^candidate:/, '').split(/\s+/);
  if (tokens.length < 8 || tokens[6] !== 'typ' || !/^\d+$/.test(tokens[3]) || !/^\d+$/.test(tokens[5])) return undefined;
  return { foundation: tokens[0], component: tokens[1], transport: tokens[2], priority: Number(tokens[3]), address: tokens[4], port: tokens[5], type: tokens[7], rest: tokens.slice(8) };
}

/** The candidates (`candidate:...` values) to add beside `candidates` for the mappings. */
export function mappedCandidates(candidates: readonly string[], mappings: readonly AddressMapping[]): string[] {
  const parsed = candidates.map(parseCandidate).filter((c): c is ParsedCandidate => c !== undefined);
  const taken = new Set(parsed.map((c) => `${c.transport.toLowerCase()} ${c.address} ${c.port}`));
  const out: string[] = [];
  for (const c of parsed) {
    if (c.type !== 'host') continue;
    // An active TCP candidate has no port to reach (RFC 6544: port 9).
    const tcptype = c.rest.indexOf('tcptype');
    if (tcptype >= 0 && c.rest[tcptype + 1] === 'active') continue;
    mappings.forEach((m, i) => {
      if (m.from !== undefined ? m.from !== c.address : ipVersion(c.address) !== ipVersion(m.to)) return;
      const key = `${c.transport.toLowerCase()} ${m.to} ${c.port}`;
      if (taken.has(key)) return;
      taken.add(key);
      const foundation = `${c.foundation.slice(0, 28)}n${i}`;
      const priority = Math.max(1, c.priority - 1 - i);
      out.push(['candidate:' + foundation, c.component, c.transport, priority, m.to, c.port, 'typ', 'host', ...c.rest].join(' '));
    });
  }
  return out;
}

/**
 * An SDP (the answer) with the mapped candidates written after the candidates of each media section they
 * come from. Lines keep their end (CRLF).
 */
export function withMappedCandidates(sdp: string, mappings: readonly AddressMapping[]): string {
  if (mappings.length === 0) return sdp;
  const lines = sdp.split(/\r\n/);
  const out: string[] = [];
  let section: string[] = [];
  const flush = () => {
    const candidates = section.filter((l) => l.startsWith('a=candidate:')).map((l) => l.slice(2));
    const extra = mappedCandidates(candidates, mappings).map((c) => `a=${c}`);
    if (extra.length > 0) {
      let last = -1;
      section.forEach((l, i) => {
        if (l.startsWith('a=candidate:')) last = i;
      });
      section.splice(last + 1, 0, ...extra);
    }
    out.push(...section);
    section = [];
  };
  for (const line of lines) {
    if (line.startsWith('m=')) flush();
    section.push(line);
  }
  flush();
  return out.join('\r\n');
}
