import { EventEmitter } from 'node:events';

export interface StreamEventBase {
  streamPath: string;
  /** Wall-clock time of the event, ms since the epoch. */
  time: number;
}

export interface PublishEvent extends StreamEventBase {
  publisherId: string;
  protocol: string;
  remoteAddress: string;
  query: string;
}

export interface PublishEndEvent extends PublishEvent {
  reason: string;
}

export interface SubscribeEvent extends StreamEventBase {
  subscriberId: string;
  protocol: string;
  remoteAddress: string;
  query: string;
}

export interface SubscribeEndEvent extends SubscribeEvent {
  reason: string;
  droppedFrames: number;
  bytesSent: number;
}

/**
 * A player asked for a stream that has no publisher (it now waits for one). Emitted with the resolved path
 * (an alias gives its target); on-demand pull proxies start pulling on it.
 */
export interface StreamDemandEvent extends StreamEventBase {
  subscriberId: string;
  protocol: string;
  remoteAddress: string;
}

export interface RelayEvent extends StreamEventBase {
  url: string;
  reason?: string;
}

/** A recording file opened (record_start) or closed (record_end); emitted by the recorders. */
export interface RecordEvent extends StreamEventBase {
  /** The recordings row, once stored. */
  recordingId?: string;
  /** mp4 | flv | hls ... */
  format: string;
  filePath: string;
  /** record_end: ms of media written. */
  duration?: number;
  /** record_end: bytes written. */
  size?: number;
  /** record_end: why it closed (publisher left, file split, stopped...). */
  reason?: string;
}

/** Every domain event by name. Webhooks, metrics, analytics and the cluster listen; protocol code only emits through the engine. */
export interface EngineEventMap {
  publish_start: PublishEvent;
  publish_end: PublishEndEvent;
  subscribe_start: SubscribeEvent;
  subscribe_end: SubscribeEndEvent;
  stream_close: StreamEventBase;
  stream_demand: StreamDemandEvent;
  pull_start: RelayEvent;
  pull_end: RelayEvent;
  push_start: RelayEvent;
  push_end: RelayEvent;
  record_start: RecordEvent;
  record_end: RecordEvent;
}

/** The one event bus. Listeners must not throw; a throwing listener is isolated and logged by the caller. */
export class EngineEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(100);
  }

  emit<K extends keyof EngineEventMap>(name: K, event: EngineEventMap[K]): void {
    for (const listener of this.emitter.listeners(name)) {
      try {
        (listener as (e: EngineEventMap[K]) => void)(event);
      } catch (error) {
        this.emitter.emit('listener_error', error);
      }
    }
  }

  on<K extends keyof EngineEventMap>(name: K, listener: (event: EngineEventMap[K]) => void): () => void {
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }

  onListenerError(listener: (error: unknown) => void): void {
    this.emitter.on('listener_error', listener);
  }
}
