import type { Readable } from 'node:stream';

/** Random access to a stored file (local file or object): what MP4 readers and HTTP range replies need. */
export interface StoredFile {
  readonly size: number;
  /** Reads exactly `length` bytes at `offset` (fewer only at the end of the file). */
  read(offset: number, length: number): Promise<Buffer>;
  /** A stream of bytes [start, end] inclusive (whole file when omitted). */
  stream(start?: number, end?: number): Readable;
  close(): Promise<void>;
}

/**
 * Where finished recordings live. `local` is the recording directory; `s3` an S3-compatible bucket.
 * Keys are paths relative to the recording directory, with `/` separators (`live/cam1/2026-11-24T10-00-00.000.mp4`).
 */
export interface StorageDriver {
  /** The value stored in recordings.storage: 'local' or 's3'. */
  readonly name: string;
  /** Copies a local file to the storage under `key`, then checks the stored copy (size and checksum). */
  upload(localPath: string, key: string): Promise<void>;
  open(key: string): Promise<StoredFile>;
  /** Removes the object; no error when it is already gone. */
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
}
