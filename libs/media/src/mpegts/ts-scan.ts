import { TS_PACKET_SIZE, TS_SYNC_BYTE } from './ts-muxer';

export interface TsScan {
  /** Bytes of whole, well-formed packets from the start (a torn or corrupt tail is after this). */
  validEnd: number;
  /** Lowest and highest PES PTS seen, 90 kHz (undefined when there is none). */
  firstPts?: number;
  lastPts?: number;
  /** PES packets seen. */
  pesCount: number;
}

/**
 * Reads the timing of a transport stream written by TsMuxer (or any TS): the PTS range of its PES packets.
 * Used to rebuild HLS playlists from segment files. Never throws: stops at the first packet without sync byte.
 */
export function scanTs(buf: Buffer): TsScan {
  const scan: TsScan = { validEnd: 0, pesCount: 0 };
  for (let off = 0; off + TS_PACKET_SIZE <= buf.length; off += TS_PACKET_SIZE) {
    if (buf[off] !== TS_SYNC_BYTE) break;
    scan.validEnd = off + TS_PACKET_SIZE;
    const start = (buf[off + 1] & 0x40) !== 0;
    const control = (buf[off + 3] >> 4) & 3;
    if (!start || !(control & 1)) continue;
    const payload = off + 4 + (control & 2 ? buf[off + 4] + 1 : 0);
    if (payload + 14 > off + TS_PACKET_SIZE) continue;
    if (buf[payload] !== 0 || buf[payload + 1] !== 0 || buf[payload + 2] !== 1) continue; // PSI, not PES
    if ((buf[payload + 7] & 0x80) === 0) continue;
    const p = payload + 9;
    const pts = (buf[p] & 0x0e) * 2 ** 29 + buf[p + 1] * 2 ** 22 + (buf[p + 2] >> 1) * 2 ** 15 + buf[p + 3] * 2 ** 7 + (buf[p + 4] >> 1);
    scan.pesCount++;
    if (scan.firstPts === undefined || pts < scan.firstPts) scan.firstPts = pts;
    if (scan.lastPts === undefined || pts > scan.lastPts) scan.lastPts = pts;
  }
  return scan;
}
