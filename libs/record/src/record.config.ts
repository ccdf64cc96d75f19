import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsOptional, IsString, Max, Min, registerDecorator, ValidateNested } from 'class-validator';
import { Duration } from '@m7s/core';
import { S3Config } from '@m7s/storage';

export const RECORD_FORMATS = ['mp4', 'flv', 'hls'] as const;

/** A string that compiles as a JavaScript regular expression. */
function IsRegExp(): PropertyDecorator {
  return (target, key) =>
    registerDecorator({
      name: 'isRegExp',
      target: target.constructor,
      propertyName: key as string,
      options: { message: 'must be a regular expression' },
      validator: {
        validate(v: unknown) {
          if (typeof v !== 'string') return false;
          try {
            new RegExp(v);
            return true;
          } catch {
            return false;
          }
        },
      },
    });
}

/** `record.rules[]`: streams whose path matches are recorded from their publish start. */
export class RecordRule {
  /** Regular expression on the stream path (`^live/.+`). */
  @IsRegExp() match = '';
  /** Formats to record: mp4, flv, hls. */
  @IsArray() @IsIn(RECORD_FORMATS, { each: true }) formats: string[] = ['mp4'];
  /** Split duration for these streams (default record.fragment). */
  @IsOptional() @Duration() fragment?: number;
}

/** `record.retention`. */
export class RetentionConfig {
  /** Recordings older than this many days are deleted (0 = kept); fractions allowed. */
  @IsNumber() @Min(0) maxAgeDays = 0;
  /** While the filesystem of record.dir is fuller than this (percent), the oldest local recordings are deleted (0 = no limit). */
  @IsNumber() @Min(0) @Max(100) maxDiskPercent = 0;
  /** How often the retention job runs. */
  @Duration() @Min(1000) interval = 3_600_000;
}

/** `record.upload`: the storage-upload job. */
export class UploadConfig {
  /** First wait before retrying a failed upload; doubles with each failure. Retries never end. */
  @Duration() @Min(100) retryMin = 2000;
  /** Longest wait between two attempts. */
  @Duration() @Min(100) retryMax = 600_000;
}

/** `record` section: recording to files, the recordings table, storage (local or S3), retention. */
export class RecordConfig {
  /** Directory of the recordings: {dir}/{streamPath}/{start time}.{ext}. */
  @IsString() dir = 'data/record';
  /** A file is closed at the first key frame after this much media, and the next one opened (0 = one file per publish). */
  @Duration() fragment = 600_000;
  /** Streams recorded from their publish start: [{ match: '^live/', formats: [mp4, flv], fragment: 5m }]. */
  @IsArray() @ArrayMaxSize(1000) @ValidateNested({ each: true }) @Type(() => RecordRule) rules: RecordRule[] = [];
  /** Formats recorded for a pull proxy whose `record` is set. */
  @IsArray() @IsIn(RECORD_FORMATS, { each: true }) pullProxyFormats: string[] = ['mp4'];
  /** Where finished files go: local (stay in dir) or s3 (uploaded by the storage-upload job). */
  @IsIn(['local', 's3']) storage = 'local';
  /** After a verified upload, remove the local copy. */
  @IsBoolean() deleteLocalAfterUpload = true;
  @ValidateNested() @Type(() => S3Config) s3 = new S3Config();
  @ValidateNested() @Type(() => UploadConfig) upload = new UploadConfig();
  @ValidateNested() @Type(() => RetentionConfig) retention = new RetentionConfig();
  /** Attempts of the {format}-finalize job before the recording is marked failed. */
  @IsInt() @Min(1) @Max(1000) finalizeAttempts = 10;
}
