import { ConfigService, EngineEvents, loadConfig, Publisher, StreamRegistry } from '@m7s/core';
import {
  buildAudioSpecificConfig,
  buildSenderReport,
  packetizeAacHbr,
  packetizeH264,
  parseRtcpCompound,
  RtpStamper,
  RtpTrackFormat,
  unixMsToNtp,
} from '@m7s/media';
import { RtpIngestTrack, RtpSessionClock } from './rtp-ingest';

const SPS = Buffer.from('6742c01e8c8d40a0fd00f0884650', 'hex');
const PPS = Buffer.from('68ce3c80', 'hex');
const ASC = buildAudioSpecificConfig({ objectType: 2, sampleRate: 48000, channels: 1 });

const VIDEO: RtpTrackFormat = {
  kind: 'video',
  payloadType: 96,
  encoding: 'H264',
  clockRate: 90000,
  fmtp: { 'packetization-mode': '1', 'sprop-parameter-sets': `${SPS.toString('base64')},${PPS.toString('base64')}` },
};
const AUDIO: RtpTrackFormat = {
  kind: 'audio',
  payloadType: 97,
  encoding: 'MPEG4-GENERIC',
  clockRate: 48000,
  channels: 1,
  fmtp: { mode: 'AAC-hbr', sizelength: '13', indexlength: '3', indexdeltalength: '3', config: ASC.toString('hex') },
};

function newPublisher(): { publisher: Publisher; registry: StreamRegistry } {
  const registry = new StreamRegistry(new ConfigService(loadConfig({ plugins: [], env: {}, overrides: {} })), new EngineEvents());
  return { registry, publisher: registry.publish('live/ingest', { protocol: 'rtsp', remoteAddress: 'test', query: new URLSearchParams() }) };
}

function idr(i: number): Buffer[] {
  return i === 0 ? [SPS, PPS, Buffer.from([0x65, 0x88, i])] : [Buffer.from([0x41, 0x9a, i])];
}

describe('RtpIngestTrack', () => {
  it('writes the SDP config at once, then frames with ms times from the RTP clock (wrap included)', () => {
    const { publisher, registry } = newPublisher();
    const track = new RtpIngestTrack(VIDEO, publisher, new RtpSessionClock(1000), { reorderDelayMs: 0 });
    expect(publisher.tracks.video?.config).toMatchObject({ codec: 'h264', width: 320, height: 240 });
    const dts: number[] = [];
    const write = publisher.writeVideo.bind(publisher);
    publisher.writeVideo = (d, pts, key, units) => (dts.push(d), write(d, pts, key, units));
    const stamper = new RtpStamper({ ssrc: 5, payloadType: 96, sequenceNumber: 65530 });
    const start = 0xffffffff - 5000;
    for (let i = 0; i < 10; i++) for (const p of stamper.stamp(packetizeH264(idr(i)), start + i * 3600)) track.receive(p, 1250);
    expect(publisher.tracks.video?.frames).toBe(10);
    // Placed at its arrival (250 ms after the session started), then 40 ms apart across the 32-bit wrap.
    expect(dts).toEqual(Array.from({ length: 10 }, (_v, i) => 250 + i * 40));
    registry.shutdown();
  });

  it('places a late-starting track by the NTP clocks of sender reports that came first', () => {
    const { publisher, registry } = newPublisher();
    const clock = new RtpSessionClock(0);
    const video = new RtpIngestTrack(VIDEO, publisher, clock, { reorderDelayMs: 0 });
    const audio = new RtpIngestTrack(AUDIO, publisher, clock, { reorderDelayMs: 0 });
    const wall = 1_700_000_000_000;
    const sr = (ssrc: number, ms: number, rtp: number) => {
      const ntp = unixMsToNtp(ms);
      return buildSenderReport({ ssrc, ntpSeconds: ntp.seconds, ntpFraction: ntp.fraction, rtpTimestamp: rtp, packetCount: 0, octetCount: 0 });
    };
    // Both senders say: video RTP 90000 and audio RTP 48000 are the same instant.
    video.receiveRtcp(sr(1, wall, 90000), 0);
    audio.receiveRtcp(sr(2, wall, 48000), 0);
    const written: { kind: string; dts: number }[] = [];
    const origWriteVideo = publisher.writeVideo.bind(publisher);
    const origWriteAudio = publisher.writeAudio.bind(publisher);
    publisher.writeVideo = (dts, pts, key, units) => (written.push({ kind: 'video', dts }), origWriteVideo(dts, pts, key, units));
    publisher.writeAudio = (dts, data) => (written.push({ kind: 'audio', dts }), origWriteAudio(dts, data));
    const vs = new RtpStamper({ ssrc: 1, payloadType: 96 });
    const as = new RtpStamper({ ssrc: 2, payloadType: 97 });
    // Video's first frame at that instant arrives at 100 ms; audio's first frame is 0.5 s later in media
    // time but arrives only 50 ms later (a bursty network): NTP places it at +500 ms, not +50 ms.
    for (const p of vs.stamp(packetizeH264(idr(0)), 90000)) video.receive(p, 100);
    for (const p of vs.stamp(packetizeH264(idr(1)), 93600)) video.receive(p, 140);
    for (const p of as.stamp(packetizeAacHbr([Buffer.from([0x21, 0x10, 0x04])]), 48000 + 24000)) audio.receive(p, 150);
    const firstVideo = written.find((w) => w.kind === 'video')!;
    const firstAudio = written.find((w) => w.kind === 'audio')!;
    expect(firstVideo.dts).toBeCloseTo(100, 5);
    expect(firstAudio.dts).toBeCloseTo(600, 5);
    registry.shutdown();
  });

  it('makes receiver reports about what arrived (loss counted)', () => {
    const { publisher, registry } = newPublisher();
    const track = new RtpIngestTrack(VIDEO, publisher, new RtpSessionClock(0), { reorderDelayMs: 0 });
    expect(track.receiverReport(0)).toBeUndefined();
    const stamper = new RtpStamper({ ssrc: 77, payloadType: 96, sequenceNumber: 10 });
    const packets = Array.from({ length: 10 }, (_v, i) => stamper.stamp(packetizeH264(idr(i)), i * 3600)).flat();
    packets.forEach((p, i) => i !== 3 && track.receive(p, i * 40));
    const [rr] = parseRtcpCompound(track.receiverReport(1000)!);
    expect(rr).toMatchObject({ type: 'rr', reports: [{ ssrc: 77, cumulativeLost: 1 }] });
    registry.shutdown();
  });
});
