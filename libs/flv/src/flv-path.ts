/** `/flv/live/cam1.flv` -> `live/cam1`; undefined when the path is not an FLV stream path (or is badly encoded). */
export function parseFlvPath(pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  const match = /^\/flv\/(.+)\.flv$/.exec(decoded);
  return match ? match[1] : undefined;
}
