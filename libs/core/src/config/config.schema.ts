import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, Min, ValidateNested } from 'class-validator';
import { ByteSize, Duration, IsListen } from './config.validators';

/** Publishing policy; the global block is inherited by each protocol's `publish` block and by URL queries. */
export class PublishConfig {
  /** Close a publisher that sends no media for this long (ms). */
  @Duration() publishTimeout = 10_000;
  /** Close a publisher whose stream has had no reader for this long (ms); 0 = never. */
  @Duration() idleTimeout = 0;
  /** Keep a stream whose publisher left for this long (ms), so a reconnecting publisher serves the players still waiting. */
  @Duration() delayCloseTimeout = 0;
  /** A new publisher on a busy path replaces the current one instead of being refused. */
  @IsBoolean() kickExisting = false;
  /** History kept in the ring beyond the latest key frame (ms); 0 = the current GOP only. */
  @Duration() bufferTime = 0;
  /** Hard bounds on the ring whatever the GOP length. */
  @IsInt() @Min(16) @Max(1_000_000) maxRingFrames = 4096;
  @ByteSize() maxRingBytes = 64 * 1024 * 1024;
  /** Accept the publisher's audio / video. */
  @IsBoolean() audio = true;
  @IsBoolean() video = true;
  /** URL signing key for publishing; empty = unsigned publishes allowed. */
  @IsString() key = '';
}

/** Playing policy; inherited like PublishConfig. */
export class SubscribeConfig {
  /** How long a player waits for a publisher that has not come (ms). */
  @Duration() waitTimeout = 10_000;
  /** Send audio / video to the player. */
  @IsBoolean() audio = true;
  @IsBoolean() video = true;
  /** Bytes a player's socket may hold unsent before it skips to the next key frame. */
  @ByteSize() maxBacklog = 2 * 1024 * 1024;
  /** Audio of a stream with video waits up to this long to leave with the next video frame (fewer writes per player); 0 = send at once. */
  @Duration() writeMergeTime = 40;
  /** URL signing key for playing; empty = unsigned plays allowed. */
  @IsString() key = '';
  /** A player that cannot carry the stream's audio codec gets it transcoded (transcode section); false = the original codec whatever it is. */
  @IsBoolean() transcodeAudio = true;
}

export class HttpConfig {
  @IsListen() listen = ':8080';
  /** Answer cross-origin requests (Access-Control-Allow-Origin: *) on media routes. */
  @IsBoolean() cors = true;
}

export class LogConfig {
  @IsIn(['error', 'warn', 'log', 'debug', 'verbose']) level = 'log';
  /** json: one JSON object per line; pretty: coloured text for a terminal. */
  @IsIn(['json', 'pretty']) format = 'json';
}

/** The base of every protocol section: `enable` and per-protocol publish/subscribe overrides. */
export class PluginSectionConfig {
  @IsBoolean() enable = true;
  @IsOptional() publish?: Partial<PublishConfig>;
  @IsOptional() subscribe?: Partial<SubscribeConfig>;
}

/** The engine's own sections. Protocol sections are validated by each plugin's own class. */
export class CoreConfig {
  @ValidateNested() @Type(() => HttpConfig) http = new HttpConfig();
  @ValidateNested() @Type(() => LogConfig) log = new LogConfig();
  @ValidateNested() @Type(() => PublishConfig) publish = new PublishConfig();
  @ValidateNested() @Type(() => SubscribeConfig) subscribe = new SubscribeConfig();
  @IsOptional() @IsString() name?: string;
}
