import { IsArray, IsIn, IsInt, IsString, Max, Min } from 'class-validator';
import { Duration, PluginSectionConfig } from '@m7s/core';

/** Playlist variants: MPEG-TS segments, fMP4 (CMAF) segments, Low-Latency HLS (fMP4 segments with parts). */
export const HLS_FORMATS = ['ts', 'fmp4', 'llhls'] as const;
export type HlsFormat = (typeof HLS_FORMATS)[number];

/** `hls` section: live HLS / LL-HLS of every stream, held in memory, and the `hls` recording format. */
export class HlsConfig extends PluginSectionConfig {
  /** Variant served by /hls/{streamPath}.m3u8 when the query has no `format=`. */
  @IsIn(HLS_FORMATS) format: HlsFormat = 'llhls';
  /** Segments are cut at the first key frame after this long (audio-only streams: by time). */
  @Duration() segmentDuration = 2000;
  /** LL-HLS part length (EXT-X-PART-INF PART-TARGET). */
  @Duration() partDuration = 200;
  /** Complete segments listed in a live playlist (a couple more stay downloadable). */
  @IsInt() @Min(2) @Max(100) windowSize = 10;
  /** A stream's HLS muxer with no request for this long is dropped. */
  @Duration() idleTimeout = 30_000;
  /** Stream paths (regular expressions) whose HLS muxer (default format) runs from publish start, requested or not. */
  @IsArray() @IsString({ each: true }) alwaysOn: string[] = [];
  /** Longest wait of a blocking playlist reload or a preload-hinted part request before 503. */
  @Duration() blockingTimeout = 6000;
  /** A successful stream-auth check of a player (stream path, query, address) is reused this long for its later requests. */
  @Duration() authCacheTime = 10_000;
}
