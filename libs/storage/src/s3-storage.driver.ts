import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, NotFound, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Config } from './s3.config';
import type { StorageDriver, StoredFile } from './storage.types';

/** MD5 of a local file (hex), read as a stream. */
export async function fileMd5(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * An S3-compatible bucket (AWS SDK v3). Uploads are one PutObject streamed from the file with its length and
 * Content-MD5 (objects up to 5 GiB: recordings are split long before that), then checked with HeadObject: the
 * size, and the ETag, which is the MD5 of a single-part object. Reads are ranged GetObjects.
 */
export class S3StorageDriver implements StorageDriver {
  readonly name = 's3';
  private readonly client: S3Client;

  constructor(private readonly config: S3Config) {
    this.client = new S3Client({
      endpoint: config.endpoint || undefined,
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      credentials: config.accessKeyId ? { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } : undefined,
      // The upload job retries; a streamed body cannot be sent twice by the SDK anyway.
      maxAttempts: 1,
      // Plain PUTs with Content-MD5 (no aws-chunked trailers), which every S3-compatible server accepts.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Failures reach the caller (the upload job logs them); the SDK's own console warnings are noise.
      logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    });
  }

  objectKey(key: string): string {
    return this.config.prefix + key;
  }

  async upload(localPath: string, key: string): Promise<void> {
    if (!this.config.bucket) throw new Error('record.s3.bucket is not set');
    const { size } = await stat(localPath);
    const md5 = await fileMd5(localPath);
    const Key = this.objectKey(key);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.config.bucket,
        Key,
        Body: createReadStream(localPath),
        ContentLength: size,
        ContentMD5: Buffer.from(md5, 'hex').toString('base64'),
      }),
    );
    const head = await this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key }));
    if (head.ContentLength !== size) throw new Error(`s3://${this.config.bucket}/${Key}: ${head.ContentLength} bytes stored, ${size} sent`);
    const etag = head.ETag?.replace(/"/g, '');
    if (etag && !etag.includes('-') && etag !== md5) throw new Error(`s3://${this.config.bucket}/${Key}: ETag ${etag}, MD5 of the file ${md5}`);
  }

  async open(key: string): Promise<StoredFile> {
    const Bucket = this.config.bucket;
    const Key = this.objectKey(key);
    const head = await this.client.send(new HeadObjectCommand({ Bucket, Key }));
    const size = head.ContentLength ?? 0;
    const client = this.client;
    const get = async (start: number, end: number): Promise<Readable> => {
      const response = await client.send(new GetObjectCommand({ Bucket, Key, Range: `bytes=${start}-${end}` }));
      return response.Body as Readable;
    };
    return {
      size,
      async read(offset: number, length: number): Promise<Buffer> {
        const end = Math.min(size, offset + length) - 1;
        if (end < offset) return Buffer.alloc(0);
        const chunks: Buffer[] = [];
        for await (const chunk of await get(offset, end)) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks);
      },
      stream(start = 0, end = size - 1): Readable {
        if (end < start) return Readable.from([]);
        // The GetObject starts when the stream is first read.
        return Readable.from(
          (async function* () {
            yield* await get(start, end);
          })(),
        );
      },
      close: async () => undefined,
    };
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) }));
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) }));
      return true;
    } catch (error) {
      if (error instanceof NotFound || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
      throw error;
    }
  }

  close(): void {
    this.client.destroy();
  }
}
