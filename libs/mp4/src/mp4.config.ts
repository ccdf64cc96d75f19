import { Type } from 'class-transformer';
import { IsInt, IsNumber, Max, Min, ValidateNested } from 'class-validator';
import { Duration, PluginSectionConfig } from '@m7s/core';

export class Mp4DownloadConfig {
  /** Longest time range one download (GET /mp4/download/...) may cover. */
  @Duration() maxRange = 6 * 3600_000;
  /** Sample indexes of recently served files kept in memory (a player's range requests reuse them). */
  @IsInt() @Min(0) @Max(10_000) indexCacheSize = 64;
}

export class Mp4ReplayConfig {
  /** Replays running at once. */
  @IsInt() @Min(1) @Max(1000) maxSessions = 16;
  /** Longest time range one replay may cover. */
  @Duration() maxRange = 6 * 3600_000;
  /** Slowest and fastest replay speed. */
  @IsNumber() @Min(0.01) minSpeed = 0.25;
  @IsNumber() @Max(64) maxSpeed = 16;
}

/** The `mp4` section: live fMP4 over HTTP, the MP4 recording format, downloads of recorded ranges, replays. */
export class Mp4Config extends PluginSectionConfig {
  /** An MP4 recording writes a fragment (moof + mdat) this often: a crash loses at most this much of the file. */
  @Duration() flushInterval = 1000;
  @ValidateNested() @Type(() => Mp4DownloadConfig) download = new Mp4DownloadConfig();
  @ValidateNested() @Type(() => Mp4ReplayConfig) replay = new Mp4ReplayConfig();
}
