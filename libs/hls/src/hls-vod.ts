/** One segment of a recorded (VOD/EVENT) playlist. */
export interface VodSegment {
  uri: string;
  /** ms */
  duration: number;
  /** ms since the epoch (EXT-X-PROGRAM-DATE-TIME), when the playlist gives it. */
  programDateTime?: number;
}

export interface ParsedPlaylist {
  segments: VodSegment[];
  /** EXT-X-ENDLIST seen. */
  ended: boolean;
}

const MAX_LINES = 1_000_000;

/** Reads the segments of a media playlist: EXTINF, EXT-X-PROGRAM-DATE-TIME (carried forward by the durations) and URIs. */
export function parseMediaPlaylist(text: string): ParsedPlaylist {
  const segments: VodSegment[] = [];
  let duration: number | undefined;
  let pdt: number | undefined;
  let ended = false;
  const lines = text.split(/\r?\n/, MAX_LINES);
  for (const raw of lines) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('#EXTINF:')) {
      const value = Number.parseFloat(line.slice(8));
      duration = Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
    } else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      const t = Date.parse(line.slice(25));
      pdt = Number.isNaN(t) ? undefined : t;
    } else if (line === '#EXT-X-ENDLIST') {
      ended = true;
    } else if (!line.startsWith('#') && duration !== undefined) {
      segments.push({ uri: line, duration, programDateTime: pdt });
      pdt = pdt === undefined ? undefined : pdt + duration;
      duration = undefined;
    }
  }
  return { segments, ended };
}

/** A recorded playlist and how its segment URIs are to be written in the range playlist. */
export interface RecordedPlaylist {
  text: string;
  /** The URI a player uses for a segment of this playlist (e.g. a download route + the segment's relative URI). */
  segmentUri: (uri: string) => string;
}

/**
 * An HLS VOD playlist of the recorded segments overlapping [start, end] (ms since the epoch), in time order,
 * from several recorded playlists (one per recording file; a discontinuity between files). Segments without
 * EXT-X-PROGRAM-DATE-TIME are left out (their time is unknown).
 */
export function buildVodPlaylist(recordings: readonly RecordedPlaylist[], start: number, end: number): string {
  const picked: { segment: VodSegment; source: number; uri: string }[] = [];
  recordings.forEach((recording, source) => {
    for (const segment of parseMediaPlaylist(recording.text).segments) {
      const t = segment.programDateTime;
      if (t === undefined || t + segment.duration <= start || t >= end) continue;
      picked.push({ segment, source, uri: recording.segmentUri(segment.uri) });
    }
  });
  picked.sort((a, b) => a.segment.programDateTime! - b.segment.programDateTime!);
  const target = Math.max(1, ...picked.map((p) => Math.ceil(p.segment.duration / 1000 - 1e-9)));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${target}`, '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:VOD'];
  picked.forEach((p, i) => {
    if (i > 0 && p.source !== picked[i - 1].source) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(p.segment.programDateTime!).toISOString()}`, `#EXTINF:${(p.segment.duration / 1000).toFixed(3)},`, p.uri);
  });
  lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}

/** A recorded playlist: EVENT while recording, VOD + EXT-X-ENDLIST once final. */
export function renderRecordedPlaylist(segments: readonly VodSegment[], final: boolean): string {
  const target = Math.max(1, ...segments.map((s) => Math.ceil(s.duration / 1000 - 1e-9)));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${target}`, '#EXT-X-MEDIA-SEQUENCE:0', `#EXT-X-PLAYLIST-TYPE:${final ? 'VOD' : 'EVENT'}`];
  for (const s of segments) {
    if (s.programDateTime !== undefined) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.programDateTime).toISOString()}`);
    lines.push(`#EXTINF:${(s.duration / 1000).toFixed(3)},`, s.uri);
  }
  if (final) lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}
