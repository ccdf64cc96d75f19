import fc from 'fast-check';
import { ChunkDecoder } from './chunk-decoder';
import {
  chunkBodyWithContinuations,
  chunkContinuationHeader,
  chunkFirstHeader,
  encodedMessageSize,
  encodeMessage,
  encodeMessages,
} from './chunk-encoder';
import { buildSetChunkSize, RtmpMessage } from './messages';
import { RtmpProtocolError } from './rtmp.errors';
import { expectErrorCode } from '@m7s/test-kit/expect-error';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const msg = (csid: number, timestamp: number, payload: Buffer, type = 9, streamId = 1): RtmpMessage => ({ csid, type, streamId, timestamp, payload });

const expectRtmpError = (fn: () => unknown, code: string): void => expectErrorCode(fn, RtmpProtocolError, code);

describe('encodeMessage (exact bytes)', () => {
  const cases: [string, RtmpMessage, number, string][] = [
    ['SetChunkSize 4096', buildSetChunkSize(4096), 128, '02 000000 000004 01 00000000 00001000'],
    ['stream id is little endian', msg(3, 0x123456, hex('aa'), 20, 0x01020304), 128, '03 123456 000001 14 04030201 aa'],
    ['csid 64: 2-byte basic header', msg(64, 0, hex('aa')), 128, '00 00 000000 000001 09 01000000 aa'],
    ['csid 319: 2-byte basic header', msg(319, 0, hex('aa')), 128, '00 ff 000000 000001 09 01000000 aa'],
    ['csid 320: 3-byte basic header', msg(320, 0, hex('aa')), 128, '01 00 01 000000 000001 09 01000000 aa'],
    ['csid 65599: 3-byte basic header', msg(65599, 0, hex('aa')), 128, '01 ff ff 000000 000001 09 01000000 aa'],
    ['continuations use type 3 headers', msg(6, 5, hex('aabbcc')), 2, '06 000005 000003 09 01000000 aabb c6 cc'],
    ['continuations on a 2-byte csid', msg(100, 5, hex('aabbcc')), 2, '00 24 000005 000003 09 01000000 aabb c0 24 cc'],
    ['extended timestamp repeated in continuations', msg(6, 0x01000000, hex('aabbcc')), 2, '06 ffffff 000003 09 01000000 01000000 aabb c6 01000000 cc'],
    ['timestamp 0xFFFFFF is extended', msg(6, 0xffffff, hex('aa')), 2, '06 ffffff 000001 09 01000000 00ffffff aa'],
    ['timestamp 0xFFFFFE is not', msg(6, 0xfffffe, hex('aa')), 2, '06 fffffe 000001 09 01000000 aa'],
    ['timestamps wrap modulo 2^32', msg(6, 0x100000010, hex('aa')), 2, '06 000010 000001 09 01000000 aa'],
    ['empty payload', msg(6, 0, Buffer.alloc(0)), 128, '06 000000 000000 09 01000000'],
    ['payload of exactly one chunk', msg(6, 0, hex('aabb')), 2, '06 000000 000002 09 01000000 aabb'],
  ];
  it.each(cases)('%s', (_n, m, chunkSize, bytes) => {
    const b = encodeMessage(m, chunkSize);
    expect(b.toString('hex')).toBe(hex(bytes).toString('hex'));
    expect(encodedMessageSize(m.csid, m.timestamp, m.payload.length, chunkSize)).toBe(b.length);
  });

  it('rejects bad arguments', () => {
    expectRtmpError(() => encodeMessage(msg(1, 0, hex('aa')), 128), 'BAD_CSID');
    expectRtmpError(() => encodeMessage(msg(65600, 0, hex('aa')), 128), 'BAD_CSID');
    expectRtmpError(() => encodeMessage(msg(3, 0, hex('aa')), 0), 'BAD_CHUNK_SIZE');
    expectRtmpError(() => encodeMessage(msg(3, 0, Buffer.alloc(0x1000000)), 128), 'MESSAGE_TOO_LARGE');
    expectRtmpError(() => chunkBodyWithContinuations(hex('aa'), 3, 0x80000000, 0), 'BAD_CHUNK_SIZE');
  });

  it('encodeMessages concatenates', () => {
    const a = msg(3, 0, hex('aa'));
    const b = msg(4, 1, hex('bb'));
    expect(encodeMessages([a, b], 128)).toEqual(Buffer.concat([encodeMessage(a, 128), encodeMessage(b, 128)]));
  });
});

describe('split API for fan-out', () => {
  it.each([
    [6, 0, 10, 4],
    [6, 0x01000000, 10, 4],
    [300, 1234, 1000, 128],
    [400, 0xffffffff, 5000, 4096],
  ])('first header + body == encodeMessage (csid %d, ts %d, %d bytes, chunk %d)', (csid, ts, len, chunkSize) => {
    const payload = Buffer.from(Array.from({ length: len }, (_, i) => i & 0xff));
    const m = msg(csid, ts, payload);
    const parts = Buffer.concat([chunkFirstHeader(csid, 9, 1, ts, len), chunkBodyWithContinuations(payload, csid, chunkSize, ts)]);
    expect(parts.equals(encodeMessage(m, chunkSize))).toBe(true);
  });

  it('returns the payload itself when it fits in one chunk', () => {
    const p = Buffer.alloc(100);
    expect(chunkBodyWithContinuations(p, 6, 100, 0)).toBe(p);
  });

  it('the body depends only on csid and chunk size below 0xFFFFFF, so players may share it', () => {
    const p = Buffer.alloc(1000, 1);
    expect(chunkBodyWithContinuations(p, 6, 128, 0).equals(chunkBodyWithContinuations(p, 6, 128, 0xfffffe))).toBe(true);
    expect(chunkBodyWithContinuations(p, 6, 128, 0x1000000).equals(chunkBodyWithContinuations(p, 6, 128, 0x1000001))).toBe(false);
  });

  it('continuation header', () => {
    expect(chunkContinuationHeader(6, 0).toString('hex')).toBe('c6');
    expect(chunkContinuationHeader(320, 0x01000000).toString('hex')).toBe('c1000101000000');
  });
});

describe('encoder -> decoder round trip', () => {
  const message = fc.record({
    csid: fc.oneof(fc.integer({ min: 2, max: 70 }), fc.integer({ min: 300, max: 330 }), fc.constant(65599)),
    type: fc.integer({ min: 3, max: 22 }).filter((t) => t !== 1 && t !== 2),
    streamId: fc.oneof(fc.constant(0), fc.constant(1), fc.nat()),
    timestamp: fc.oneof(fc.integer({ min: 0, max: 0xfffffe }), fc.integer({ min: 0xffffff, max: 0xffffffff })),
    payload: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 100, maxLength: 3000 })).map((u) => Buffer.from(u)),
  });

  it('any messages, chunk size and input split give back the same messages', () => {
    fc.assert(
      fc.property(
        fc.array(message, { maxLength: 12 }),
        fc.integer({ min: 1, max: 4000 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (msgs, chunkSize, cuts) => {
          const wire = Buffer.concat([encodeMessage(buildSetChunkSize(chunkSize), 128), ...msgs.map((m) => encodeMessage(m, chunkSize))]);
          const pos = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
          const dec = new ChunkDecoder();
          const got: RtmpMessage[] = [];
          let last = 0;
          for (const p of [...pos, wire.length]) {
            got.push(...dec.push(wire.subarray(last, p)));
            last = p;
          }
          const norm = (m: RtmpMessage) => `${m.csid}/${m.type}/${m.streamId}/${m.timestamp}/${m.payload.toString('hex')}`;
          expect(got.slice(1).map(norm)).toEqual(msgs.map(norm));
          expect(dec.pendingBytes).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
