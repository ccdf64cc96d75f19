import { TrackConfig } from '../media.types';

/** A track of an MP4 file: its id (tkhd track_ID), codec configuration and media timescale. */
export interface Mp4Track {
  id: number;
  config: TrackConfig;
  /** units per second of the sample times: video 90000, audio the sample rate (pcma/pcmu 8000) */
  timescale: number;
}

/** One sample, times in track timescale units. pts = dts + cts. */
export interface Mp4Sample {
  dts: number;
  duration: number;
  /** composition offset (may be negative) */
  cts: number;
  keyFrame: boolean;
  size: number;
}

/** Random access to the bytes of a file (local file, object storage, memory). */
export interface ByteSource {
  readonly size: number;
  /** `length` bytes at `offset` (fewer only at the end of the source) */
  read(offset: number, length: number): Promise<Buffer>;
}

export interface Mp4IndexedSample extends Mp4Sample {
  /** byte offset of the sample data in the source */
  offset: number;
}

export interface Mp4Index {
  tracks: { track: Mp4Track; samples: Mp4IndexedSample[] }[];
  fragmented: boolean;
  /** false when a torn tail (cut box, moof without its data) was ignored */
  complete: boolean;
  /** end of the last complete fragment / of the file */
  validEnd: number;
}

/** A piece of a laid out file: bytes made by the layout, or a range of a source file. */
export type Mp4Span = { data: Buffer } | { source: number; offset: number; length: number };
