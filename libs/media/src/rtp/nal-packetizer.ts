import type { RtpPayload } from './rtp-packet';

/** How one codec's NAL units go into RTP (RFC 6184 for H.264, RFC 7798 for H.265). */
export interface NalPacketization {
  /** Size of the aggregation packet's own header (STAP-A: 1, AP: 2). */
  aggregateHeaderSize: number;
  /** Whether a unit can be sent (empty units and types the receiver would misread are skipped). */
  isCarriable(nal: Buffer): boolean;
  /** An aggregation packet of `nals` (each with a 16-bit size prefix), `size` bytes in all. */
  aggregate(nals: readonly Buffer[], size: number): Buffer;
  /** Fragmentation-unit payloads of a unit larger than the MTU, appended to `out`. */
  fragment(nal: Buffer, mtu: number, out: Buffer[]): void;
}

/**
 * One access unit's NAL units as RTP payloads of at most `mtu` bytes: single-unit packets, runs of small
 * units aggregated (when `aggregate`), fragmentation units for units over the MTU; the marker on the last
 * payload only. Single-unit payloads are the input Buffers themselves (no copy).
 */
export function packetizeNals(nals: readonly Buffer[], mtu: number, aggregate: boolean, codec: NalPacketization): RtpPayload[] {
  const out: Buffer[] = [];
  let group: Buffer[] = [];
  let groupSize = codec.aggregateHeaderSize;

  const flush = () => {
    if (group.length === 1) out.push(group[0]);
    else if (group.length > 1) out.push(codec.aggregate(group, groupSize));
    group = [];
    groupSize = codec.aggregateHeaderSize;
  };

  for (const nal of nals) {
    if (!codec.isCarriable(nal)) continue;
    if (nal.length > mtu) {
      flush();
      codec.fragment(nal, mtu, out);
    } else if (!aggregate) {
      out.push(nal);
    } else {
      // a lone unit goes out as a single NAL unit packet, so it only has to fit the MTU by itself
      if (group.length > 0 && groupSize + 2 + nal.length > mtu) flush();
      group.push(nal);
      groupSize += 2 + nal.length;
    }
  }
  flush();
  return out.map((payload, i) => ({ payload, marker: i === out.length - 1 }));
}
