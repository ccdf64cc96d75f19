import { IsBoolean, IsString } from 'class-validator';

/** `record.s3`: the S3-compatible bucket finished recordings are uploaded to when record.storage is `s3`. */
export class S3Config {
  /** http(s)://host:port of an S3-compatible server (MinIO, Ceph...); empty = AWS for the region. */
  @IsString() endpoint = '';
  @IsString() region = 'us-east-1';
  @IsString() bucket = '';
  @IsString() accessKeyId = '';
  @IsString() secretAccessKey = '';
  /** bucket in the path (http://host/bucket/key), as most self-hosted servers need; false = virtual-host style. */
  @IsBoolean() forcePathStyle = true;
  /** Prepended to every object key (e.g. `m7s/`). */
  @IsString() prefix = '';
}

/** What the storage lib reads from the `record` section (validated there by RecordConfig). */
export interface StorageSettings {
  /** The recording directory: local files live under it, object keys are relative to it. */
  dir: string;
  /** Where finished recordings go: 'local' or 's3'. */
  storage: string;
  s3: S3Config;
}
