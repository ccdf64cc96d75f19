import { Injectable } from '@nestjs/common';
import { AppError, normalizeStreamPath, Stream, StreamError, StreamRegistry, Subscriber, Track } from '@m7s/core';
import type { AudioConfig, VideoConfig } from '@m7s/media';
import { Page, PageQueryDto, paginate } from '../common/pagination';
import type { AudioTrackDto, StreamDetailDto, StreamInfoDto, SubscriberInfoDto, VideoTrackDto } from './stream.dto';

function perSecond(count: number, since: number, now: number): number {
  const seconds = (now - since) / 1000;
  return seconds > 0 ? count / seconds : 0;
}

function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Live streams and players as the API shows them (REST and gRPC call the same methods). */
@Injectable()
export class StreamsService {
  constructor(private readonly registry: StreamRegistry) {}

  /** Streams by path, paged. */
  list(query: PageQueryDto = {}): Page<StreamInfoDto> {
    const streams = this.registry.list().sort((a, b) => a.path.localeCompare(b.path));
    const page = paginate(streams, query);
    const now = Date.now();
    return { ...page, list: page.list.map((s) => this.describe(s, now)) };
  }

  info(streamPath: string): StreamDetailDto {
    const stream = this.stream(streamPath);
    const now = Date.now();
    return {
      ...this.describe(stream, now),
      publisherId: stream.publisher ? Number(stream.publisher.id) : undefined,
      subscriberList: [...stream.subscribers].map((s) => this.describeSubscriber(s)),
    };
  }

  subscribers(streamPath: string, query: PageQueryDto = {}): Page<SubscriberInfoDto> {
    const stream = this.stream(streamPath);
    const page = paginate([...stream.subscribers], query);
    return { ...page, list: page.list.map((s) => this.describeSubscriber(s)) };
  }

  /** Stops the publisher of a stream; its players are told like when a publisher leaves. */
  stop(streamPath: string): void {
    const path = normalizeStreamPath(streamPath);
    if (!this.registry.stopPublisher(path)) throw new StreamError('STREAM_NOT_FOUND', `no publisher on ${path}`);
  }

  /** Ends one player by id. */
  stopSubscriber(id: string | number): void {
    const key = String(id);
    if (!/^\d{1,12}$/.test(key)) throw new AppError('INVALID_ARGUMENT', `a subscriber id is a number, got ${JSON.stringify(key.slice(0, 40))}`);
    if (!this.registry.stopSubscriber(key)) throw new AppError('NOT_FOUND', `no subscriber with id ${key}`);
  }

  private stream(streamPath: string): Stream {
    const path = normalizeStreamPath(streamPath);
    const stream = this.registry.get(path);
    if (!stream) throw new StreamError('STREAM_NOT_FOUND', `no stream ${path}`);
    return stream;
  }

  private describe(stream: Stream, now: number): StreamInfoDto {
    const publisher = stream.publisher;
    const state = publisher ? 'publishing' : stream.subscribers.size > 0 ? 'waiting' : 'closing';
    const info: StreamInfoDto = { path: stream.path, state, subscribers: stream.subscribers.size, startTime: publisher?.createdAt ?? stream.createdAt, ready: stream.isReady };
    if (!publisher) return info;
    info.type = publisher.info.protocol;
    info.remoteAddress = publisher.info.remoteAddress;
    info.bytesIn = publisher.bytesReceived;
    if (publisher.tracks.video) info.videoTrack = this.describeVideo(publisher.tracks.video, now);
    if (publisher.tracks.audio) info.audioTrack = this.describeAudio(publisher.tracks.audio, now);
    return info;
  }

  private describeVideo(track: Track<VideoConfig>, now: number): VideoTrackDto {
    const { codec, width, height, profile, fps } = track.config;
    return {
      codec,
      width,
      height,
      fps: round(fps ?? perSecond(track.frames, track.createdAt, now)),
      bps: Math.round(perSecond(track.bytes * 8, track.createdAt, now)),
      profile,
      frames: track.frames,
    };
  }

  private describeAudio(track: Track<AudioConfig>, now: number): AudioTrackDto {
    const { codec, sampleRate, channels, profile } = track.config;
    return { codec, sampleRate, channels, bps: Math.round(perSecond(track.bytes * 8, track.createdAt, now)), profile, frames: track.frames };
  }

  private describeSubscriber(subscriber: Subscriber): SubscriberInfoDto {
    return {
      id: Number(subscriber.id),
      streamPath: subscriber.streamPath,
      startTime: subscriber.createdAt,
      protocol: subscriber.info.protocol,
      remoteAddress: subscriber.info.remoteAddress,
      state: subscriber.state,
      bytesSent: subscriber.bytesSent,
      framesSent: subscriber.framesSent,
      droppedFrames: subscriber.droppedFrames,
    };
  }
}
