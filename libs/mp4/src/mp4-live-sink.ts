import type { AVFrame, StreamError, SubscribeConfig, SubscriberSink, Track, TrackSet } from '@m7s/core';
import { httpChunk, PlayerWriter } from '@m7s/flv';
import { AudioCodec, buildFragment, buildInitSegment, mp4SampleData } from '@m7s/media';
import { mp4TracksOf, nominalDuration, timescaleOf, toUnits, AUDIO_TRACK_ID, VIDEO_TRACK_ID } from './mp4-tracks';

/**
 * One frame as one fMP4 fragment (moof + mdat): sequence number = the frame's position in the stream,
 * decode time = the stream clock in the track's timescale, so the same bytes serve every player.
 */
export function frameFragment(frame: AVFrame): Buffer {
  const timescale = timescaleOf(frame.config);
  const data = mp4SampleData(frame.codec, frame.data);
  const size = data.reduce((n, b) => n + b.length, 0);
  const baseDecodeTime = Math.max(0, toUnits(frame.dts, timescale));
  const sample = { dts: baseDecodeTime, duration: nominalDuration(frame.config, size), cts: toUnits(frame.cts, timescale), keyFrame: frame.keyFrame, size };
  const trackId = frame.kind === 'video' ? VIDEO_TRACK_ID : AUDIO_TRACK_ID;
  return Buffer.concat(buildFragment(frame.seq, [{ trackId, baseDecodeTime, samples: [sample], data }]));
}

const chunkedFragment = (frame: AVFrame): Buffer => httpChunk(frameFragment(frame));

/**
 * Plays a stream as fragmented MP4 over chunked HTTP: the init segment (ftyp + moov) of the tracks at
 * start, then one fragment per frame, built once per frame (frame.cached) for every player.
 * A track whose config changes (or a track that appears after start) ends the response: the init segment
 * cannot change mid-file, so the player reconnects and gets a new one.
 */
export class Mp4LiveSink implements SubscriberSink {
  /** Audio browsers play from fMP4 (MSE): AAC, Opus, MP3; G.711 and the rest reach them transcoded. */
  readonly audioCodecs: readonly AudioCodec[] = ['aac', 'opus', 'mp3'];
  private audioDeferMs = 0;
  private ended = false;
  bytesSent = 0;

  constructor(private readonly writer: PlayerWriter) {}

  backlog(): number {
    return this.writer.backlog();
  }

  start(tracks: TrackSet, policy: SubscribeConfig): void {
    this.audioDeferMs = tracks.video ? policy.writeMergeTime : 0;
    this.write(httpChunk(buildInitSegment(mp4TracksOf(tracks))));
  }

  track(_track: Track): void {
    this.finish();
  }

  frame(frame: AVFrame): void {
    if (this.ended) return;
    this.write(frame.cached('mp4-fragment-chunk', chunkedFragment), frame.kind === 'audio' ? this.audioDeferMs : 0);
  }

  publisherLeft(): boolean {
    this.finish();
    return false;
  }

  end(error: StreamError): void {
    if (this.ended) return;
    this.ended = true;
    this.writer.end(error);
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.writer.end();
  }

  private write(data: Buffer, deferMs = 0): void {
    this.bytesSent += data.length;
    this.writer.write(data, deferMs);
  }
}
