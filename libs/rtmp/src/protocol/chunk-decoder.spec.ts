import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChunkDecoder } from './chunk-decoder';
import { encodeMessage } from './chunk-encoder';
import { decodeCommand, decodeData, metadataOf } from './commands';
import { buildAbort, buildSetChunkSize, MessageType, RtmpMessage } from './messages';
import { RtmpServerHandshake } from './handshake';
import { RtmpProtocolError } from './rtmp.errors';
import { expectErrorCode } from '@m7s/test-kit/expect-error';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const fixture = (name: string) => readFileSync(join(__dirname, '../../test-fixtures', name));

/** the chunk stream part of a recorded publish (after the handshake) */
function chunkBytes(name: string): Buffer {
  const r = new RtmpServerHandshake().push(fixture(name));
  expect(r.done).toBe(true);
  return r.rest!;
}

const expectRtmpError = (fn: () => unknown, code: string): void => expectErrorCode(fn, RtmpProtocolError, code);

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const pos = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let last = 0;
  for (const p of pos) {
    parts.push(buf.subarray(last, p));
    last = p;
  }
  parts.push(buf.subarray(last));
  return parts;
}

/** SetChunkSize(2) on csid 2 */
const SET_CHUNK_2 = '02 000000 000004 01 00000000 00000002';

/** messages with hex payloads: jest compares Buffers byte by byte, slowly */
function summary(msgs: RtmpMessage[]): string[] {
  return msgs.map((m) => `${m.csid}/${m.type}/${m.streamId}/${m.timestamp}/${m.payload.toString('hex')}`);
}

function decodeAll(parts: Buffer[], dec = new ChunkDecoder()): RtmpMessage[] {
  const out: RtmpMessage[] = [];
  for (const p of parts) out.push(...dec.push(p));
  return out;
}

describe('ChunkDecoder on a real FFmpeg publish', () => {
  const bytes = chunkBytes('ffmpeg-publish.bin');
  const msgs = decodeAll([bytes]);
  const expected = summary(msgs);

  it('finds the commands FFmpeg sends, in order', () => {
    const names = msgs.filter((m) => m.type === MessageType.CommandAmf0).map((m) => decodeCommand(m).name);
    expect(names).toEqual(['connect', 'releaseStream', 'FCPublish', 'createStream', 'publish', 'FCUnpublish', 'deleteStream']);
    const connect = decodeCommand(msgs.find((m) => m.type === MessageType.CommandAmf0)!);
    expect(connect.commandObject).toMatchObject({ app: 'live', type: 'nonprivate' });
    expect((connect.commandObject as Record<string, unknown>).tcUrl).toMatch(/^rtmp:\/\/127\.0\.0\.1:\d+\/live$/);
  });

  it('applies the SetChunkSize FFmpeg sends right after connect', () => {
    expect(msgs.slice(0, 2).map((m) => m.type)).toEqual([MessageType.CommandAmf0, MessageType.SetChunkSize]);
    expect(msgs[1].payload.readUInt32BE(0)).toBe(4096);
    const dec = new ChunkDecoder();
    decodeAll([bytes], dec);
    expect(dec.chunkSize).toBe(4096);
    expect(dec.pendingBytes).toBe(0);
    expect(dec.bytesReceived).toBe(bytes.length);
    expect(dec.droppedMessages).toBe(0);
  });

  it('reads the metadata and the media with sane timestamps', () => {
    const meta = metadataOf(decodeData(msgs.find((m) => m.type === MessageType.DataAmf0)!));
    expect(meta).toMatchObject({ width: 160, height: 120, videocodecid: 7, audiocodecid: 10 });
    const video = msgs.filter((m) => m.type === MessageType.Video);
    const audio = msgs.filter((m) => m.type === MessageType.Audio);
    expect(video.length).toBe(27); // sequence header + 25 frames + end of sequence
    expect(audio.length).toBeGreaterThan(40);
    expect(video[0].payload.subarray(0, 2)).toEqual(Buffer.from([0x17, 0x00])); // AVC sequence header
    expect(video[1].payload[0]).toBe(0x17); // key frame
    expect(Math.max(...video.map((v) => v.payload.length))).toBeGreaterThan(4096); // continuation chunks used
    for (let i = 1; i < video.length; i++) expect(video[i].timestamp).toBeGreaterThanOrEqual(video[i - 1].timestamp);
    expect(video[video.length - 1].timestamp).toBeLessThan(1100);
    expect(new Set(video.map((v) => v.streamId))).toEqual(new Set([1]));
  });

  it('decodes extended timestamps (-output_ts_offset 20000) to the same media', () => {
    const ext = decodeAll([chunkBytes('ffmpeg-publish-extended-ts.bin')]);
    const v0 = msgs.filter((m) => m.type === MessageType.Video);
    const v1 = ext.filter((m) => m.type === MessageType.Video);
    expect(v1.length).toBe(v0.length);
    expect(v1[1].timestamp).toBe(20_000_000);
    for (let i = 1; i < v1.length; i++) {
      expect(v1[i].timestamp - v1[1].timestamp).toBe(v0[i].timestamp - v0[1].timestamp);
      expect(v1[i].payload.equals(v0[i].payload)).toBe(true);
    }
  });

  it('gives the same messages for any split of the input', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 60 }), (cuts) => {
        const got = decodeAll(splitAt(bytes, cuts));
        expect(summary(got)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('gives the same messages when fed byte by byte', () => {
    const dec = new ChunkDecoder();
    const got: RtmpMessage[] = [];
    for (let i = 0; i < bytes.length; i++) got.push(...dec.push(bytes.subarray(i, i + 1)));
    expect(summary(got)).toEqual(expected);
  });
});

describe('ChunkDecoder headers (hand-made bytes)', () => {
  // type 0 header: fmt|csid, ts(3), length(3), type(1), stream id (4, little endian)
  const cases: [string, string, Partial<RtmpMessage>[]][] = [
    ['1-byte basic header', '03 000010 000002 14 01000000 abcd', [{ csid: 3, timestamp: 16, type: 20, streamId: 1, payload: hex('abcd') }]],
    ['2-byte basic header, csid 64', '00 00 000001 000001 08 00000000 ff', [{ csid: 64, timestamp: 1, type: 8 }]],
    ['2-byte basic header, csid 319', '00 ff 000001 000001 08 00000000 ff', [{ csid: 319 }]],
    ['3-byte basic header, csid 320', '01 00 01 000001 000001 08 00000000 ff', [{ csid: 320 }]],
    ['3-byte basic header, csid 65599', '01 ff ff 000001 000001 08 00000000 ff', [{ csid: 65599 }]],
    ['3-byte form of a small csid', '01 24 00 000001 000001 08 00000000 ff', [{ csid: 100 }]],
    ['zero-length message', '04 000005 000000 12 01000000', [{ csid: 4, timestamp: 5, type: 18, payload: Buffer.alloc(0) }]],
    [
      'type 1 and 2 add deltas; type 3 new message repeats the last delta',
      '06 000064 000001 08 01000000 aa  46 000014 000002 09 bbbb  86 00000a cccc  c6 dddd',
      [
        { csid: 6, timestamp: 100, type: 8, streamId: 1, payload: hex('aa') },
        { csid: 6, timestamp: 120, type: 9, streamId: 1, payload: hex('bbbb') },
        { csid: 6, timestamp: 130, type: 9, payload: hex('cccc') },
        { csid: 6, timestamp: 140, type: 9, payload: hex('dddd') },
      ],
    ],
    [
      'type 3 new message after type 0 uses the type 0 timestamp as delta (spec 5.3.1.2.4)',
      '06 000064 000001 08 01000000 aa  c6 bb',
      [{ timestamp: 100 }, { timestamp: 200 }],
    ],
    [
      'extended timestamp, repeated in the type 3 continuation (chunk size 2)',
      `${SET_CHUNK_2} 05 ffffff 000003 09 01000000 01000000 aabb c5 01000000 cc`,
      [{ type: 1 }, { csid: 5, timestamp: 0x01000000, payload: hex('aabbcc') }],
    ],
    [
      'extended timestamp NOT repeated in the continuation (old encoders)',
      // (the decoder needs 4 bytes after the type 3 header to tell: here the next message's header)
      `${SET_CHUNK_2} 05 ffffff 000003 09 01000000 01000000 aabb c5 cc 04 000000 000000 08 00000000`,
      [{ type: 1 }, { csid: 5, timestamp: 0x01000000, payload: hex('aabbcc') }, { csid: 4, type: 8 }],
    ],
    [
      'extended delta on type 1, then type 3 new message repeats it',
      '05 000000 000001 09 00000000 aa  45 ffffff 000001 09 01000000 bb  c5 01000000 cc',
      [{ timestamp: 0 }, { timestamp: 0x01000000 }, { timestamp: 0x02000000 }],
    ],
    [
      'timestamps wrap at 2^32',
      '05 ffffff 000001 09 00000000 fffffff0 aa  85 000020 bb',
      [{ timestamp: 0xfffffff0 }, { timestamp: 0x10 }],
    ],
    [
      'interleaved chunk streams (chunk size 2)',
      `${SET_CHUNK_2} 05 000001 000003 09 01000000 aabb 06 000002 000003 08 01000000 1122 c5 cc c6 33`,
      [{ type: 1 }, { csid: 5, payload: hex('aabbcc') }, { csid: 6, payload: hex('112233') }],
    ],
  ];
  it.each(cases)('%s', (_n, bytes, expected) => {
    const got = new ChunkDecoder().push(hex(bytes));
    expect(got.length).toBe(expected.length);
    got.forEach((m, i) => expect(m).toMatchObject(expected[i]));
  });

  it('applies a SetChunkSize to the chunks that follow it in the same push', () => {
    const big = { csid: 3, type: 20, streamId: 0, timestamp: 0, payload: Buffer.alloc(1000, 7) };
    const input = Buffer.concat([encodeMessage(buildSetChunkSize(500), 128), encodeMessage(big, 500)]);
    const got = new ChunkDecoder().push(input);
    expect(got.map((m) => m.type)).toEqual([1, 20]);
    expect(got[1].payload).toEqual(big.payload);
  });

  it('handles an Abort by dropping the partial message', () => {
    const dec = new ChunkDecoder();
    const full = encodeMessage({ csid: 6, type: 9, streamId: 1, timestamp: 0, payload: Buffer.alloc(300, 1) }, 128);
    expect(dec.push(full.subarray(0, 12 + 128))).toEqual([]);
    expect(dec.pendingBytes).toBe(300);
    const got = dec.push(encodeMessage(buildAbort(6), 128));
    expect(got.map((m) => m.type)).toEqual([2]);
    expect(dec.pendingBytes).toBe(0);
    expect(dec.droppedMessages).toBe(1);
    // the chunk stream goes on with a new message
    expect(dec.push(hex('86 000000 ab'))).toEqual([]); // type 2 header, length 300 reused: waits
    expect(dec.pendingBytes).toBe(300);
  });

  it('drops a partial message when a new type 0 header arrives on its chunk stream', () => {
    const dec = new ChunkDecoder();
    dec.push(hex(`${SET_CHUNK_2} 05 000000 000004 09 01000000 aabb`));
    const got = dec.push(hex('05 000010 000001 08 01000000 cc'));
    expect(got).toMatchObject([{ type: 8, timestamp: 16, payload: hex('cc') }]);
    expect(dec.droppedMessages).toBe(1);
    expect(dec.pendingBytes).toBe(0);
  });

  it('leaves SetChunkSize to the caller with handleControl: false', () => {
    const dec = new ChunkDecoder({ handleControl: false });
    dec.push(encodeMessage(buildSetChunkSize(500), 128));
    expect(dec.chunkSize).toBe(128);
    dec.setChunkSize(500);
    expect(dec.chunkSize).toBe(500);
  });

  it('counts bytes received', () => {
    const dec = new ChunkDecoder();
    dec.push(hex('03 000010'));
    dec.push(hex('000002 14 01000000 ab'));
    expect(dec.bytesReceived).toBe(13);
  });
});

describe('ChunkDecoder limits', () => {
  const bad: [string, string, string, object][] = [
    ['type 1 header on a new csid', '43 000000 000001 14 ab', 'NO_PREVIOUS_HEADER', {}],
    ['type 2 header on a new csid', '83 000000 ab', 'NO_PREVIOUS_HEADER', {}],
    ['type 3 header on a new csid', 'c3 ab', 'NO_PREVIOUS_HEADER', {}],
    ['message over maxMessageSize', '03 000000 001001 14 00000000', 'MESSAGE_TOO_LARGE', { maxMessageSize: 4096 }],
    ['SetChunkSize 0', '02 000000 000004 01 00000000 00000000', 'BAD_CHUNK_SIZE', {}],
    ['SetChunkSize with the high bit set', '02 000000 000004 01 00000000 80000000', 'BAD_CHUNK_SIZE', {}],
    ['SetChunkSize over maxChunkSize', '02 000000 000004 01 00000000 00100000', 'BAD_CHUNK_SIZE', { maxChunkSize: 65536 }],
    ['SetChunkSize under minChunkSize', '02 000000 000004 01 00000000 00000010', 'BAD_CHUNK_SIZE', { minChunkSize: 128 }],
    ['SetChunkSize payload too short', '02 000000 000002 01 00000000 0001', 'BAD_MESSAGE', {}],
    [
      'partial messages over maxPendingBytes',
      '02 000000 000004 01 00000000 00000001  04 000000 000800 09 00000000 aa  05 000000 000800 09 00000000 aa',
      'BUFFER_LIMIT',
      { maxMessageSize: 2048, maxPendingBytes: 3000 },
    ],
  ];
  it.each(bad)('%s', (_n, bytes, code, options) => {
    expectRtmpError(() => new ChunkDecoder(options).push(hex(bytes)), code);
  });

  it('limits the number of chunk streams', () => {
    const dec = new ChunkDecoder({ maxChunkStreams: 3 });
    for (const csid of [3, 4, 5]) dec.push(Buffer.from([csid, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0]));
    dec.push(hex('c3')); // known ones still work
    expectRtmpError(() => dec.push(hex('06 000000 000000 08 00000000')), 'TOO_MANY_CHUNK_STREAMS');
  });

  it('the default limit is 64 chunk streams', () => {
    const dec = new ChunkDecoder();
    for (let csid = 2; csid < 66; csid++) dec.push(Buffer.concat([encodeMessage({ csid, type: 8, streamId: 1, timestamp: 0, payload: Buffer.alloc(0) }, 128)]));
    expect(dec.chunkStreamCount).toBe(64);
    expectRtmpError(() => dec.push(encodeMessage({ csid: 66, type: 8, streamId: 1, timestamp: 0, payload: Buffer.alloc(0) }, 128)), 'TOO_MANY_CHUNK_STREAMS');
  });

  it('rejects bad chunk sizes given to setChunkSize()', () => {
    for (const n of [0, -1, 1.5, 0x80000000, NaN]) expectRtmpError(() => new ChunkDecoder().setChunkSize(n), 'BAD_CHUNK_SIZE');
    expect(() => new ChunkDecoder().setChunkSize(1)).not.toThrow();
    expect(() => new ChunkDecoder().setChunkSize(0x7fffffff)).not.toThrow();
  });
});

describe('ChunkDecoder fuzz', () => {
  const bytes = chunkBytes('ffmpeg-publish.bin');
  const limits = { maxMessageSize: 1 << 20, maxPendingBytes: 2 << 20 };

  function feedSafely(parts: Buffer[]): void {
    const dec = new ChunkDecoder(limits);
    try {
      for (const p of parts) {
        dec.push(p);
        expect(dec.pendingBytes).toBeLessThanOrEqual(limits.maxPendingBytes);
      }
    } catch (e) {
      if (!(e instanceof RtmpProtocolError)) throw e;
    }
  }

  it('random bytes: only RtmpProtocolError, bounded memory', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 8 }), (parts) => feedSafely(parts.map((p) => Buffer.from(p)))),
      { numRuns: 3000 },
    );
  });

  it('mutated real input: only RtmpProtocolError, bounded memory', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (flips, cuts) => {
          const b = Buffer.from(bytes);
          for (const [i, v] of flips) b[i % b.length] = v;
          feedSafely(splitAt(b, cuts));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('a flood of 1-byte type 3 headers terminates and only yields empty messages', () => {
    const dec = new ChunkDecoder();
    dec.push(hex('05 000000 000000 09 01000000'));
    const got = dec.push(Buffer.alloc(100_000, 0xc5));
    expect(got.length).toBe(100_000);
  });
});

describe('ChunkDecoder throughput', () => {
  it('decodes 64 MiB of 64 KiB messages in 4 KiB chunks quickly', () => {
    const frame = { csid: 7, type: 9, streamId: 1, timestamp: 0, payload: Buffer.alloc(65536, 0x55) };
    const one = encodeMessage(frame, 4096);
    const stream = Buffer.concat(Array.from({ length: 64 }, () => one)); // 4 MiB
    const dec = new ChunkDecoder();
    dec.setChunkSize(4096);
    const t0 = process.hrtime.bigint();
    let n = 0;
    for (let round = 0; round < 16; round++) {
      for (let off = 0; off < stream.length; off += 65536) n += dec.push(stream.subarray(off, off + 65536)).length;
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    expect(n).toBe(1024);
    expect(ms).toBeLessThan(2000);
  });
});
