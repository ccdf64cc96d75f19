/** `/flv/live/cam1.flv` -> `live/cam1`; undefined when the path is not an FLV stream path. */
export function parseFlvPath(pathname: string): string | undefined {
  const match = /^\/flv\/(.+)\.flv$/.exec(decodeURIComponent(pathname));
  return match ? match[1] : undefined;
}
