import { buildAdtsHeader, parseAudioSpecificConfig, AacSpecificConfig } from '../codecs/aac';
import { h264NalType, H264NalType } from '../codecs/h264';
import { h265NalType, H265NalType } from '../codecs/h265';
import { parseOpusHead } from '../codecs/opus';
import { MediaError } from '../media.errors';
import type { AudioCodec, AudioConfig, MediaKind, TrackConfig, VideoCodec, VideoConfig } from '../media.types';
import { crc32Mpeg } from './crc32-mpeg';

export const TS_PACKET_SIZE = 188;
export const TS_SYNC_BYTE = 0x47;
/** PIDs this muxer writes: PAT 0, PMT, one video and one audio elementary stream. */
export const TS_PID = { pat: 0x0000, pmt: 0x1000, video: 0x0100, audio: 0x0101 } as const;

/** ISO/IEC 13818-1 stream_type of each codec the muxer carries. */
const STREAM_TYPE: Partial<Record<VideoCodec | AudioCodec, number>> = {
  h264: 0x1b,
  h265: 0x24,
  aac: 0x0f, // ADTS
  mp3: 0x03, // MPEG-1 audio (0x04 for the MPEG-2 low rates, chosen below)
  opus: 0x06, // PES private data + registration descriptor 'Opus' (ETSI TS 102 366-ish, as FFmpeg writes it)
};

/** Whether TsMuxer can carry this codec (H.264, H.265, AAC, MP3, Opus with at most 2 channels). */
export function tsSupports(config: TrackConfig): boolean {
  if (STREAM_TYPE[config.codec] === undefined) return false;
  return config.codec !== 'opus' || config.channels <= 2;
}

export interface TsFrame {
  kind: MediaKind;
  /** ms */
  dts: number;
  /** ms */
  pts: number;
  keyFrame: boolean;
  /** video: NAL units without start codes; audio: one raw frame */
  data: readonly Buffer[];
  config: TrackConfig;
}

const H264_AUD = Buffer.from([0x09, 0xf0]);
const H265_AUD = Buffer.from([0x46, 0x01, 0x50]);
const START_CODE = Buffer.from([0, 0, 0, 1]);
const PTS_MODULO = 2 ** 33;

function to90k(ms: number): number {
  const t = Math.round(ms * 90) % PTS_MODULO;
  return t < 0 ? t + PTS_MODULO : t;
}

/**
 * MPEG-2 transport stream muxer (ISO/IEC 13818-1) for one program of at most one video and one audio
 * track. Stateful: continuity counters per PID. PCR rides on the video PID (audio when there is no video).
 */
export class TsMuxer {
  private readonly cc = new Map<number, number>();
  private readonly pcrPid: number;
  private aac: { record: Buffer; info: AacSpecificConfig } | undefined;

  constructor(private readonly tracks: { video?: VideoConfig; audio?: AudioConfig }) {
    if (!tracks.video && !tracks.audio) throw new MediaError('BAD_ARGUMENT', 'a transport stream needs a track');
    for (const config of [tracks.video, tracks.audio]) {
      if (config && !tsSupports(config)) throw new MediaError('UNSUPPORTED', `${config.codec} in MPEG-TS`);
    }
    if (tracks.audio?.codec === 'opus' && tracks.audio.record.length) parseOpusHead(tracks.audio.record);
    this.pcrPid = tracks.video ? TS_PID.video : TS_PID.audio;
  }

  /** PAT + PMT packets (start of each segment). */
  tables(): Buffer {
    return Buffer.concat([this.section(TS_PID.pat, this.patSection()), this.section(TS_PID.pmt, this.pmtSection())]);
  }

  /** TS packets of one frame (PES; video in Annex B with AUD, parameter sets before key frames; AAC with ADTS). */
  frame(frame: TsFrame): Buffer {
    if (frame.kind === 'video') {
      if (!this.tracks.video) throw new MediaError('BAD_ARGUMENT', 'no video track');
      const payload = this.videoPayload(frame);
      const dts = to90k(frame.dts);
      const pts = to90k(frame.pts);
      return this.pes(TS_PID.video, 0xe0, payload, pts, pts === dts ? undefined : dts, frame.keyFrame, true);
    }
    if (!this.tracks.audio) throw new MediaError('BAD_ARGUMENT', 'no audio track');
    const codec = frame.config.codec;
    const payload = codec === 'aac' ? this.adts(frame) : codec === 'opus' ? opusAccessUnit(frame.data[0]) : frame.data[0];
    const pts = to90k(frame.pts);
    return this.pes(TS_PID.audio, codec === 'opus' ? 0xbd : 0xc0, [payload], pts, undefined, !this.tracks.video, false);
  }

  private videoPayload(frame: TsFrame): Buffer[] {
    const h265 = frame.config.codec === 'h265';
    const typeOf = h265 ? h265NalType : h264NalType;
    const aud = h265 ? H265_AUD : H264_AUD;
    const audType = h265 ? H265NalType.AUD : H264NalType.AUD;
    const firstParamType = h265 ? H265NalType.VPS : H264NalType.SPS;
    const units: Buffer[] = [aud];
    if (frame.keyFrame && !frame.data.some((n) => n.length > 0 && typeOf(n) === firstParamType)) {
      units.push(...(frame.config as VideoConfig).parameterSets);
    }
    for (const nal of frame.data) if (nal.length > 0 && typeOf(nal) !== audType) units.push(nal);
    const out: Buffer[] = [];
    for (const unit of units) out.push(START_CODE, unit);
    return out;
  }

  private adts(frame: TsFrame): Buffer {
    const record = frame.config.record;
    if (this.aac?.record !== record) this.aac = { record, info: parseAudioSpecificConfig(record) };
    const raw = frame.data[0];
    return Buffer.concat([buildAdtsHeader(this.aac.info, raw.length), raw]);
  }

  private patSection(): Buffer {
    const body = Buffer.from([0x00, 0x01, 0xe0 | (TS_PID.pmt >> 8), TS_PID.pmt & 0xff]); // program 1 -> PMT PID
    return psiSection(0x00, 0x0001, body);
  }

  private pmtSection(): Buffer {
    const streams: Buffer[] = [];
    const { video, audio } = this.tracks;
    if (video) streams.push(esInfo(STREAM_TYPE[video.codec]!, TS_PID.video, Buffer.alloc(0)));
    if (audio) {
      let type = STREAM_TYPE[audio.codec]!;
      let descriptors = Buffer.alloc(0);
      if (audio.codec === 'mp3' && audio.sampleRate > 0 && audio.sampleRate < 32000) type = 0x04;
      if (audio.codec === 'opus') {
        // registration_descriptor 'Opus' + DVB extension descriptor 0x80 with the channel configuration
        descriptors = Buffer.from([0x05, 4, 0x4f, 0x70, 0x75, 0x73, 0x7f, 2, 0x80, audio.channels]);
      }
      streams.push(esInfo(type, TS_PID.audio, descriptors));
    }
    const head = Buffer.from([0xe0 | (this.pcrPid >> 8), this.pcrPid & 0xff, 0xf0, 0x00]);
    return psiSection(0x02, 0x0001, Buffer.concat([head, ...streams]));
  }

  /** One PSI section in a single packet (pointer field 0, 0xFF stuffing). */
  private section(pid: number, section: Buffer): Buffer {
    const packet = Buffer.alloc(TS_PACKET_SIZE, 0xff);
    this.header(packet, 0, pid, true, false);
    packet[4] = 0; // pointer_field
    section.copy(packet, 5);
    return packet;
  }

  private header(packet: Buffer, offset: number, pid: number, start: boolean, adaptation: boolean): void {
    const cc = this.cc.get(pid) ?? 0;
    this.cc.set(pid, (cc + 1) & 0x0f);
    packet[offset] = TS_SYNC_BYTE;
    packet[offset + 1] = (start ? 0x40 : 0) | (pid >> 8);
    packet[offset + 2] = pid & 0xff;
    packet[offset + 3] = (adaptation ? 0x30 : 0x10) | cc;
  }

  /** A PES packet split into TS packets; the last one is padded with adaptation-field stuffing. */
  private pes(pid: number, streamId: number, payload: readonly Buffer[], pts: number, dts: number | undefined, randomAccess: boolean, video: boolean): Buffer {
    const headerDataLength = dts === undefined ? 5 : 10;
    const payloadLength = payload.reduce((n, b) => n + b.length, 0);
    const pesHeader = Buffer.allocUnsafe(9 + headerDataLength);
    pesHeader.writeUInt32BE(0x00000100 | streamId, 0);
    const pesLength = 3 + headerDataLength + payloadLength;
    // Video may leave the length unbounded (0); audio always states it.
    if (pesLength > 0xffff && !video) throw new MediaError('UNSUPPORTED', `audio PES of ${pesLength} bytes`);
    pesHeader.writeUInt16BE(video || pesLength > 0xffff ? 0 : pesLength, 4);
    pesHeader[6] = 0x84; // '10', data_alignment_indicator
    pesHeader[7] = dts === undefined ? 0x80 : 0xc0;
    pesHeader[8] = headerDataLength;
    writeTimestamp(pesHeader, 9, dts === undefined ? 0x2 : 0x3, pts);
    if (dts !== undefined) writeTimestamp(pesHeader, 14, 0x1, dts);
    const dataLength = pesHeader.length + payloadLength;

    const pcr = pid === this.pcrPid ? (dts ?? pts) : undefined;
    const firstAf = pcr !== undefined || randomAccess ? 2 + (pcr !== undefined ? 6 : 0) : 0;
    // Count packets: the first carries 184 - firstAf bytes, the others 184.
    const firstCapacity = 184 - firstAf;
    const count = dataLength <= firstCapacity ? 1 : 1 + Math.ceil((dataLength - firstCapacity) / 184);
    const out = Buffer.allocUnsafe(count * TS_PACKET_SIZE);
    // The PES (header, then the payload pieces) is copied straight into the packets, never joined first.
    const pieces = [pesHeader, ...payload];
    let piece = 0;
    let pieceOffset = 0;
    let pos = 0;
    for (let i = 0; i < count; i++) {
      const base = i * TS_PACKET_SIZE;
      const first = i === 0;
      const minAf = first ? firstAf : 0;
      const take = Math.min(dataLength - pos, 184 - minAf);
      const afLength = 184 - take; // bytes of adaptation field incl. its length byte (0 = none)
      this.header(out, base, pid, first, afLength > 0);
      if (afLength > 0) {
        out[base + 4] = afLength - 1;
        if (afLength > 1) {
          let flags = 0;
          let p = base + 6;
          if (first && randomAccess) flags |= 0x40;
          if (first && pcr !== undefined) {
            flags |= 0x10;
            writePcr(out, p, pcr);
            p += 6;
          }
          out[base + 5] = flags;
          out.fill(0xff, p, base + 4 + afLength);
        }
      }
      let at = base + 4 + afLength;
      for (let left = take; left > 0; ) {
        const source = pieces[piece];
        const n = Math.min(left, source.length - pieceOffset);
        source.copy(out, at, pieceOffset, pieceOffset + n);
        at += n;
        left -= n;
        pieceOffset += n;
        if (pieceOffset === source.length) {
          piece++;
          pieceOffset = 0;
        }
      }
      pos += take;
    }
    return out;
  }
}

function psiSection(tableId: number, tableIdExtension: number, body: Buffer): Buffer {
  const section = Buffer.allocUnsafe(8 + body.length + 4);
  const sectionLength = 5 + body.length + 4;
  section[0] = tableId;
  section[1] = 0xb0 | (sectionLength >> 8); // section_syntax_indicator, '0', reserved
  section[2] = sectionLength & 0xff;
  section.writeUInt16BE(tableIdExtension, 3);
  section[5] = 0xc1; // reserved, version 0, current_next_indicator
  section[6] = 0; // section_number
  section[7] = 0; // last_section_number
  body.copy(section, 8);
  section.writeUInt32BE(crc32Mpeg(section, 0, 8 + body.length), 8 + body.length);
  return section;
}

function esInfo(streamType: number, pid: number, descriptors: Buffer): Buffer {
  const head = Buffer.from([streamType, 0xe0 | (pid >> 8), pid & 0xff, 0xf0 | (descriptors.length >> 8), descriptors.length & 0xff]);
  return Buffer.concat([head, descriptors]);
}

/** A 33-bit PTS/DTS with its 4-bit prefix and marker bits (5 bytes). */
function writeTimestamp(out: Buffer, offset: number, prefix: number, t: number): void {
  const high = Math.floor(t / 2 ** 30); // bits 32..30
  const low = t % 2 ** 30;
  out[offset] = (prefix << 4) | (high << 1) | 1;
  out[offset + 1] = (low >>> 22) & 0xff;
  out[offset + 2] = (((low >>> 15) & 0x7f) << 1) | 1;
  out[offset + 3] = (low >>> 7) & 0xff;
  out[offset + 4] = ((low & 0x7f) << 1) | 1;
}

/** program_clock_reference: 33-bit base, 6 reserved bits, 9-bit extension (0). */
function writePcr(out: Buffer, offset: number, base: number): void {
  out.writeUInt32BE(Math.floor(base / 2), offset);
  out[offset + 4] = ((base & 1) << 7) | 0x7e;
  out[offset + 5] = 0;
}

/** An Opus access unit in TS: opus_control_header (0x7FE0, no trim) + au_size in 0xFF-run form + the packet. */
function opusAccessUnit(packet: Buffer): Buffer {
  const sizeBytes = Math.floor(packet.length / 255) + 1;
  const out = Buffer.allocUnsafe(2 + sizeBytes + packet.length);
  out[0] = 0x7f;
  out[1] = 0xe0;
  out.fill(0xff, 2, 2 + sizeBytes - 1);
  out[2 + sizeBytes - 1] = packet.length % 255;
  packet.copy(out, 2 + sizeBytes);
  return out;
}
