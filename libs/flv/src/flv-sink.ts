import { AVFrame, StreamError, SubscribeConfig, SubscriberSink, Track, TrackSet } from '@m7s/core';
import { AudioCodec, buildFlvHeader } from '@m7s/media';
import type { PlayerWriter } from './http-play';
import { FLV_AUDIO, FLV_SCRIPT, FLV_VIDEO, flvTag, frameTag, metadataBody, trackConfigBody } from './flv-tags';

const CRLF = Buffer.from('\r\n');

/** One HTTP/1.1 chunk: size in hex, CRLF, data, CRLF. */
export function httpChunk(data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(data.length.toString(16) + '\r\n'), data, CRLF]);
}

const chunkedFrameTag = (frame: AVFrame): Buffer => httpChunk(frameTag(frame));

/** Audio FLV players read (legacy FLV: AAC, MP3, G.711); Opus and the rest reach them as AAC, or as is with ?transcodeAudio=false. */
export const FLV_AUDIO_CODECS: readonly AudioCodec[] = ['aac', 'mp3', 'pcma', 'pcmu'];

/**
 * Plays a stream as an FLV byte stream. Every frame's tag is taken from the frame's shared cache, so a
 * player costs one write per frame. The FLV ends when the publisher leaves.
 */
export class FlvSink implements SubscriberSink {
  /** How long audio may wait for the next video frame (0 when the stream has no video). */
  private audioDeferMs = 0;
  bytesSent = 0;
  readonly audioCodecs = FLV_AUDIO_CODECS;

  /** `chunked`: each write is framed as an HTTP/1.1 chunk (HTTP-FLV written straight to the socket). */
  constructor(
    private readonly writer: PlayerWriter,
    private readonly framing: 'raw' | 'chunked' = 'raw',
  ) {}

  backlog(): number {
    return this.writer.backlog();
  }

  start(tracks: TrackSet, policy: SubscribeConfig): void {
    this.audioDeferMs = tracks.video ? policy.writeMergeTime : 0;
    // Called once: an FLV player ends with its publisher (publisherLeft returns false).
    this.send(buildFlvHeader(tracks.audio !== undefined, tracks.video !== undefined));
    this.send(flvTag(FLV_SCRIPT, 0, metadataBody(tracks)));
    if (tracks.video) this.track(tracks.video);
    if (tracks.audio) this.track(tracks.audio);
  }

  track(track: Track): void {
    const body = trackConfigBody(track);
    if (!body) return;
    this.send(track.cached('flv-tag', () => flvTag(track.kind === 'video' ? FLV_VIDEO : FLV_AUDIO, 0, body)));
  }

  frame(frame: AVFrame): void {
    const deferMs = frame.kind === 'audio' ? this.audioDeferMs : 0;
    this.write(this.framing === 'raw' ? frameTag(frame) : frame.cached('flv-tag-chunk', chunkedFrameTag), deferMs);
  }

  publisherLeft(): boolean {
    this.writer.end();
    return false;
  }

  end(error: StreamError): void {
    this.writer.end(error);
  }

  private send(data: Buffer): void {
    this.write(this.framing === 'raw' ? data : httpChunk(data));
  }

  private write(data: Buffer, deferMs = 0): void {
    this.bytesSent += data.length;
    this.writer.write(data, deferMs);
  }
}
