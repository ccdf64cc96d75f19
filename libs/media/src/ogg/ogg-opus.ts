import { opusPacketSamples, parseOpusHead } from '../codecs/opus';
import { MediaError } from '../media.errors';
import { OGG_BOS, OGG_EOS, OggReader, OggWriter } from './ogg';

/** An OpusTags comment header (RFC 7845 5.2) with a vendor string and no comments. */
export function buildOpusTags(vendor = 'm7s-nest'): Buffer {
  const v = Buffer.from(vendor, 'utf8');
  const out = Buffer.alloc(8 + 4 + v.length + 4);
  out.write('OpusTags', 0, 'latin1');
  out.writeUInt32LE(v.length, 8);
  v.copy(out, 12);
  out.writeUInt32LE(0, 12 + v.length);
  return out;
}

/**
 * Ogg Opus (RFC 7845) out of Opus packets: the ID and comment headers on their own pages, then one page per
 * packet (so a reader gets each packet at once), granule positions counted from the packets' durations.
 */
export class OggOpusWriter {
  private readonly ogg: OggWriter;
  private granule = 0;

  constructor(serial: number) {
    this.ogg = new OggWriter(serial);
  }

  /** The two header pages; `head` is an OpusHead. */
  headers(head: Buffer, vendor?: string): Buffer {
    parseOpusHead(head);
    return Buffer.concat([this.ogg.page([head], 0), this.ogg.page([buildOpusTags(vendor)], 0)]);
  }

  /** A page with one packet. Throws MediaError for an empty packet. */
  packet(data: Buffer): Buffer {
    this.granule += opusPacketSamples(data);
    return this.ogg.page([data], this.granule);
  }
}

/** An Opus packet read from Ogg, placed on the decoded signal's timeline. */
export interface OggOpusPacket {
  data: Buffer;
  /** First sample (48 kHz) of the packet counted from the first sample a decoder outputs (granule minus pre-skip); negative for the encoder's priming. */
  start: number;
  samples: number;
}

export interface OggOpusChunk {
  /** The OpusHead when a (new) one began in this chunk. */
  head?: Buffer;
  packets: OggOpusPacket[];
}

/**
 * Reads an Ogg Opus byte stream cut anywhere: the OpusHead, then each audio packet with its position from
 * the granule positions. Throws only MediaError.
 */
export class OggOpusReader {
  private readonly ogg = new OggReader({ maxPacketSize: 256 * 1024 });
  private preSkip = 0;
  /** Header packets still expected: the head (2), then the tags (1). */
  private headersLeft = 2;
  /** Granule position where the last audio page ended. */
  private pageEnd: number | undefined;

  push(chunk: Buffer): OggOpusChunk {
    const out: OggOpusChunk = { packets: [] };
    for (const page of this.ogg.push(chunk)) {
      if (page.flags & OGG_BOS) {
        this.headersLeft = 2;
        this.pageEnd = undefined;
      }
      const audio: Buffer[] = [];
      for (const packet of page.packets) {
        if (this.headersLeft === 2) {
          this.preSkip = parseOpusHead(packet).preSkip;
          out.head = packet;
          this.headersLeft = 1;
        } else if (this.headersLeft === 1) {
          if (packet.length < 8 || packet.toString('latin1', 0, 8) !== 'OpusTags') throw new MediaError('BAD_OGG', 'no OpusTags after OpusHead');
          this.headersLeft = 0;
        } else {
          audio.push(packet);
        }
      }
      if (!audio.length) continue;
      if (page.granule < 0) throw new MediaError('BAD_OGG', 'an Ogg Opus page ending packets without a granule position');
      const samples = audio.map((packet) => opusPacketSamples(packet));
      // Packets follow the previous page's end; the first page is placed back from its granule, or at 0 when
      // it is also the last and end-trimmed (RFC 7845 4). Counting forward keeps a trimmed last page in place.
      let at = this.pageEnd ?? page.granule - samples.reduce((n, s) => n + s, 0);
      if (this.pageEnd === undefined && at < 0 && page.flags & OGG_EOS) at = 0;
      audio.forEach((data, i) => {
        out.packets.push({ data, start: at - this.preSkip, samples: samples[i] });
        at += samples[i];
      });
      this.pageEnd = page.granule;
    }
    return out;
  }
}
