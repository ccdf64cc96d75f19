/** Splits `name?query` and merges the query into `into` (later keys win). */
export function splitQuery(text: string, into = new URLSearchParams()): { path: string; query: URLSearchParams } {
  const i = text.indexOf('?');
  if (i < 0) return { path: text, query: into };
  for (const [k, v] of new URLSearchParams(text.slice(i + 1))) into.set(k, v);
  return { path: text.slice(0, i), query: into };
}

export interface RtmpUrl {
  secure: boolean;
  host: string;
  port: number;
  /** the application: the first path segment (with the query, as sent in connect) */
  app: string;
  /** everything after the app, with the query: the stream name sent in publish/play */
  streamName: string;
  tcUrl: string;
}

/** rtmp://host[:port]/app/name[?query] (also rtmps://). The app is the first path segment. */
export function parseRtmpUrl(url: string): RtmpUrl {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'rtmps:';
  if (!secure && parsed.protocol !== 'rtmp:') throw new Error(`not an rtmp url: ${url}`);
  const segments = parsed.pathname.replace(/^\/+/, '').split('/');
  if (segments.length < 2 || !segments[0] || !segments.slice(1).join('/')) throw new Error(`rtmp url needs /app/stream: ${url}`);
  const app = segments[0];
  const port = parsed.port ? Number(parsed.port) : secure ? 443 : 1935;
  return {
    secure,
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port,
    app,
    streamName: segments.slice(1).join('/') + parsed.search,
    tcUrl: `${parsed.protocol}//${parsed.host}/${app}`,
  };
}
