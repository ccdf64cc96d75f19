import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PageDto } from '../common/pagination';

export class VideoTrackDto {
  @ApiProperty({ example: 'h264' }) codec!: string;
  @ApiProperty() width!: number;
  @ApiProperty() height!: number;
  @ApiProperty({ description: 'Frames per second (signalled by the bitstream, else measured since the track began)' }) fps!: number;
  @ApiProperty({ description: 'Average payload bitrate since the track began, bits per second' }) bps!: number;
  @ApiPropertyOptional({ example: 'High' }) profile?: string;
  @ApiProperty() frames!: number;
}

export class AudioTrackDto {
  @ApiProperty({ example: 'aac' }) codec!: string;
  @ApiProperty() sampleRate!: number;
  @ApiProperty() channels!: number;
  @ApiProperty({ description: 'Average payload bitrate since the track began, bits per second' }) bps!: number;
  @ApiPropertyOptional() profile?: string;
  @ApiProperty() frames!: number;
}

export class StreamInfoDto {
  @ApiProperty({ example: 'live/cam1' }) path!: string;
  @ApiProperty({ enum: ['publishing', 'waiting', 'closing'], description: 'publishing: has a publisher; waiting: only players waiting for one; closing: kept for delay-close' })
  state!: 'publishing' | 'waiting' | 'closing';
  @ApiProperty({ description: 'Players, playing or waiting' }) subscribers!: number;
  @ApiProperty({ description: 'When the publisher (else the stream) started, ms since the epoch' }) startTime!: number;
  @ApiPropertyOptional({ description: 'Publishing protocol (rtmp, rtsp...)', example: 'rtmp' }) type?: string;
  @ApiPropertyOptional({ example: '127.0.0.1:50000' }) remoteAddress?: string;
  @ApiPropertyOptional({ description: 'Media payload bytes received from the publisher' }) bytesIn?: number;
  @ApiProperty({ description: 'A key frame has arrived: players start at once' }) ready!: boolean;
  @ApiPropertyOptional({ type: VideoTrackDto }) videoTrack?: VideoTrackDto;
  @ApiPropertyOptional({ type: AudioTrackDto }) audioTrack?: AudioTrackDto;
}

export class SubscriberInfoDto {
  @ApiProperty({ description: 'Id for POST /api/subscribe/stop/{id}' }) id!: number;
  @ApiProperty() streamPath!: string;
  @ApiProperty({ description: 'When the player came, ms since the epoch' }) startTime!: number;
  @ApiProperty({ example: 'http-flv' }) protocol!: string;
  @ApiProperty({ example: '127.0.0.1:50001' }) remoteAddress!: string;
  @ApiProperty({ enum: ['waiting', 'playing', 'ended'] }) state!: string;
  @ApiProperty() bytesSent!: number;
  @ApiProperty() framesSent!: number;
  @ApiProperty() droppedFrames!: number;
}

export class StreamDetailDto extends StreamInfoDto {
  @ApiPropertyOptional({ description: 'Id of the publisher' }) publisherId?: number;
  @ApiProperty({ type: [SubscriberInfoDto] }) subscriberList!: SubscriberInfoDto[];
}

export class StreamListDto extends PageDto {
  @ApiProperty({ type: [StreamInfoDto] }) list!: StreamInfoDto[];
}

export class SubscriberListDto extends PageDto {
  @ApiProperty({ type: [SubscriberInfoDto] }) list!: SubscriberInfoDto[];
}

export class StopResultDto {
  @ApiProperty({ example: true }) success!: boolean;
}
