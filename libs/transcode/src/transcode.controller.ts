import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Permission, RequirePermission } from '@m7s/auth';
import { TranscodeService, TranscoderInfo } from './transcode.service';

export class TranscoderDto implements TranscoderInfo {
  @ApiProperty({ example: 'live/cam1' }) streamPath!: string;
  @ApiProperty({ description: "The publisher's audio codec", example: 'aac' }) from!: TranscoderInfo['from'];
  @ApiProperty({ description: 'The codec made', example: 'opus' }) to!: TranscoderInfo['to'];
  @ApiProperty({ description: 'Players bound to its output' }) players!: number;
  @ApiProperty({ description: 'Start time, ms since the epoch' }) startedAt!: number;
  @ApiProperty({ description: 'Frames fed to ffmpeg' }) framesIn!: number;
  @ApiProperty({ description: 'Frames made' }) framesOut!: number;
  @ApiProperty({ description: 'Input frames not fed (ffmpeg behind, or restarting)' }) dropped!: number;
  @ApiProperty({ description: 'Times ffmpeg was restarted after dying' }) restarts!: number;
  @ApiPropertyOptional({ description: 'PID of the ffmpeg running now (absent while it restarts)' }) pid!: number | undefined;
  @ApiProperty({ description: 'CPU seconds (user + system) of its ffmpeg processes' }) cpuSeconds!: number;
}

export class TranscoderListDto {
  @ApiProperty({ type: [TranscoderDto] }) list!: TranscoderDto[];
}

@ApiTags('transcode')
@Controller('api/transcode')
export class TranscodeController {
  constructor(private readonly transcode: TranscodeService) {}

  @Get('list')
  @RequirePermission(Permission.Read)
  @ApiOperation({ summary: 'Running audio transcoders: one per stream and codec made, shared by the players that need it' })
  @ApiOkResponse({ type: TranscoderListDto })
  list(): TranscoderListDto {
    return { list: this.transcode.list() };
  }
}
