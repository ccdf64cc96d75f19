import { join } from 'node:path';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `2026-11-24T10-00-00.000`: the UTC start time of a file, safe in every filesystem and sorted by time. */
export function recordFileStem(time: number): string {
  const d = new Date(time);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}-${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`
  );
}

/** `{dir}/{streamPath}/{YYYY-MM-DDTHH-mm-ss.SSS}.{ext}` */
export function recordFilePath(dir: string, streamPath: string, time: number, extension: string): string {
  return join(dir, ...streamPath.split('/'), `${recordFileStem(time)}.${extension}`);
}

/** What the split decision looks at in a frame. */
export interface SplitFrame {
  kind: 'video' | 'audio';
  keyFrame: boolean;
  dts: number;
}

/**
 * Whether `frame` starts a new file: it is a place a file can start (a video key frame, or any audio frame
 * of a stream without video) and the file already holds `fragment` ms (0 = never split).
 */
export function shouldSplit(frame: SplitFrame, fileStartDts: number, fragment: number, hasVideo: boolean): boolean {
  if (fragment <= 0) return false;
  if (!isFileStart(frame, hasVideo)) return false;
  return frame.dts - fileStartDts >= fragment;
}

/** Whether a file can start at this frame. */
export function isFileStart(frame: SplitFrame, hasVideo: boolean): boolean {
  return hasVideo ? frame.kind === 'video' && frame.keyFrame : frame.kind === 'audio';
}

/** A stream path pattern of the API: stream path characters and `*` (any run of characters, `/` included). */
export const STREAM_PATTERN = /^[A-Za-z0-9._~\-@/*]{1,256}$/;

/**
 * A SQL LIKE pattern (with ESCAPE '!') for a stream path pattern: `*` becomes `%`, and LIKE's own `%`, `_`
 * and the escape character match themselves.
 */
export function streamPatternToLike(pattern: string): string {
  return pattern.replace(/[!%_]/g, (c) => '!' + c).replace(/\*/g, '%');
}

/** The same pattern as a RegExp (to match live streams and recorders). */
export function streamPatternToRegExp(pattern: string): RegExp {
  return new RegExp('^' + pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*') + '$');
}
