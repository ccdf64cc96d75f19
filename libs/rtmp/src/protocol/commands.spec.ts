import fc from 'fast-check';
import { Amf0EcmaArray, decodeAmf0, encodeAmf0, encodeAmf3 } from '@m7s/media';
import {
  commandMessage,
  dataMessage,
  decodeCommand,
  decodeData,
  encodeConnect,
  encodeConnectResult,
  encodeCreateStream,
  encodeError,
  encodeOnBWDone,
  encodeOnMetaData,
  encodeOnStatus,
  encodePlay,
  encodePublish,
  encodeResult,
  encodeSampleAccess,
  encodeSetDataFrame,
  metadataOf,
  NetStatus,
  statusInfo,
} from './commands';
import { MessageType } from './messages';
import { RtmpProtocolError } from './rtmp.errors';
import { expectErrorCode } from '@m7s/test-kit/expect-error';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const expectRtmpError = (fn: () => unknown, code: string): void => expectErrorCode(fn, RtmpProtocolError, code);

describe('decodeCommand', () => {
  it('AMF0 connect (type 20)', () => {
    const payload = encodeAmf0('connect', 1, { app: 'live', tcUrl: 'rtmp://h/live', objectEncoding: 0 });
    expect(decodeCommand({ type: 20, payload })).toEqual({
      name: 'connect',
      transactionId: 1,
      commandObject: { app: 'live', tcUrl: 'rtmp://h/live', objectEncoding: 0 },
      args: [],
    });
  });

  it('publish with arguments', () => {
    expect(decodeCommand(commandMessage(encodePublish('cam1?token=x', 'live'), 1))).toEqual({
      name: 'publish',
      transactionId: 0,
      commandObject: null,
      args: ['cam1?token=x', 'live'],
    });
  });

  it('AMF3 command (type 17): format byte 0, AMF0 values, AVM+ switches', () => {
    const payload = Buffer.concat([
      hex('00'),
      encodeAmf0('connect', 1),
      hex('11'),
      encodeAmf3({ app: 'live', objectEncoding: 3 }),
      hex('11'),
      encodeAmf3('extra'),
    ]);
    expect(decodeCommand({ type: 17, payload })).toEqual({
      name: 'connect',
      transactionId: 1,
      commandObject: { app: 'live', objectEncoding: 3 },
      args: ['extra'],
    });
  });

  it('AMF3 command without the format byte', () => {
    expect(decodeCommand({ type: 17, payload: encodeAmf0('play', 0, null, 'x') }).args).toEqual(['x']);
  });

  it('tolerates a missing or odd transaction id and command object', () => {
    expect(decodeCommand({ type: 20, payload: encodeAmf0('closeStream') })).toEqual({ name: 'closeStream', transactionId: 0, commandObject: null, args: [] });
    expect(decodeCommand({ type: 20, payload: encodeAmf0('x', 'y') }).transactionId).toBe(0);
  });

  it.each([
    ['not a command type', { type: 18, payload: encodeAmf0('x') }],
    ['empty payload', { type: 20, payload: Buffer.alloc(0) }],
    ['name is not a string', { type: 20, payload: encodeAmf0(1, 2) }],
    ['truncated AMF', { type: 20, payload: encodeAmf0('connect', 1, { app: 'live' }).subarray(0, 23) }],
    ['unknown AMF marker', { type: 20, payload: hex('02 0001 61 42') }],
  ])('%s -> BAD_COMMAND', (_n, m) => expectRtmpError(() => decodeCommand(m), 'BAD_COMMAND'));

  it('keeps the AmfError as cause', () => {
    try {
      decodeCommand({ type: 20, payload: hex('02 00ff') });
    } catch (e) {
      expect((e as Error).cause).toMatchObject({ code: 'TRUNCATED' });
    }
  });

  it('random and mutated payloads: only RtmpProtocolError', () => {
    const base = encodeConnect(1, { app: 'live', tcUrl: 'rtmp://127.0.0.1/live', fpad: false, capabilities: 15 });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 5 }).map((flips) => {
            const b = Buffer.from(base);
            for (const [i, v] of flips) b[i % b.length] = v;
            return b;
          }),
        ),
        fc.constantFrom(15, 17, 18, 20),
        (payload, type) => {
          try {
            if (type === 17 || type === 20) decodeCommand({ type, payload });
            else decodeData({ type, payload });
          } catch (e) {
            if (!(e instanceof RtmpProtocolError)) throw e;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('decodeData and metadata', () => {
  const meta = { width: 1280, height: 720, videocodecid: 7, framerate: 25 };
  it('@setDataFrame from a publisher', () => {
    const d = decodeData(dataMessage(encodeSetDataFrame(meta), 1));
    expect(d).toEqual({ name: '@setDataFrame', values: ['onMetaData', meta] });
    expect(metadataOf(d)).toEqual(meta);
  });
  it('onMetaData', () => {
    const d = decodeData({ type: 18, payload: encodeOnMetaData(meta) });
    expect(metadataOf(d)).toEqual(meta);
  });
  it('AMF3 data message (type 15)', () => {
    const d = decodeData({ type: 15, payload: Buffer.concat([hex('00'), encodeAmf0('onMetaData', new Amf0EcmaArray(meta))]) });
    expect(metadataOf(d)).toEqual(meta);
  });
  it('other data messages have no metadata', () => {
    expect(metadataOf(decodeData({ type: 18, payload: encodeSampleAccess() }))).toBeUndefined();
    expect(metadataOf({ name: 'onMetaData', values: ['x'] })).toBeUndefined();
  });
});

describe('encoders', () => {
  it('_result', () => {
    expect(decodeAmf0(encodeResult(4, null, 1))).toEqual(['_result', 4, null, 1]);
  });

  it('connect _result', () => {
    const v = decodeAmf0(encodeConnectResult(1, { objectEncoding: 3 }));
    expect(v[0]).toBe('_result');
    expect(v[1]).toBe(1);
    expect(v[2]).toMatchObject({ fmsVer: expect.stringMatching(/^FMS\//), capabilities: 31 });
    expect(v[3]).toEqual({ level: 'status', code: 'NetConnection.Connect.Success', description: 'Connection succeeded.', objectEncoding: 3 });
  });

  it('_error', () => {
    expect(decodeAmf0(encodeError(1, statusInfo(NetStatus.ConnectRejected, 'bad token')))).toEqual([
      '_error',
      1,
      null,
      { level: 'error', code: 'NetConnection.Connect.Rejected', description: 'bad token' },
    ]);
  });

  it('onStatus with details', () => {
    const m = commandMessage(encodeOnStatus(statusInfo(NetStatus.PlayStart, 'Started playing live/x.', { details: 'live/x' })), 1);
    expect(m).toMatchObject({ type: MessageType.CommandAmf0, streamId: 1, csid: 5 });
    expect(decodeCommand(m)).toEqual({
      name: 'onStatus',
      transactionId: 0,
      commandObject: null,
      args: [{ level: 'status', code: 'NetStream.Play.Start', description: 'Started playing live/x.', details: 'live/x' }],
    });
  });

  it('onBWDone and |RtmpSampleAccess', () => {
    expect(decodeAmf0(encodeOnBWDone())).toEqual(['onBWDone', 0, null]);
    expect(decodeAmf0(encodeSampleAccess())).toEqual(['|RtmpSampleAccess', true, true]);
    expect(encodeSampleAccess(false, false).subarray(-4)).toEqual(hex('0100 0100'));
  });

  it('client commands', () => {
    expect(decodeCommand(commandMessage(encodeConnect(1, { app: 'live', tcUrl: 'rtmp://h/live' }))).commandObject).toMatchObject({
      app: 'live',
      tcUrl: 'rtmp://h/live',
      type: 'nonprivate',
    });
    expect(decodeAmf0(encodeCreateStream(2))).toEqual(['createStream', 2, null]);
    expect(decodeAmf0(encodePlay('x'))).toEqual(['play', 0, null, 'x', -2, -1, true]);
  });

  it('command messages default to csid 3 on stream 0 and csid 5 on a NetStream', () => {
    expect(commandMessage(Buffer.alloc(0))).toMatchObject({ csid: 3, streamId: 0, type: 20 });
    expect(dataMessage(Buffer.alloc(0), 1)).toMatchObject({ csid: 5, streamId: 1, type: 18 });
  });
});

describe('NetStatus table', () => {
  it.each([
    ['NetConnection.Connect.Success', 'status'],
    ['NetConnection.Connect.Rejected', 'error'],
    ['NetStream.Publish.Start', 'status'],
    ['NetStream.Publish.BadName', 'error'],
    ['NetStream.Publish.Idle', 'status'],
    ['NetStream.Unpublish.Success', 'status'],
    ['NetStream.Play.Reset', 'status'],
    ['NetStream.Play.Start', 'status'],
    ['NetStream.Play.Stop', 'status'],
    ['NetStream.Play.StreamNotFound', 'error'],
    ['NetStream.Play.Failed', 'error'],
    ['NetStream.Play.UnpublishNotify', 'status'],
    ['NetStream.Play.PublishNotify', 'status'],
  ])('%s is %s', (code, level) => {
    const e = Object.values(NetStatus).find((s) => s.code === code);
    expect(e).toBeDefined();
    expect(e!.level).toBe(level);
  });
});
