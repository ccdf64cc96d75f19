import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNumber, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

const STREAM_PATH = /^[A-Za-z0-9._~\-@/]{1,256}$/;

export class StartReplayDto {
  @ApiProperty({ description: 'Stream path whose MP4 recordings are replayed', example: 'live/cam1' })
  @IsString()
  @MaxLength(256)
  @Matches(STREAM_PATH)
  streamPath!: string;

  @ApiProperty({ description: 'Start of the range, ms since the epoch' })
  @IsNumber()
  start!: number;

  @ApiProperty({ description: 'End of the range, ms since the epoch' })
  @IsNumber()
  end!: number;

  @ApiPropertyOptional({ description: 'Playback speed (mp4.replay.minSpeed..maxSpeed); audio is sent at speed 1 only', default: 1 })
  @IsOptional()
  @IsNumber()
  speed?: number;

  @ApiPropertyOptional({ description: 'Stream path the replay is published on (default replay/{streamPath})' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  @Matches(STREAM_PATH)
  targetPath?: string;
}

export class SeekReplayDto {
  @ApiProperty({ description: 'Time to continue from (the key frame at or before it), ms since the epoch' })
  @IsNumber()
  time!: number;
}

export class ReplaySpeedDto {
  @ApiProperty({ description: 'New playback speed' })
  @IsNumber()
  speed!: number;
}

export class ReplayDto {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'Stream path of the recordings' }) streamPath!: string;
  @ApiProperty({ description: 'Stream path the replay is published on' }) targetPath!: string;
  @ApiProperty({ description: 'ms since the epoch' }) start!: number;
  @ApiProperty({ description: 'ms since the epoch' }) end!: number;
  @ApiProperty() speed!: number;
  @ApiProperty({ description: 'Recorded time (ms since the epoch) of the frame being played' }) position!: number;
  @ApiProperty({ enum: ['playing', 'ended', 'stopped'] }) state!: string;
  @ApiProperty({ description: 'ms since the epoch' }) startedAt!: number;
}

export class ReplayListDto {
  @ApiProperty({ type: [ReplayDto] }) list!: ReplayDto[];
}
