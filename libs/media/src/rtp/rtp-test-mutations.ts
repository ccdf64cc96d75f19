/**
 * Spec helpers for the frame depacketizer specs (VP8, VP9, AV1; not exported from the lib): damage a packet
 * stream the ways a network does, then feed it to a depacketizer checking only MediaError and bounded memory.
 */
import fc from 'fast-check';
import { MediaError } from '../media.errors';
import type { RtpFrameDepacketizer, RtpFramePart, RtpVideoFrame } from './frame-depacketizer';
import type { RtpPacket } from './rtp-packet';

export type PacketMutation = { kind: 'drop' | 'dup' | 'swap' | 'flip'; i: number; j: number; bit: number };

export const packetMutationArb: fc.Arbitrary<PacketMutation> = fc.record({ kind: fc.constantFrom('drop', 'dup', 'swap', 'flip'), i: fc.nat(), j: fc.nat(), bit: fc.nat() });

/** The packets (with payloads copied, so flips do not touch the originals) after the mutations. */
export function mutatePackets(packets: readonly RtpPacket[], mutations: readonly PacketMutation[]): RtpPacket[] {
  const pkts = packets.map((p) => ({ ...p, payload: Buffer.from(p.payload) }));
  for (const o of mutations) {
    if (pkts.length === 0) break;
    const i = o.i % pkts.length;
    const j = o.j % pkts.length;
    if (o.kind === 'drop') pkts.splice(i, 1);
    else if (o.kind === 'dup') pkts.splice(j, 0, pkts[i]);
    else if (o.kind === 'swap') [pkts[i], pkts[j]] = [pkts[j], pkts[i]];
    else if (pkts[i].payload.length) pkts[i].payload[o.bit % pkts[i].payload.length] ^= 1 << (o.bit % 8);
  }
  return pkts;
}

/** Frames out of the packets; anything thrown but MediaError, or more than `maxHeld` bytes buffered, fails. */
export function depacketizeAll(d: Pick<RtpFrameDepacketizer<RtpFramePart, unknown>, 'push' | 'bufferedBytes'>, packets: readonly RtpPacket[], maxHeld: number): RtpVideoFrame[] {
  const out: RtpVideoFrame[] = [];
  for (const p of packets) {
    try {
      out.push(...d.push(p));
    } catch (e) {
      if (!(e instanceof MediaError)) throw e;
    }
    if (d.bufferedBytes > maxHeld) throw new Error(`${d.bufferedBytes} bytes held`);
  }
  return out;
}
