import type { ConfigSection, MediaPlugin } from '@m7s/core';
import { QueueConfig, RedisConfig } from '@m7s/core';
import { ApiConfig, GrpcConfig } from '@m7s/api';
import { AuthConfig, StreamAuthConfig } from '@m7s/auth';
import { flvPlugin } from '@m7s/flv';
import { hlsPlugin } from '@m7s/hls';
import { mp4Plugin } from '@m7s/mp4';
import { MetricsConfig, WebhookConfig } from '@m7s/observability';
import { DbConfig } from '@m7s/persistence';
import { ProxyConfig } from '@m7s/proxy';
import { RecordConfig } from '@m7s/record';
import { rtmpPlugin } from '@m7s/rtmp';
import { rtspPlugin } from '@m7s/rtsp';
import { webrtcPlugin } from '@m7s/webrtc';
import { TranscodeConfig } from '@m7s/transcode';

/** Every protocol plugin this build carries; each is loaded only when its config section enables it. */
export const PLUGINS: readonly MediaPlugin[] = [rtmpPlugin, rtspPlugin, flvPlugin, mp4Plugin, hlsPlugin, webrtcPlugin];

/** The platform's config sections, validated at boot beside the plugins'. */
export const PLATFORM_SECTIONS: readonly ConfigSection[] = [
  { configSection: 'db', configClass: DbConfig },
  { configSection: 'redis', configClass: RedisConfig },
  { configSection: 'queue', configClass: QueueConfig },
  { configSection: 'auth', configClass: AuthConfig },
  { configSection: 'streamAuth', configClass: StreamAuthConfig },
  { configSection: 'webhook', configClass: WebhookConfig },
  { configSection: 'metrics', configClass: MetricsConfig },
  { configSection: 'api', configClass: ApiConfig },
  { configSection: 'grpc', configClass: GrpcConfig },
  { configSection: 'proxy', configClass: ProxyConfig },
  { configSection: 'record', configClass: RecordConfig },
  { configSection: 'transcode', configClass: TranscodeConfig },
];
