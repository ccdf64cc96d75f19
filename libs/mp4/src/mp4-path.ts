/**
 * `/mp4/live/cam1.mp4` -> `live/cam1` (prefix `/mp4/`); undefined when the path is not of that form
 * (or is badly encoded).
 */
export function parseMp4Path(pathname: string, prefix = '/mp4/'): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (!decoded.startsWith(prefix) || !decoded.endsWith('.mp4')) return undefined;
  const path = decoded.slice(prefix.length, -'.mp4'.length);
  return path || undefined;
}
