import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { StorageDriver, StoredFile } from './storage.types';

/** A local file as a StoredFile (positional reads, ranged streams). */
export async function openLocalFile(path: string): Promise<StoredFile> {
  const handle = await open(path, 'r');
  const { size } = await handle.stat();
  return {
    size,
    async read(offset: number, length: number): Promise<Buffer> {
      const want = Math.max(0, Math.min(length, size - offset));
      const buffer = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await handle.read(buffer, got, want - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === want ? buffer : buffer.subarray(0, got);
    },
    stream(start?: number, end?: number): Readable {
      return createReadStream(path, { start, end });
    },
    close: () => handle.close(),
  };
}

/**
 * Files under the recording directory. A key is a path relative to it; an absolute key (the filePath of a
 * local recordings row) is taken as is.
 */
export class LocalStorageDriver implements StorageDriver {
  readonly name = 'local';

  constructor(private readonly root: string) {}

  /** The local path of a key (refuses keys that climb out of the directory). */
  path(key: string): string {
    if (isAbsolute(key)) return key;
    const root = resolve(this.root);
    const path = resolve(root, key);
    if (path !== root && !path.startsWith(root + sep)) throw new Error(`storage key outside the recording directory: ${key}`);
    return path;
  }

  /** The key of a local path under the directory (`/` separators). */
  keyOf(path: string): string {
    return relative(resolve(this.root), resolve(path)).split(sep).join('/');
  }

  async upload(localPath: string, key: string): Promise<void> {
    const target = this.path(key);
    if (resolve(localPath) === target) return;
    await mkdir(dirname(target), { recursive: true });
    await copyFile(localPath, target);
    const [a, b] = await Promise.all([stat(localPath), stat(target)]);
    if (a.size !== b.size) throw new Error(`copy of ${localPath} to ${target}: ${b.size} bytes instead of ${a.size}`);
  }

  open(key: string): Promise<StoredFile> {
    return openLocalFile(this.path(key));
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async exists(key: string): Promise<boolean> {
    try {
      await stat(this.path(key));
      return true;
    } catch {
      return false;
    }
  }
}
