import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Permission, RequirePermission } from '@m7s/auth';
import { ReplayDto, ReplayListDto, ReplaySpeedDto, SeekReplayDto, StartReplayDto } from './mp4-replay.dto';
import { Mp4ReplayService } from './mp4-replay.service';

const ID = { name: 'id', description: 'Replay id (from start or the list)', schema: { type: 'string', pattern: '^[0-9]+$' } } as const;

@ApiTags('replay')
@Controller('api/replay')
export class Mp4ReplayController {
  constructor(private readonly replays: Mp4ReplayService) {}

  @Post('start')
  @HttpCode(200)
  @RequirePermission(Permission.ControlStreams)
  @ApiOperation({ summary: "Replay a stream's MP4 recordings of a time range as a live stream (any protocol plays the target path)" })
  @ApiOkResponse({ type: ReplayDto })
  @ApiBadRequestResponse({ description: 'Bad range or speed (INVALID_ARGUMENT)' })
  @ApiNotFoundResponse({ description: 'No MP4 recording in the range (NOT_FOUND)' })
  start(@Body() body: StartReplayDto): Promise<ReplayDto> {
    return this.replays.start(body);
  }

  @Get('list')
  @RequirePermission(Permission.Read)
  @ApiOperation({ summary: 'Running replays' })
  @ApiOkResponse({ type: ReplayListDto })
  list(): ReplayListDto {
    return { list: this.replays.list() };
  }

  @Post(':id/seek')
  @HttpCode(200)
  @RequirePermission(Permission.ControlStreams)
  @ApiParam(ID)
  @ApiOperation({ summary: 'Continue a replay from the key frame at or before a time' })
  @ApiOkResponse({ type: ReplayDto })
  @ApiNotFoundResponse({ description: 'No such replay (NOT_FOUND)' })
  seek(@Param('id') id: string, @Body() body: SeekReplayDto): ReplayDto {
    return this.replays.seek(id, body.time);
  }

  @Post(':id/speed')
  @HttpCode(200)
  @RequirePermission(Permission.ControlStreams)
  @ApiParam(ID)
  @ApiOperation({ summary: 'Change the speed of a replay' })
  @ApiOkResponse({ type: ReplayDto })
  @ApiNotFoundResponse({ description: 'No such replay (NOT_FOUND)' })
  speed(@Param('id') id: string, @Body() body: ReplaySpeedDto): ReplayDto {
    return this.replays.setSpeed(id, body.speed);
  }

  @Post(':id/stop')
  @HttpCode(200)
  @RequirePermission(Permission.ControlStreams)
  @ApiParam(ID)
  @ApiOperation({ summary: 'Stop a replay (its stream ends)' })
  @ApiOkResponse({ type: ReplayDto })
  @ApiNotFoundResponse({ description: 'No such replay (NOT_FOUND)' })
  stop(@Param('id') id: string): ReplayDto {
    return this.replays.stop(id);
  }
}
