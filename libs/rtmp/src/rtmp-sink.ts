import { AVFrame, StreamError, SubscribeConfig, SubscriberSink, Track, TrackSet } from '@m7s/core';
import { frameTagBody, trackConfigBody } from '@m7s/flv';
import type { AudioCodec } from '@m7s/media';
import { buildFlvMetadataObject } from './rtmp-metadata';
import type { RtmpConnection } from './rtmp-connection';
import {
  buildStreamBegin,
  buildStreamEof,
  ChunkStreamId,
  chunkBodyWithContinuations,
  chunkFirstHeader,
  commandMessage,
  dataMessage,
  encodeOnMetaData,
  encodeOnStatus,
  encodeSetDataFrame,
  MessageType,
  NetStatus,
  statusInfo,
} from './protocol';

/** Audio an RTMP player takes: what legacy FLV audio carries (other codecs reach it transcoded, see SubscriberSink.audioCodecs). */
export const RTMP_AUDIO_CODECS: readonly AudioCodec[] = ['aac', 'mp3', 'pcma', 'pcmu'];
/** An Enhanced RTMP client that announced 'Opus' in its connect fourCcList also takes Opus as is. */
export const ENHANCED_RTMP_AUDIO_CODECS: readonly AudioCodec[] = [...RTMP_AUDIO_CODECS, 'opus'];

/**
 * Plays a stream into an RTMP connection: a player's NetStream on our server ('play'), or the stream we
 * publish to a remote server ('push'). A frame's chunked message (header + continuation chunks) is built
 * once per message stream id and chunk size and shared by every connection that matches.
 */
export class RtmpSink implements SubscriberSink {
  private lastTimestamp = 0;
  private waitingForPublisher = false;
  /** How long audio may wait for the next video frame (0 when the stream has no video). */
  private audioDeferMs = 0;
  private cacheKey = '';
  private cacheKeyChunkSize = 0;

  constructor(
    private readonly conn: RtmpConnection,
    private readonly streamId: number,
    private readonly mode: 'play' | 'push',
    private readonly onEnd: (error?: StreamError) => void = () => undefined,
    readonly audioCodecs: readonly AudioCodec[] = RTMP_AUDIO_CODECS,
  ) {}

  backlog(): number {
    return this.conn.backlog;
  }

  /** Everything the connection sent (handshake and commands included). */
  get bytesSent(): number {
    return this.conn.bytesSent;
  }

  start(tracks: TrackSet, policy: SubscribeConfig): void {
    this.audioDeferMs = tracks.video ? policy.writeMergeTime : 0;
    if (this.waitingForPublisher) {
      this.waitingForPublisher = false;
      this.status(NetStatus.PlayPublishNotify);
      this.conn.send(buildStreamBegin(this.streamId));
    }
    const metadata = buildFlvMetadataObject(tracks);
    const payload = this.mode === 'push' ? encodeSetDataFrame(metadata) : encodeOnMetaData(metadata);
    this.conn.send(dataMessage(payload, this.streamId));
    if (tracks.video) this.track(tracks.video);
    if (tracks.audio) this.track(tracks.audio);
  }

  track(track: Track): void {
    const body = trackConfigBody(track);
    if (!body) return;
    const video = track.kind === 'video';
    this.conn.send({
      csid: video ? ChunkStreamId.Video : ChunkStreamId.Audio,
      type: video ? MessageType.Video : MessageType.Audio,
      streamId: this.streamId,
      timestamp: this.lastTimestamp,
      payload: body,
    });
  }

  frame(frame: AVFrame): void {
    this.lastTimestamp = Math.round(frame.dts) >>> 0;
    // The chunked message depends on the message stream id and chunk size only: players that share
    // them share the Buffer. The key is rebuilt only if the chunk size changes.
    if (this.cacheKeyChunkSize !== this.conn.outChunkSize) {
      this.cacheKeyChunkSize = this.conn.outChunkSize;
      this.cacheKey = `rtmp:${this.streamId}:${this.cacheKeyChunkSize}`;
    }
    this.conn.write(frame.cached(this.cacheKey, this.buildChunks), frame.kind === 'audio' ? this.audioDeferMs : 0);
  }

  /** One bound builder per sink, so the per-frame path allocates no closure. */
  private readonly buildChunks = (f: AVFrame): Buffer => {
    const video = f.kind === 'video';
    const csid = video ? ChunkStreamId.Video : ChunkStreamId.Audio;
    const timestamp = Math.round(f.dts) >>> 0;
    const body = frameTagBody(f);
    return Buffer.concat([
      chunkFirstHeader(csid, video ? MessageType.Video : MessageType.Audio, this.streamId, timestamp, body.length),
      chunkBodyWithContinuations(body, csid, this.cacheKeyChunkSize, timestamp),
    ]);
  };

  publisherLeft(): boolean {
    if (this.mode === 'push') {
      this.onEnd();
      return false;
    }
    // RTMP players stay: they are told, and the next publisher on the path serves them.
    this.waitingForPublisher = true;
    this.conn.send(buildStreamEof(this.streamId));
    this.status(NetStatus.PlayUnpublishNotify);
    return true;
  }

  end(error: StreamError): void {
    if (this.mode === 'play') {
      const entry = error.code === 'WAIT_TIMEOUT' ? NetStatus.PlayStreamNotFound : NetStatus.PlayStop;
      this.status(entry, error.message);
    }
    this.onEnd(error);
  }

  private status(entry: (typeof NetStatus)[keyof typeof NetStatus], description?: string): void {
    this.conn.send(commandMessage(encodeOnStatus(statusInfo(entry, description)), this.streamId));
  }
}
