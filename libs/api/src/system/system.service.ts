import { arch, cpus, freemem, hostname, loadavg, networkInterfaces, release, totalmem, type CpuInfo } from 'node:os';
import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { ConfigService, EngineEvents, PluginRegistry, StreamRegistry } from '@m7s/core';
import { serverVersion } from '../common/version';
import type { SummaryDto, SysInfoDto, UsageDto } from './system.dto';

function cpuTimes(list: CpuInfo[]): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const cpu of list) {
    const t = cpu.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

function memoryUsage(): UsageDto {
  const total = totalmem();
  const free = freemem();
  return { total, free, used: total - free, usage: Math.round(((total - free) / total) * 10000) / 100 };
}

function localIP(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (found) return found.address;
  }
  return undefined;
}

function count(into: Record<string, number>, key: string): void {
  into[key] = (into[key] ?? 0) + 1;
}

/** Server facts (sysinfo) and load (summary). */
@Injectable()
export class SystemService implements OnModuleDestroy {
  private readonly startTime = Date.now();
  private readonly version = serverVersion();
  private lastCpu = cpuTimes(cpus());
  /** Relays running now (pull_start..pull_end, push_start..push_end), by stream path and url. */
  private readonly pulls = new Set<string>();
  private readonly pushes = new Set<string>();
  private readonly detach: (() => void)[];

  constructor(
    private readonly config: ConfigService,
    private readonly plugins: PluginRegistry,
    private readonly registry: StreamRegistry,
    events: EngineEvents,
  ) {
    const key = (e: { streamPath: string; url: string }) => `${e.streamPath} ${e.url}`;
    this.detach = [
      events.on('pull_start', (e) => this.pulls.add(key(e))),
      events.on('pull_end', (e) => this.pulls.delete(key(e))),
      events.on('push_start', (e) => this.pushes.add(key(e))),
      events.on('push_end', (e) => this.pushes.delete(key(e))),
    ];
  }

  onModuleDestroy(): void {
    for (const off of this.detach) off();
  }

  sysInfo(): SysInfoDto {
    return {
      startTime: this.startTime,
      uptime: Math.floor((Date.now() - this.startTime) / 1000),
      version: this.version,
      nodeName: this.config.core.name ?? hostname(),
      hostname: hostname(),
      nodeVersion: process.version,
      os: `${process.platform} ${release()}`,
      arch: arch(),
      cpus: cpus().length,
      memory: memoryUsage(),
      processMemory: process.memoryUsage.rss(),
      localIP: localIP(),
      plugins: this.plugins.plugins.map((p) => ({ name: p.name, version: p.version, enabled: p.enabled })),
    };
  }

  summary(): SummaryDto {
    const publishersByProtocol: Record<string, number> = {};
    const subscribersByProtocol: Record<string, number> = {};
    let streamCount = 0;
    let waitingStreamCount = 0;
    let subscribeCount = 0;
    let bytesIn = 0;
    let bytesOut = 0;
    for (const stream of this.registry.list()) {
      if (stream.publisher) {
        streamCount++;
        count(publishersByProtocol, stream.publisher.info.protocol);
        bytesIn += stream.publisher.bytesReceived;
      } else if (stream.subscribers.size > 0) {
        waitingStreamCount++;
      }
      for (const subscriber of stream.subscribers) {
        subscribeCount++;
        count(subscribersByProtocol, subscriber.info.protocol);
        bytesOut += subscriber.bytesSent;
      }
    }
    return {
      memory: memoryUsage(),
      cpuUsage: this.cpuUsage(),
      loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
      processMemory: process.memoryUsage.rss(),
      streamCount,
      waitingStreamCount,
      subscribeCount,
      pullCount: this.pulls.size,
      pushCount: this.pushes.size,
      publishersByProtocol,
      subscribersByProtocol,
      bytesIn,
      bytesOut,
    };
  }

  /** Busy share of every CPU since the previous call. */
  private cpuUsage(): number {
    const now = cpuTimes(cpus());
    const total = now.total - this.lastCpu.total;
    const idle = now.idle - this.lastCpu.idle;
    this.lastCpu = now;
    return total > 0 ? Math.round((1 - idle / total) * 10000) / 100 : 0;
  }
}
