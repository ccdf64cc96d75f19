import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ConfigService, EngineEvents, Publisher, RelayDriver, RelayDrivers, RelayOptions, RelaySession, StreamRegistry, Subscriber } from '@m7s/core';
import { isMediaError, parseSdp, resolveControlUrl, rtpFormatOfSdpMedia, RtpTrackFormat, RtpTrackReceiver, sdpAttribute } from '@m7s/media';
import type { RtspConfig } from './rtsp.config';
import { RtspClient } from './rtsp-client';
import { RtpIngestTrack, RtpSessionClock } from './rtp-ingest';
import { RtpPlayTrack, RtspPlaySink } from './rtsp-play-sink';
import { describeTracks, sessionSdp } from './rtsp-sdp';
import { UdpPortAllocator, UdpPortPair } from './rtsp-udp';
import { waitForTracks } from './stream-tracks';
import { formatTransport, parseTransportHeader } from './protocol';

/** RTCP receiver reports go to the source this often. */
const RECEIVER_REPORT_INTERVAL_MS = 5000;
/** A pull with no RTP for this long is considered dead (the camera froze without closing). */
const MEDIA_TIMEOUT_MS = 10_000;

interface PulledTrack {
  format: RtpTrackFormat;
  control: string;
  ingest?: RtpIngestTrack;
  udp?: UdpPortPair;
  /** The source's RTP/RTCP ports (UDP), for our receiver reports. */
  serverPorts?: [number, number];
  channel?: number;
}

/**
 * Pulls rtsp:// sources (cameras, servers) into local stream paths and pushes local streams to remote RTSP
 * servers (ANNOUNCE/RECORD), over TCP (interleaved) or UDP. The proxy layer reconnects; this only runs one
 * attempt and reports how it ended.
 */
@Injectable()
export class RtspRelayService implements RelayDriver, OnModuleInit, OnApplicationShutdown {
  readonly schemes = ['rtsp', 'rtsps'] as const;
  private readonly logger = new Logger('RtspRelay');
  private readonly sessions = new Set<RelaySession>();
  private readonly config: RtspConfig;
  private readonly udpPorts: UdpPortAllocator;

  constructor(
    configService: ConfigService,
    private readonly registry: StreamRegistry,
    private readonly events: EngineEvents,
    private readonly drivers: RelayDrivers,
  ) {
    this.config = configService.section<RtspConfig>('rtsp');
    this.udpPorts = new UdpPortAllocator(this.config.udp.portMin, this.config.udp.portMax);
  }

  onModuleInit(): void {
    this.drivers.register(this);
  }

  onApplicationShutdown(): void {
    for (const s of this.sessions) s.stop();
  }

  /** Plays `url` and publishes what arrives as `streamPath`. Resolves once the remote PLAY succeeded. */
  async pull(url: string, streamPath: string, options: RelayOptions = {}): Promise<RelaySession> {
    const client = await RtspClient.connect(url, { timeout: options.timeout, maxInterleavedBytes: this.config.maxInterleavedSize });
    const tracks: PulledTrack[] = [];
    const cleanup = () => {
      for (const t of tracks) t.udp?.close();
    };
    let publisher: Publisher;
    try {
      await client.request('OPTIONS', client.baseUrl);
      const described = await client.request('DESCRIBE', client.baseUrl, { Accept: 'application/sdp' });
      const base = described.headers.get('content-base') ?? described.headers.get('content-location') ?? client.baseUrl;
      const sdp = parseSdp(described.body);
      sdp.media.forEach((media) => {
        const format = rtpFormatOfSdpMedia(media);
        if (!format || (format.kind === 'audio' && options.audio === false)) return;
        new RtpTrackReceiver(format); // a config= or sprop the depacketizer cannot use fails the pull here
        tracks.push({ format, control: resolveControlUrl(base, sdpAttribute(media.attributes, 'control')) });
      });
      if (tracks.length === 0) throw new Error('the source offers no track in a supported format');
      await this.setupPull(client, tracks, options.transport ?? 'tcp');
      // The aggregate control URL (session-level a=control), else the URL we described.
      const sessionControl = sdpAttribute(sdp.attributes, 'control');
      await client.request('PLAY', sessionControl ? resolveControlUrl(base, sessionControl) : client.baseUrl, { Range: 'npt=0.000-' });
      publisher = this.registry.publish(streamPath, { protocol: 'rtsp-pull', remoteAddress: client.conn.remoteAddress, query: new URLSearchParams(new URL(client.baseUrl).search) });
    } catch (error) {
      cleanup();
      client.close('pull failed');
      throw error;
    }

    const clock = new RtpSessionClock(Date.now());
    publisher.expectVideo = tracks.some((t) => t.format.kind === 'video');
    let lastMedia = Date.now();
    for (const t of tracks) t.ingest = new RtpIngestTrack(t.format, publisher, clock, { reorderDelayMs: t.udp ? this.config.reorderDelay : 0 });
    const receive = (track: PulledTrack, data: Buffer, rtcp: boolean) => {
      if (rtcp) return track.ingest!.receiveRtcp(data, Date.now());
      lastMedia = Date.now();
      try {
        track.ingest!.receive(data, lastMedia);
      } catch (error) {
        if (!isMediaError(error)) throw error;
        client.close(`bad RTP from the source: ${error.message}`);
      }
    };
    client.on('interleaved', (channel: number, data: Buffer) => {
      const track = tracks.find((t) => t.channel === channel || t.channel === channel - 1);
      if (track) receive(track, data, channel !== track.channel);
    });
    for (const t of tracks) {
      t.udp?.rtp.on('message', (msg) => receive(t, msg, false));
      t.udp?.rtcp.on('message', (msg) => receive(t, msg, true));
    }
    // Keep the session alive and measure the round trip; notice a source that stopped sending.
    const keepAliveMs = Math.max(1000, (client.sessionTimeout * 1000) / 2);
    let lastKeepAlive = Date.now();
    let lastReport = Date.now();
    const timer = setInterval(() => {
      const now = Date.now();
      for (const t of tracks) t.ingest!.poll(now);
      if (now - lastReport >= RECEIVER_REPORT_INTERVAL_MS) {
        lastReport = now;
        for (const t of tracks) {
          const report = t.ingest!.receiverReport(now);
          if (!report) continue;
          if (t.udp && t.serverPorts) t.udp.rtcp.send(report, t.serverPorts[1], client.conn.remoteIp);
          else if (t.channel !== undefined) client.sendInterleaved(t.channel + 1, report);
        }
      }
      if (now - lastMedia > MEDIA_TIMEOUT_MS) return client.close(`no media for ${MEDIA_TIMEOUT_MS} ms`);
      if (now - lastKeepAlive >= keepAliveMs) {
        lastKeepAlive = now;
        client.request('GET_PARAMETER', client.baseUrl).catch(() => client.request('OPTIONS', client.baseUrl).catch(() => undefined));
      }
    }, 100);
    timer.unref();
    publisher.onStop = () => client.close('publisher stopped');
    this.events.emit('pull_start', { streamPath, url: client.baseUrl, time: Date.now() });
    const done = new Promise<string>((resolve) =>
      client.once('close', (reason: string) => {
        clearInterval(timer);
        cleanup();
        for (const t of tracks) t.ingest?.close();
        publisher.close(`pull ended: ${reason}`);
        this.events.emit('pull_end', { streamPath, url: client.baseUrl, time: Date.now(), reason });
        resolve(reason);
      }),
    );
    return this.track({ url, streamPath, done, rtt: () => client.rtt, stop: () => client.close('stopped') });
  }

  private async setupPull(client: RtspClient, tracks: PulledTrack[], transport: 'tcp' | 'udp' | 'auto'): Promise<void> {
    let useUdp = transport !== 'tcp';
    for (let i = 0; i < tracks.length; i++) {
      const t = tracks[i];
      if (useUdp) {
        t.udp = await this.udpPorts.allocate();
        try {
          const res = await client.request('SETUP', t.control, { Transport: `RTP/AVP;unicast;client_port=${t.udp.rtpPort}-${t.udp.rtcpPort}` });
          t.serverPorts = parseTransportHeader(res.headers.get('transport') ?? '')[0]?.serverPort;
          continue;
        } catch (error) {
          t.udp.close();
          t.udp = undefined;
          // 'auto' falls back to TCP when the source refuses UDP (461) on the first track.
          if (transport !== 'auto' || i > 0) throw error;
          useUdp = false;
        }
      }
      t.channel = 2 * i;
      const res = await client.request('SETUP', t.control, { Transport: `RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1}` });
      const chosen = parseTransportHeader(res.headers.get('transport') ?? '')[0];
      if (chosen?.interleaved) t.channel = chosen.interleaved[0];
    }
  }

  /** Publishes the local `streamPath` to `url` (ANNOUNCE, SETUP, RECORD). Resolves once RECORD succeeded. */
  async push(streamPath: string, url: string, options: RelayOptions = {}): Promise<RelaySession> {
    const info = { protocol: 'rtsp-push', remoteAddress: url, query: new URLSearchParams() };
    const localTracks = await waitForTracks(this.registry, streamPath, info);
    if (options.audio === false) delete localTracks.audio;
    const described = describeTracks(localTracks);
    if (described.length === 0) throw new Error(`${streamPath} has no track to push`);
    const client = await RtspClient.connect(url, { timeout: options.timeout });
    const udpPairs: UdpPortPair[] = [];
    let subscriber: Subscriber;
    try {
      await client.request('ANNOUNCE', client.baseUrl, { 'Content-Type': 'application/sdp' }, sessionSdp(described, client.conn.localIp, streamPath));
      const playTracks: RtpPlayTrack[] = [];
      for (let i = 0; i < described.length; i++) {
        const d = described[i];
        const track = new RtpPlayTrack(d.config, d.control, this.config.mtu);
        const controlUrl = `${client.baseUrl.replace(/\/$/, '')}/${d.control}`;
        if (options.transport === 'udp') {
          const pair = await this.udpPorts.allocate();
          udpPairs.push(pair);
          const res = await client.request('SETUP', controlUrl, { Transport: `RTP/AVP;unicast;client_port=${pair.rtpPort}-${pair.rtcpPort};mode=record` });
          const chosen = parseTransportHeader(res.headers.get('transport') ?? '')[0];
          if (!chosen?.serverPort) throw new Error('the server gave no server_port for UDP');
          track.udp = { socket: pair.rtp, rtcp: pair.rtcp, ip: client.conn.remoteIp, ports: chosen.serverPort };
        } else {
          const res = await client.request('SETUP', controlUrl, { Transport: formatTransport({ protocol: 'RTP/AVP/TCP', lowerTransport: 'TCP', multicast: false, interleaved: [2 * i, 2 * i + 1], mode: 'record', params: {} }) });
          track.channel = parseTransportHeader(res.headers.get('transport') ?? '')[0]?.interleaved?.[0] ?? 2 * i;
        }
        playTracks.push(track);
      }
      await client.request('RECORD', client.baseUrl, { Range: 'npt=0.000-' });
      const sink = new RtspPlaySink(client.conn, playTracks, () => client.close('local stream ended'));
      subscriber = this.registry.subscribe(streamPath, { ...info, remoteAddress: client.conn.remoteAddress }, sink);
      const timer = setInterval(() => sink.tick(Date.now()), 1000);
      timer.unref();
      client.once('close', () => clearInterval(timer));
    } catch (error) {
      for (const p of udpPairs) p.close();
      client.close('push failed');
      throw error;
    }
    // Keep-alive for servers that time out sessions without requests.
    const keepAlive = setInterval(() => client.request('OPTIONS', client.baseUrl).catch(() => undefined), Math.max(1000, (client.sessionTimeout * 1000) / 2));
    keepAlive.unref();
    this.events.emit('push_start', { streamPath, url: client.baseUrl, time: Date.now() });
    const done = new Promise<string>((resolve) =>
      client.once('close', (reason: string) => {
        clearInterval(keepAlive);
        for (const p of udpPairs) p.close();
        this.registry.unsubscribe(subscriber, `push ended: ${reason}`);
        this.events.emit('push_end', { streamPath, url: client.baseUrl, time: Date.now(), reason });
        resolve(reason);
      }),
    );
    return this.track({ url, streamPath, done, rtt: () => client.rtt, stop: () => client.close('stopped') });
  }

  private track(session: RelaySession): RelaySession {
    this.sessions.add(session);
    void session.done.then(() => this.sessions.delete(session));
    return session;
  }
}
