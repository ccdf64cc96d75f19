import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class PluginInfoDto {
  @ApiProperty({ example: 'rtmp' }) name!: string;
  @ApiProperty({ example: '0.1.0' }) version!: string;
  @ApiProperty({ description: 'Loaded (its section has enable: true)' }) enabled!: boolean;
}

export class UsageDto {
  @ApiProperty({ description: 'bytes' }) total!: number;
  @ApiProperty({ description: 'bytes' }) free!: number;
  @ApiProperty({ description: 'bytes' }) used!: number;
  @ApiProperty({ description: 'used / total, percent' }) usage!: number;
}

export class SysInfoDto {
  @ApiProperty({ description: 'When the server started, ms since the epoch' }) startTime!: number;
  @ApiProperty({ description: 'Seconds since the server started' }) uptime!: number;
  @ApiProperty({ example: '0.1.0' }) version!: string;
  @ApiProperty({ description: 'config `name`' }) nodeName!: string;
  @ApiProperty() hostname!: string;
  @ApiProperty({ example: 'v20.20.2' }) nodeVersion!: string;
  @ApiProperty({ example: 'linux 6.1.0' }) os!: string;
  @ApiProperty({ example: 'x64' }) arch!: string;
  @ApiProperty() cpus!: number;
  @ApiProperty({ type: UsageDto, description: 'System memory' }) memory!: UsageDto;
  @ApiProperty({ description: 'Resident set size of this process, bytes' }) processMemory!: number;
  @ApiPropertyOptional({ description: 'First non-internal IPv4 address' }) localIP?: string;
  @ApiProperty({ type: [PluginInfoDto] }) plugins!: PluginInfoDto[];
}

export class SummaryDto {
  @ApiProperty({ type: UsageDto }) memory!: UsageDto;
  @ApiProperty({ description: 'System CPU usage since the previous call (or since boot), percent' }) cpuUsage!: number;
  @ApiProperty({ type: [Number], description: '1, 5 and 15 minute load averages' }) loadAverage!: number[];
  @ApiProperty({ description: 'Resident set size of this process, bytes' }) processMemory!: number;
  @ApiProperty({ description: 'Streams with a publisher' }) streamCount!: number;
  @ApiProperty({ description: 'Streams with only players waiting for a publisher' }) waitingStreamCount!: number;
  @ApiProperty({ description: 'Players, playing or waiting' }) subscribeCount!: number;
  @ApiProperty({ description: 'Relays pulling from a remote source' }) pullCount!: number;
  @ApiProperty({ description: 'Relays pushing to a remote server' }) pushCount!: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, example: { rtmp: 1 } }) publishersByProtocol!: Record<string, number>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, example: { 'http-flv': 2 } }) subscribersByProtocol!: Record<string, number>;
  @ApiProperty({ description: 'Media payload bytes received by the live publishers' }) bytesIn!: number;
  @ApiProperty({ description: 'Bytes sent to the current players' }) bytesOut!: number;
}
