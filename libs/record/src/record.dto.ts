import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { PageQueryDto } from '@m7s/api';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { parseDuration } from '@m7s/core';
import type { RecordingEntity } from '@m7s/persistence';
import { RECORD_FORMATS } from './record.config';
import { STREAM_PATTERN } from './record-files';

const STATUSES = ['recording', 'finalizing', 'complete', 'failed'] as const;
const TIME_DOC = 'ms since the epoch, or an ISO 8601 date (2026-11-24T10:00:00Z)';
const TIME_MESSAGE = (field: string) => ({ message: `${field} must be a time: ${TIME_DOC}` });

/** A time from a query or body: ms since the epoch (number or digits) or an ISO 8601 date; NaN otherwise. */
export function parseTime(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string' || value.length > 40) return NaN;
  if (/^\d{1,15}$/.test(value)) return Number(value);
  return /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
}

const toTime = () => Transform(({ value }) => (value === undefined ? undefined : parseTime(value)));

const PATTERN_MESSAGE = { message: 'streamPath must be a stream path, `*` allowed' };
const PATTERN_DOC = 'Stream path; `*` matches any run of characters (slashes too)';

/** Which recordings: time range overlap and format (the stream path is added by each use). */
export class RecordingRangeDto {
  @ApiPropertyOptional({ description: `Recordings ending at or after this time: ${TIME_DOC}`, type: String, example: '1795534451253' })
  @IsOptional()
  @toTime()
  @IsInt(TIME_MESSAGE('start'))
  @Min(0, TIME_MESSAGE('start'))
  start?: number;

  @ApiPropertyOptional({ description: `Recordings starting at or before this time: ${TIME_DOC}`, type: String, example: '2026-11-24T11:00:00Z' })
  @IsOptional()
  @toTime()
  @IsInt(TIME_MESSAGE('end'))
  @Min(0, TIME_MESSAGE('end'))
  end?: number;

  @ApiPropertyOptional({ enum: RECORD_FORMATS })
  @IsOptional()
  @IsIn(RECORD_FORMATS)
  format?: (typeof RECORD_FORMATS)[number];
}

/** Paging: pageNum, pageSize (PageQueryDto of the API). */
export class RecordingListQueryDto extends IntersectionType(RecordingRangeDto, PageQueryDto) {
  @ApiPropertyOptional({ example: 'live/*', description: PATTERN_DOC })
  @IsOptional()
  @IsString()
  @Matches(STREAM_PATTERN, PATTERN_MESSAGE)
  streamPath?: string;

  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: (typeof STATUSES)[number];
}

export class DeleteRecordingsDto extends RecordingRangeDto {
  @ApiProperty({ example: 'live/cam1', description: `${PATTERN_DOC}; required ('*' for every stream)` })
  @IsString()
  @Matches(STREAM_PATTERN, PATTERN_MESSAGE)
  streamPath!: string;
}

export class StartRecordDto {
  @ApiProperty({ enum: RECORD_FORMATS, example: 'mp4' })
  @IsIn(RECORD_FORMATS)
  format!: (typeof RECORD_FORMATS)[number];

  @ApiPropertyOptional({ description: 'Split duration (10s, 5m, or seconds); default: the matching rule, else record.fragment; 0 = one file', example: '5m', type: String })
  @IsOptional()
  @Transform(({ value }) => (value === undefined ? undefined : parseDuration(value)))
  @IsInt({ message: 'fragment must be a duration such as 10s, 5m or a number of seconds' })
  @Min(0)
  @Max(7 * 86_400_000)
  fragment?: number;
}

export class StopRecordDto {
  @ApiPropertyOptional({ enum: RECORD_FORMATS, description: 'Only this format (default: every format recorded)' })
  @IsOptional()
  @IsIn(RECORD_FORMATS)
  format?: (typeof RECORD_FORMATS)[number];
}

export class RecordingDto {
  @ApiProperty() id!: number;
  @ApiProperty({ example: 'live/cam1' }) streamPath!: string;
  @ApiProperty({ enum: RECORD_FORMATS }) format!: string;
  @ApiProperty({ description: 'Wall-clock time of the first frame, ms since the epoch' }) startTime!: number;
  @ApiProperty({ nullable: true, type: Number, description: 'startTime + duration; null while recording' }) endTime!: number | null;
  @ApiProperty({ description: 'ms of media' }) duration!: number;
  @ApiProperty({ nullable: true, type: String, example: 'h264' }) videoCodec!: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'aac' }) audioCodec!: string | null;
  @ApiProperty({ description: 'bytes' }) size!: number;
  @ApiProperty({ description: 'Absolute local path (storage local), or the object key' }) filePath!: string;
  @ApiProperty({ example: 'local', description: 'local or s3' }) storage!: string;
  @ApiProperty({ enum: STATUSES, description: 'recording: being written; finalizing: closed, its finalize job pending; complete; failed' }) status!: string;

  static of(row: RecordingEntity): RecordingDto {
    const { id, streamPath, format, startTime, endTime, duration, videoCodec, audioCodec, size, filePath, storage, status } = row;
    return { id, streamPath, format, startTime, endTime, duration, videoCodec, audioCodec, size, filePath, storage, status };
  }
}

export class RecordingListDto {
  @ApiProperty() total!: number;
  @ApiProperty() pageNum!: number;
  @ApiProperty() pageSize!: number;
  @ApiProperty({ type: [RecordingDto] }) list!: RecordingDto[];
}

export class RecorderDto {
  @ApiProperty() streamPath!: string;
  @ApiProperty({ enum: RECORD_FORMATS }) format!: string;
  @ApiProperty({ example: 'rule', description: 'rule, api or pull proxy' }) origin!: string;
  @ApiProperty({ description: 'Split duration, ms (0 = none)' }) fragment!: number;
  @ApiProperty({ description: 'When recording started, ms since the epoch' }) startTime!: number;
  @ApiProperty({ description: 'Files opened so far' }) files!: number;
  @ApiPropertyOptional({ description: 'The file being written' }) filePath?: string;
  @ApiPropertyOptional({ description: 'Its start time, ms since the epoch' }) fileStartTime?: number;
  @ApiPropertyOptional({ description: 'Its recordings row' }) recordingId?: number;
}

export class RecorderListDto {
  @ApiProperty({ type: [RecorderDto] }) list!: RecorderDto[];
}

export class DeletedDto {
  @ApiProperty({ description: 'Recordings deleted (rows and files)' }) deleted!: number;
}
