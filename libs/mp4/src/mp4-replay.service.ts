import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { AppError, ConfigService, normalizeStreamPath, StreamRegistry } from '@m7s/core';
import type { Mp4Config } from './mp4.config';
import { Mp4Recordings } from './mp4-recordings';
import { ReplayInfo, ReplaySession } from './mp4-replay';

/** Replays of MP4 recordings as live streams (bounded by mp4.replay.maxSessions). */
@Injectable()
export class Mp4ReplayService implements OnModuleDestroy {
  private readonly sessions = new Map<string, ReplaySession>();
  private nextId = 1;

  constructor(
    private readonly registry: StreamRegistry,
    private readonly recordings: Mp4Recordings,
    private readonly config: ConfigService,
  ) {}

  async start(request: { streamPath: string; start: number; end: number; speed?: number; targetPath?: string }): Promise<ReplayInfo> {
    const settings = this.config.section<Mp4Config>('mp4').replay;
    if (this.sessions.size >= settings.maxSessions) throw new AppError('RESOURCE_EXHAUSTED', `${settings.maxSessions} replays are running (mp4.replay.maxSessions)`);
    const speed = this.checkSpeed(request.speed ?? 1);
    const streamPath = normalizeStreamPath(request.streamPath);
    const targetPath = normalizeStreamPath(request.targetPath ?? `replay/${streamPath}`);
    const range = await this.recordings.openRange(streamPath, request.start, request.end, settings.maxRange);
    const id = String(this.nextId++);
    let publisher;
    try {
      publisher = this.registry.publish(targetPath, { protocol: 'replay', remoteAddress: `replay:${id}`, query: new URLSearchParams() });
    } catch (error) {
      await range.close();
      throw error;
    }
    const session = new ReplaySession(id, streamPath, targetPath, request.start, request.end, speed, range, publisher, (s) => this.sessions.delete(s.id));
    if (session.state === 'playing') this.sessions.set(id, session);
    return session.info();
  }

  list(): ReplayInfo[] {
    return [...this.sessions.values()].map((s) => s.info());
  }

  seek(id: string, time: number): ReplayInfo {
    const session = this.get(id);
    session.seek(time);
    return session.info();
  }

  setSpeed(id: string, speed: number): ReplayInfo {
    const session = this.get(id);
    session.setSpeed(this.checkSpeed(speed));
    return session.info();
  }

  stop(id: string): ReplayInfo {
    const session = this.get(id);
    session.stop();
    return session.info();
  }

  onModuleDestroy(): void {
    for (const session of [...this.sessions.values()]) session.stop();
  }

  private get(id: string): ReplaySession {
    const session = this.sessions.get(id);
    if (!session) throw new AppError('NOT_FOUND', `no replay ${id}`);
    return session;
  }

  private checkSpeed(speed: number): number {
    const { minSpeed, maxSpeed } = this.config.section<Mp4Config>('mp4').replay;
    if (!(speed >= minSpeed && speed <= maxSpeed)) throw new AppError('INVALID_ARGUMENT', `speed must be within ${minSpeed}..${maxSpeed}`);
    return speed;
  }
}
