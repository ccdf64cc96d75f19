/** The container of a muxer: MPEG-TS or fragmented MP4 (the fmp4 and llhls variants share one). */
export type HlsContainer = 'ts' | 'fmp4';

export type HlsRequest =
  | { kind: 'playlist'; streamPath: string }
  | { kind: 'segment'; streamPath: string; container: HlsContainer; msn: number }
  | { kind: 'part'; streamPath: string; container: HlsContainer; msn: number; part: number }
  | { kind: 'init'; streamPath: string; container: 'fmp4'; id: number };

const MAX_INDEX = Number.MAX_SAFE_INTEGER;
const MEDIA = /^\/hls\/(.+)\/(ts|fmp4)\/(?:init-(\d{1,9})\.mp4|(\d{1,16})\.(ts|m4s)|(\d{1,16})\.(\d{1,9})\.(ts|m4s))$/;

/**
 * `/hls/live/cam1.m3u8` -> playlist of `live/cam1`; `/hls/live/cam1/ts/12.ts`, `/hls/live/cam1/fmp4/12.3.m4s`,
 * `/hls/live/cam1/fmp4/init-1.mp4` -> its media. Undefined when the path is none of these (or badly encoded).
 * The stream path itself is checked by the registry.
 */
export function parseHlsPath(pathname: string): HlsRequest | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  const playlist = /^\/hls\/(.+)\.m3u8$/.exec(decoded);
  if (playlist) return { kind: 'playlist', streamPath: playlist[1] };
  const m = MEDIA.exec(decoded);
  if (!m) return undefined;
  const streamPath = m[1];
  const container = m[2] as HlsContainer;
  if (m[3] !== undefined) return container === 'fmp4' ? { kind: 'init', streamPath, container, id: Number(m[3]) } : undefined;
  const ext = m[5] ?? m[8];
  if ((ext === 'ts') !== (container === 'ts')) return undefined;
  const msn = Number(m[4] ?? m[6]);
  if (msn > MAX_INDEX) return undefined;
  if (m[4] !== undefined) return { kind: 'segment', streamPath, container, msn };
  return { kind: 'part', streamPath, container, msn, part: Number(m[7]) };
}

/** Media URIs relative to the playlist (`/hls/live/cam1.m3u8` -> `cam1/ts/12.ts`). */
export class HlsUris {
  private readonly base: string;

  constructor(
    streamPath: string,
    private readonly container: HlsContainer,
    /** Appended to every URI (the player's query, so signed URLs keep working), without the `?`. */
    private readonly query = '',
  ) {
    this.base = `${encodeURIComponent(streamPath.slice(streamPath.lastIndexOf('/') + 1))}/${container}/`;
  }

  segment(msn: number): string {
    return this.withQuery(`${msn}.${this.ext}`);
  }

  part(msn: number, index: number): string {
    return this.withQuery(`${msn}.${index}.${this.ext}`);
  }

  init(id: number): string {
    return this.withQuery(`init-${id}.mp4`);
  }

  private get ext(): string {
    return this.container === 'ts' ? 'ts' : 'm4s';
  }

  private withQuery(name: string): string {
    return this.base + name + (this.query ? `?${this.query}` : '');
  }
}
