import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { fixture } from '../../test-fixtures/fixtures';
import { splitAnnexB } from '../annexb';
import { aacConfig, buildAudioSpecificConfig } from '../codecs/aac';
import { h264Config } from '../codecs/h264';
import { h265Config, h265NalType, H265NalType } from '../codecs/h265';
import { opusConfig } from '../codecs/opus';
import { parseAudioBody, parseVideoBody } from '../flv/flv-codec';
import { FlvTagReader } from '../flv/flv-tag';
import type { AudioConfig, TrackConfig, VideoConfig } from '../media.types';
import { crc32Mpeg } from './crc32-mpeg';
import { TS_PACKET_SIZE, TS_PID, TsFrame, TsMuxer } from './ts-muxer';

/** Frames of an FLV fixture in the canonical form. */
function flvFrames(name: string): { video?: VideoConfig; audio?: AudioConfig; frames: TsFrame[] } {
  const tags = new FlvTagReader().push(fixture(name));
  let video: VideoConfig | undefined;
  let audio: AudioConfig | undefined;
  const frames: TsFrame[] = [];
  for (const tag of tags) {
    if (tag.type === 9) {
      const r = parseVideoBody(tag.body, video);
      if (r.type === 'config') video = r.config;
      else if (r.type === 'frame' && video) frames.push({ kind: 'video', dts: tag.timestamp, pts: tag.timestamp + r.cts, keyFrame: r.keyFrame, data: r.units, config: video });
    } else if (tag.type === 8) {
      const r = parseAudioBody(tag.body, audio);
      if (r.type === 'config') audio = r.config;
      else if (r.type === 'frame') {
        if (r.config) audio = r.config;
        if (audio) frames.push({ kind: 'audio', dts: tag.timestamp, pts: tag.timestamp, keyFrame: true, data: [r.data], config: audio });
      }
    }
  }
  return { video, audio, frames };
}

function mux(tracks: { video?: VideoConfig; audio?: AudioConfig }, frames: readonly TsFrame[]): Buffer {
  const muxer = new TsMuxer(tracks);
  return Buffer.concat([muxer.tables(), ...frames.map((f) => muxer.frame(f))]);
}

function ffprobe(ts: Buffer, args: string[]): { stdout: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ts-muxer-'));
  try {
    const file = join(dir, 'out.ts');
    writeFileSync(file, ts);
    const r = spawnSync('ffprobe', ['-v', 'error', ...args, '-of', 'json', file], { encoding: 'utf8' });
    return { stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function decodeErrors(ts: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'ts-muxer-'));
  try {
    const file = join(dir, 'out.ts');
    writeFileSync(file, ts);
    const r = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
    return r.stderr + (r.status === 0 ? '' : `exit ${r.status}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function probeFormat(ts: Buffer): { streams: { codec_name: string; codec_type: string; channels?: number; width?: number }[]; format: { duration: string } } {
  const { stdout, stderr } = ffprobe(ts, ['-show_streams', '-show_format']);
  expect(stderr).toBe('');
  return JSON.parse(stdout);
}

/** Checks the packet layer: size, sync bytes, continuity counters per PID, PSI CRCs. Returns packets per PID. */
function checkPackets(ts: Buffer): Map<number, number> {
  expect(ts.length % TS_PACKET_SIZE).toBe(0);
  const cc = new Map<number, number>();
  const counts = new Map<number, number>();
  for (let off = 0; off < ts.length; off += TS_PACKET_SIZE) {
    expect(ts[off]).toBe(0x47);
    const pid = ((ts[off + 1] & 0x1f) << 8) | ts[off + 2];
    const counter = ts[off + 3] & 0x0f;
    const prev = cc.get(pid);
    if (prev !== undefined) expect(counter).toBe((prev + 1) & 0x0f);
    cc.set(pid, counter);
    counts.set(pid, (counts.get(pid) ?? 0) + 1);
    if (pid === TS_PID.pat || pid === TS_PID.pmt) {
      const start = off + 5;
      const length = ((ts[start + 1] & 0x0f) << 8) | ts[start + 2];
      expect(crc32Mpeg(ts, start, start + 3 + length)).toBe(0); // CRC over the section including its CRC is 0
    }
  }
  return counts;
}

describe('crc32Mpeg', () => {
  it('matches the CRC-32/MPEG-2 check value', () => {
    expect(crc32Mpeg(Buffer.from('123456789'))).toBe(0x0376e6e7);
  });
});

describe('TsMuxer', () => {
  it('muxes H.264 + AAC that FFmpeg reads silently, with the right codecs and duration', () => {
    const { video, audio, frames } = flvFrames('h264-aac.flv');
    const ts = mux({ video, audio }, frames);
    checkPackets(ts);
    const probe = probeFormat(ts);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    const last = frames[frames.length - 1].dts;
    expect(Math.abs(Number(probe.format.duration) * 1000 - last)).toBeLessThan(100);
    expect(decodeErrors(ts)).toBe('');
  });

  it('puts AUD and SPS/PPS before every key frame and a random access flag + PCR on its first packet', () => {
    const { video, frames } = flvFrames('h264-aac.flv');
    const key = frames.find((f) => f.kind === 'video' && f.keyFrame)!;
    const muxer = new TsMuxer({ video });
    const packets = muxer.frame({ ...key, data: key.data.filter((n) => (n[0] & 0x1f) === 5) });
    expect(packets[3] & 0x20).toBe(0x20); // adaptation field
    expect(packets[5] & 0x50).toBe(0x50); // random_access_indicator + PCR_flag
    const payload = Buffer.concat(Array.from({ length: packets.length / 188 }, (_, i) => packets.subarray(i * 188 + 4 + (packets[i * 188 + 3] & 0x20 ? packets[i * 188 + 4] + 1 : 0), (i + 1) * 188)));
    const es = payload.subarray(9 + payload[8]);
    const types = splitAnnexB(es).map((n) => n[0] & 0x1f);
    expect(types.slice(0, 4)).toEqual([9, 7, 8, 5]);
  });

  it('muxes H.264 + MP3', () => {
    const { video, audio, frames } = flvFrames('h264-mp3.flv');
    const ts = mux({ video, audio }, frames);
    checkPackets(ts);
    expect(probeFormat(ts).streams.map((s) => s.codec_name).sort()).toEqual(['h264', 'mp3']);
    expect(decodeErrors(ts)).toBe('');
  });

  it('muxes H.265 with AUD + VPS/SPS/PPS', () => {
    // No B-frames, so decode order is presentation order (the fixture has B-frames and no timestamps).
    const encoded = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-t', '2', '-c:v', 'libx265', '-x265-params', 'log-level=none:bframes=0:keyint=30', '-f', 'hevc', '-'], { maxBuffer: 64 << 20 });
    const nals = splitAnnexB(encoded.stdout);
    const byType = (t: number) => nals.filter((n) => h265NalType(n) === t);
    const video = h265Config(byType(H265NalType.VPS), byType(H265NalType.SPS), byType(H265NalType.PPS));
    // Access units: a VCL NAL with first_slice_segment_in_pic_flag starts one.
    const units: Buffer[][] = [];
    for (const nal of nals) {
      const type = h265NalType(nal);
      if (type < 32 && nal[2] & 0x80) units.push([]);
      if (type < 32 && units.length) units[units.length - 1].push(nal);
    }
    const frames: TsFrame[] = units.map((data, i) => {
      const t = (i * 1000) / 30;
      return { kind: 'video', dts: t, pts: t, keyFrame: h265NalType(data[0]) >= 16 && h265NalType(data[0]) <= 23, data, config: video };
    });
    const ts = mux({ video }, frames);
    checkPackets(ts);
    const probe = probeFormat(ts);
    expect(probe.streams.map((s) => s.codec_name)).toEqual(['hevc']);
    expect(Number(probe.format.duration)).toBeCloseTo(2 - 1 / 30, 1);
    expect(decodeErrors(ts)).toBe('');
  });

  it('muxes Opus (registration descriptor, control headers)', () => {
    const packets = oggPackets(fixture('opus-stereo.opus'));
    const head = packets[0];
    const audio = opusConfig(head);
    const frames: TsFrame[] = packets.slice(2).map((p, i) => ({ kind: 'audio', dts: i * 20, pts: i * 20, keyFrame: true, data: [p], config: audio }));
    const ts = mux({ audio }, frames);
    checkPackets(ts);
    const probe = probeFormat(ts);
    expect(probe.streams).toMatchObject([{ codec_name: 'opus', channels: 2 }]);
    expect(decodeErrors(ts)).toBe('');
  });

  it('carries the PCR on the audio PID when there is no video', () => {
    const audio = aacConfig(buildAudioSpecificConfig({ objectType: 2, sampleRate: 44100, channels: 2 }));
    const muxer = new TsMuxer({ audio });
    const pmt = muxer.tables().subarray(188);
    const pcrPid = ((pmt[5 + 8] & 0x1f) << 8) | pmt[5 + 9];
    expect(pcrPid).toBe(TS_PID.audio);
    const packet = muxer.frame({ kind: 'audio', dts: 1000, pts: 1000, keyFrame: true, data: [Buffer.alloc(100, 1)], config: audio });
    expect(packet[5] & 0x10).toBe(0x10);
  });

  it('refuses codecs it cannot carry', () => {
    const vp9: TrackConfig = { kind: 'video', codec: 'vp9', record: Buffer.alloc(0), parameterSets: [], width: 1, height: 1 };
    expect(() => new TsMuxer({ video: vp9 })).toThrow('vp9');
    expect(() => new TsMuxer({})).toThrow();
  });

  it('property: any frame sizes and timestamps give whole 188-byte packets with continuous counters', () => {
    const video = h264Config([Buffer.from([0x67, 0x42, 0xc0, 0x1e, 0xda, 0x02, 0x80, 0xbf, 0xe5, 0x84, 0x00, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xca, 0x3c, 0x58, 0xba, 0x80])], [Buffer.from([0x68, 0xce, 0x3c, 0x80])]);
    const audio = aacConfig(buildAudioSpecificConfig({ objectType: 2, sampleRate: 48000, channels: 1 }));
    const frame = fc.record({
      video: fc.boolean(),
      key: fc.boolean(),
      size: fc.integer({ min: 1, max: 5000 }),
      dts: fc.double({ min: -1e6, max: 1e11, noNaN: true }),
      cts: fc.integer({ min: 0, max: 500 }),
    });
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 30 }), (specs) => {
        const muxer = new TsMuxer({ video, audio });
        const out: Buffer[] = [muxer.tables()];
        for (const s of specs) {
          const data = Buffer.alloc(s.size, 0x41);
          if (s.video) data[0] = s.key ? 0x65 : 0x41;
          out.push(
            s.video
              ? muxer.frame({ kind: 'video', dts: s.dts, pts: s.dts + s.cts, keyFrame: s.key, data: [data], config: video })
              : muxer.frame({ kind: 'audio', dts: s.dts, pts: s.dts, keyFrame: true, data: [data.subarray(0, Math.min(s.size, 4000))], config: audio }),
          );
        }
        const counts = checkPackets(Buffer.concat(out));
        expect(counts.get(TS_PID.pat)).toBe(1);
      }),
      { numRuns: 200 },
    );
  });
});

/** Packets of an Ogg file (lacing values joined; one logical stream). */
function oggPackets(ogg: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let pending: Buffer[] = [];
  let off = 0;
  while (off + 27 <= ogg.length && ogg.toString('latin1', off, off + 4) === 'OggS') {
    const segments = ogg[off + 26];
    const table = ogg.subarray(off + 27, off + 27 + segments);
    let data = off + 27 + segments;
    for (const lace of table) {
      pending.push(ogg.subarray(data, data + lace));
      data += lace;
      if (lace < 255) {
        packets.push(Buffer.concat(pending));
        pending = [];
      }
    }
    off = data;
  }
  return packets;
}
