import type { HlsFormat } from './hls.config';
import type { HlsUris } from './hls-path';
import type { HlsSegment, SegmentWindow } from './hls-segmenter';

export interface LivePlaylistInput {
  format: HlsFormat;
  window: SegmentWindow;
  /** EXT-X-TARGETDURATION, whole seconds. */
  targetDuration: number;
  /** LL-HLS PART-TARGET, seconds. */
  partTarget: number;
  /** LL-HLS: the part being made now (EXT-X-PRELOAD-HINT). */
  nextPart?: { msn: number; index: number };
  /** LL-HLS delta update (_HLS_skip=YES). */
  skip?: boolean;
  uris: HlsUris;
}

/** EXT-X-TARGETDURATION: the configured duration or the longest segment so far, rounded up to whole seconds. */
export function targetDurationOf(segmentDurationMs: number, maxSegmentMs: number): number {
  return Math.max(1, Math.ceil(segmentDurationMs / 1000 - 1e-9), Math.ceil(maxSegmentMs / 1000 - 1e-9));
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/**
 * A live media playlist (RFC 8216bis). ts/fmp4: the complete segments of the window. llhls: also the parts of
 * the newest segments (those within three target durations of the end) and of the segment in progress,
 * EXT-X-PART-INF, EXT-X-SERVER-CONTROL (blocking reload, delta updates), EXT-X-PRELOAD-HINT.
 */
export function renderLivePlaylist(input: LivePlaylistInput): string {
  const { format, window, targetDuration, partTarget, uris } = input;
  const ll = format === 'llhls';
  const segments = window.segments;
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${ll ? 9 : format === 'fmp4' ? 7 : 3}`, `#EXT-X-TARGETDURATION:${targetDuration}`];
  const canSkipUntil = 6 * targetDuration;
  if (ll) {
    lines.push(
      `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${(3 * partTarget).toFixed(3)},CAN-SKIP-UNTIL=${canSkipUntil.toFixed(1)}`,
      `#EXT-X-PART-INF:PART-TARGET=${partTarget.toFixed(3)}`,
    );
  }
  lines.push(`#EXT-X-MEDIA-SEQUENCE:${segments[0]?.msn ?? 0}`, `#EXT-X-DISCONTINUITY-SEQUENCE:${window.discontinuitySequence}`);

  const end = segments.reduce((t, s) => t + s.duration, 0);
  let skipped = 0;
  if (ll && input.skip) {
    // Skip the complete segments that end at least CAN-SKIP-UNTIL before the end of the playlist.
    let t = 0;
    while (skipped < segments.length && segments[skipped].complete && end - (t + segments[skipped].duration) >= canSkipUntil * 1000) {
      t += segments[skipped].duration;
      skipped++;
    }
    if (skipped > 0) lines.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}`);
  }

  // Parts are listed for segments starting within three target durations of the end.
  let elapsed = 0;
  let previous: HlsSegment | undefined = skipped > 0 ? segments[skipped - 1] : undefined;
  let mapped = false;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    const startsAt = elapsed;
    elapsed += segment.duration;
    if (i < skipped) continue;
    if (segment.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    if (format !== 'ts' && (!mapped || segment.initId !== previous?.initId)) lines.push(`#EXT-X-MAP:URI="${uris.init(segment.initId)}"`);
    mapped = true;
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(segment.programDateTime).toISOString()}`);
    if (ll && end - startsAt <= 3 * targetDuration * 1000 + 1e-6) {
      for (const part of segment.parts) {
        lines.push(`#EXT-X-PART:DURATION=${seconds(part.duration)},URI="${uris.part(segment.msn, part.index)}"${part.independent ? ',INDEPENDENT=YES' : ''}`);
      }
    }
    if (segment.complete) lines.push(`#EXTINF:${seconds(segment.duration)},`, uris.segment(segment.msn));
    previous = segment;
  }
  if (ll && input.nextPart) lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${uris.part(input.nextPart.msn, input.nextPart.index)}"`);
  return lines.join('\n') + '\n';
}
