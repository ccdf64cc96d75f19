import fc from 'fast-check';
import { encodeMessage } from './chunk-encoder';
import {
  AcknowledgementTracker,
  buildAbort,
  buildAcknowledgement,
  buildPingRequest,
  buildPingResponse,
  buildSetBufferLength,
  buildSetChunkSize,
  buildSetPeerBandwidth,
  buildStreamBegin,
  buildStreamDry,
  buildStreamEof,
  buildStreamIsRecorded,
  buildUserControl,
  buildWindowAckSize,
  MessageType,
  parseAbort,
  parseAcknowledgement,
  parseAggregate,
  parseSetChunkSize,
  parseSetPeerBandwidth,
  parseUserControl,
  parseWindowAckSize,
  RtmpMessage,
  UserControlEvent,
} from './messages';
import { RtmpProtocolError } from './rtmp.errors';
import { expectErrorCode } from '@m7s/test-kit/expect-error';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const expectRtmpError = (fn: () => unknown, code: string): void => expectErrorCode(fn, RtmpProtocolError, code);

describe('protocol control message builders (whole chunk bytes)', () => {
  const cases: [string, RtmpMessage, string][] = [
    ['SetChunkSize', buildSetChunkSize(4096), '02 000000 000004 01 00000000 00001000'],
    ['Abort', buildAbort(6), '02 000000 000004 02 00000000 00000006'],
    ['Acknowledgement', buildAcknowledgement(0x12345678), '02 000000 000004 03 00000000 12345678'],
    ['Acknowledgement wraps at 2^32', buildAcknowledgement(0x100000005), '02 000000 000004 03 00000000 00000005'],
    ['WindowAckSize', buildWindowAckSize(2500000), '02 000000 000004 05 00000000 002625a0'],
    ['SetPeerBandwidth dynamic', buildSetPeerBandwidth(2500000), '02 000000 000005 06 00000000 002625a0 02'],
    ['SetPeerBandwidth hard', buildSetPeerBandwidth(1000, 0), '02 000000 000005 06 00000000 000003e8 00'],
    ['StreamBegin', buildStreamBegin(1), '02 000000 000006 04 00000000 0000 00000001'],
    ['StreamEOF', buildStreamEof(1), '02 000000 000006 04 00000000 0001 00000001'],
    ['StreamDry', buildStreamDry(1), '02 000000 000006 04 00000000 0002 00000001'],
    ['SetBufferLength', buildSetBufferLength(1, 3000), '02 000000 00000a 04 00000000 0003 00000001 00000bb8'],
    ['StreamIsRecorded', buildStreamIsRecorded(1), '02 000000 000006 04 00000000 0004 00000001'],
    ['PingRequest', buildPingRequest(0xabcdef01), '02 000000 000006 04 00000000 0006 abcdef01'],
    ['PingResponse', buildPingResponse(7), '02 000000 000006 04 00000000 0007 00000007'],
  ];
  it.each(cases)('%s', (_n, m, bytes) => {
    expect(encodeMessage(m, 128).toString('hex')).toBe(hex(bytes).toString('hex'));
  });

  it('rejects out-of-range arguments', () => {
    expectRtmpError(() => buildSetChunkSize(0), 'BAD_CHUNK_SIZE');
    expectRtmpError(() => buildSetChunkSize(0x80000000), 'BAD_CHUNK_SIZE');
    expectRtmpError(() => buildWindowAckSize(-1), 'BAD_ARGUMENT');
    expectRtmpError(() => buildSetPeerBandwidth(1, 3), 'BAD_ARGUMENT');
    expectRtmpError(() => buildUserControl({ event: 0x10000 }), 'BAD_ARGUMENT');
  });
});

describe('parsers', () => {
  it('parse what the builders build', () => {
    expect(parseSetChunkSize(buildSetChunkSize(60000).payload)).toBe(60000);
    expect(parseAbort(buildAbort(9).payload)).toBe(9);
    expect(parseAcknowledgement(buildAcknowledgement(123).payload)).toBe(123);
    expect(parseWindowAckSize(buildWindowAckSize(5000000).payload)).toBe(5000000);
    expect(parseSetPeerBandwidth(buildSetPeerBandwidth(5000000, 1).payload)).toEqual({ size: 5000000, limitType: 1 });
  });

  const uc: [string, RtmpMessage, object][] = [
    ['StreamBegin', buildStreamBegin(1), { event: UserControlEvent.StreamBegin, streamId: 1 }],
    ['StreamEOF', buildStreamEof(2), { event: UserControlEvent.StreamEOF, streamId: 2 }],
    ['StreamDry', buildStreamDry(3), { event: UserControlEvent.StreamDry, streamId: 3 }],
    ['SetBufferLength', buildSetBufferLength(1, 100), { event: UserControlEvent.SetBufferLength, streamId: 1, bufferLength: 100 }],
    ['StreamIsRecorded', buildStreamIsRecorded(1), { event: UserControlEvent.StreamIsRecorded, streamId: 1 }],
    ['PingRequest', buildPingRequest(55), { event: UserControlEvent.PingRequest, timestamp: 55 }],
    ['PingResponse', buildPingResponse(56), { event: UserControlEvent.PingResponse, timestamp: 56 }],
    ['BufferEmpty (Flash)', buildUserControl({ event: 31, streamId: 1 }), { event: 31, streamId: 1 }],
  ];
  it.each(uc)('user control %s', (_n, m, expected) => {
    expect(m.type).toBe(MessageType.UserControl);
    expect(parseUserControl(m.payload)).toEqual(expected);
  });

  it('unknown user control events give just the event', () => {
    expect(parseUserControl(hex('0063 01'))).toEqual({ event: 99 });
  });

  it.each([
    ['SetChunkSize', () => parseSetChunkSize(hex('0000'))],
    ['Abort', () => parseAbort(hex(''))],
    ['Acknowledgement', () => parseAcknowledgement(hex('00'))],
    ['WindowAckSize', () => parseWindowAckSize(hex('000000'))],
    ['SetPeerBandwidth', () => parseSetPeerBandwidth(hex('00000001'))],
    ['UserControl', () => parseUserControl(hex('00'))],
    ['UserControl StreamBegin', () => parseUserControl(hex('0000 0000'))],
    ['UserControl SetBufferLength', () => parseUserControl(hex('0003 00000001'))],
  ])('%s: short payload -> BAD_MESSAGE', (_n, fn) => expectRtmpError(fn, 'BAD_MESSAGE'));

  it('parseSetChunkSize rejects 0 and the high bit', () => {
    expectRtmpError(() => parseSetChunkSize(hex('00000000')), 'BAD_CHUNK_SIZE');
    expectRtmpError(() => parseSetChunkSize(hex('80000001')), 'BAD_CHUNK_SIZE');
  });
});

describe('parseAggregate', () => {
  // sub-message: type(1) size(3) ts(3) tsExt(1) streamId(3) data backPointer(4)
  const agg = hex(
    '09 000002 0003e8 00 000000 aabb 0000000d' + // video @1000
      '08 000001 0003fc 00 000000 cc 0000000c' + // audio @1020
      '09 000001 000410 01 000000 dd 0000000c', // video @ 0x01000410
  );
  it('splits and rebases timestamps on the aggregate timestamp', () => {
    const out = parseAggregate({ csid: 7, type: 22, streamId: 1, timestamp: 5000, payload: agg });
    expect(out).toEqual([
      { csid: 7, type: 9, streamId: 1, timestamp: 5000, payload: hex('aabb') },
      { csid: 7, type: 8, streamId: 1, timestamp: 5020, payload: hex('cc') },
      { csid: 7, type: 9, streamId: 1, timestamp: 0x01000410 + 4000, payload: hex('dd') },
    ]);
  });
  it('tolerates a missing last back pointer', () => {
    expect(parseAggregate({ csid: 7, type: 22, streamId: 1, timestamp: 0, payload: agg.subarray(0, agg.length - 4) })).toHaveLength(3);
  });
  it('rejects malformed input', () => {
    expectRtmpError(() => parseAggregate({ csid: 7, type: 22, streamId: 1, timestamp: 0, payload: hex('09 000010 000000 00 000000 aa') }), 'BAD_MESSAGE');
    expectRtmpError(() => parseAggregate({ csid: 7, type: 22, streamId: 1, timestamp: 0, payload: hex('09 0000') }), 'BAD_MESSAGE');
    expectRtmpError(() => parseAggregate({ csid: 7, type: 22, streamId: 1, timestamp: 0, payload: agg }, 2), 'BAD_MESSAGE');
  });
  it('random input: only RtmpProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (u) => {
        try {
          parseAggregate({ csid: 7, type: 22, streamId: 1, timestamp: 0, payload: Buffer.from(u) });
        } catch (e) {
          if (!(e instanceof RtmpProtocolError)) throw e;
        }
      }),
    );
  });
});

describe('AcknowledgementTracker', () => {
  it('acknowledges once per window', () => {
    const t = new AcknowledgementTracker();
    expect(t.update(10_000_000)).toBeUndefined(); // no window yet
    t.setWindowSize(1000);
    expect(t.update(10_000_500)).toBe(10_000_500);
    expect(t.update(10_001_000)).toBeUndefined();
    expect(t.update(10_001_500)).toBe(10_001_500);
  });
  it('wraps the sequence number at 2^32', () => {
    const t = new AcknowledgementTracker(1000);
    expect(t.update(0x100000000 + 42)).toBe(42);
  });
});
