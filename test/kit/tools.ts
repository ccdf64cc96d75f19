import { existsSync } from 'node:fs';

function packagedBinary(pkg: string): string | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(pkg) as { path: string }).path;
  } catch {
    return undefined;
  }
}

/** Debian's ffmpeg when installed, else the binary an npm package ships. */
export function ffmpegPath(): string {
  if (existsSync('/usr/bin/ffmpeg')) return '/usr/bin/ffmpeg';
  const packaged = packagedBinary('@ffmpeg-installer/ffmpeg');
  if (packaged) return packaged;
  throw new Error('ffmpeg not found: install Debian ffmpeg or npm i @ffmpeg-installer/ffmpeg');
}

export function ffprobePath(): string {
  if (existsSync('/usr/bin/ffprobe')) return '/usr/bin/ffprobe';
  const packaged = packagedBinary('@ffprobe-installer/ffprobe');
  if (packaged) return packaged;
  throw new Error('ffprobe not found: install Debian ffmpeg or npm i @ffprobe-installer/ffprobe');
}

/**
 * An ffprobe that reads Enhanced FLV (H.265/AV1 in FLV, FFmpeg >= 6.1). Debian 12's 5.1 cannot; the
 * static build shipped by @ffprobe-installer can.
 */
export function enhancedFlvFfprobePath(): string {
  const packaged = packagedBinary('@ffprobe-installer/ffprobe');
  if (!packaged) throw new Error('@ffprobe-installer/ffprobe is needed to read Enhanced FLV');
  return packaged;
}
