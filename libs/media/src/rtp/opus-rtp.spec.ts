import { depacketizeOpus, OPUS_RTP_CLOCK_RATE, opusRtpDuration, opusRtpTimestamp, packetizeOpus } from './opus-rtp';
import { parseRtpPacket, RtpStamper } from './rtp-packet';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('Opus RTP (RFC 7587)', () => {
  it('sends one Opus packet per RTP payload, the marker only after silence', () => {
    const frame = hex('fc ff fe');
    expect(packetizeOpus(frame)).toEqual({ payload: frame, marker: false });
    expect(packetizeOpus(frame, true)).toEqual({ payload: frame, marker: true });
  });

  it('rejects an empty Opus packet', () => {
    expect(() => packetizeOpus(Buffer.alloc(0))).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });

  it('returns the payload as is, an empty one (DTX / lost frame) too', () => {
    const stamper = new RtpStamper({ ssrc: 1, payloadType: 111, sequenceNumber: 65535 });
    const [a, b] = stamper.stamp([packetizeOpus(hex('f8 0102')), { payload: Buffer.alloc(0), marker: false }], 960).map(parseRtpPacket);
    expect(depacketizeOpus(a).toString('hex')).toBe('f80102');
    expect(b.sequenceNumber).toBe(0);
    expect(depacketizeOpus(b)).toHaveLength(0);
  });

  it('uses a 48 kHz clock whatever the coded rate', () => {
    expect(OPUS_RTP_CLOCK_RATE).toBe(48000);
    expect(opusRtpTimestamp(1000)).toBe(48000);
    expect(opusRtpTimestamp(20)).toBe(960);
    expect(opusRtpTimestamp(2 ** 32 / 48)).toBe(0); // wraps at 32 bits
    expect(opusRtpTimestamp(-1)).toBe(2 ** 32 - 48);
  });

  it.each([
    ['SILK NB 10 ms, one frame', '00', 480],
    ['SILK WB 60 ms, one frame', '58', 2880],
    ['CELT FB 20 ms, one frame', 'f8', 960],
    ['CELT FB 20 ms, two equal frames', 'f9', 1920],
    ['CELT FB 2.5 ms, code 3 with 3 frames', 'e3 03', 360],
  ])('advances the timestamp by the samples of the packet: %s', (_n, packet, samples) => {
    expect(opusRtpDuration(hex(packet))).toBe(samples);
  });
});
