import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiStreamPath, ParseIdPipe, StreamPathParam, SuccessDto } from '@m7s/api';
import { Permission, RequirePermission } from '@m7s/auth';
import { AppError, normalizeStreamPath } from '@m7s/core';
import { DeletedDto, DeleteRecordingsDto, RecorderDto, RecorderListDto, RecordingDto, RecordingListDto, RecordingListQueryDto, StartRecordDto, StopRecordDto } from './record.dto';
import { RecordService } from './record.service';
import { RecordingsService } from './recordings.service';

const ID_PARAM = { name: 'id', description: 'Recording id', schema: { type: 'integer', minimum: 1 } } as const;

class StoppedDto {
  @ApiProperty({ description: 'Recorders stopped' }) stopped!: number;
}

@ApiTags('record')
@Controller('api/record')
export class RecordController {
  constructor(
    private readonly record: RecordService,
    private readonly recordings: RecordingsService,
  ) {}

  @Get('list')
  @RequirePermission(Permission.Read)
  @ApiOperation({ summary: 'Recordings by stream path (`*` wildcards), time range overlap, format and status; paged, by start time' })
  @ApiOkResponse({ type: RecordingListDto })
  async list(@Query() query: RecordingListQueryDto): Promise<RecordingListDto> {
    const pageNum = query.pageNum ?? 1;
    const pageSize = query.pageSize ?? 50;
    const { total, list } = await this.recordings.find({ ...query, pageNum, pageSize });
    return { total, pageNum, pageSize, list: list.map((row) => RecordingDto.of(row)) };
  }

  @Get('get/:id')
  @RequirePermission(Permission.Read)
  @ApiParam(ID_PARAM)
  @ApiOperation({ summary: 'One recording' })
  @ApiOkResponse({ type: RecordingDto })
  @ApiNotFoundResponse({ description: 'NOT_FOUND' })
  async get(@Param('id', ParseIdPipe) id: number): Promise<RecordingDto> {
    const row = await this.recordings.get(id);
    if (!row) throw new AppError('NOT_FOUND', `no recording ${id}`);
    return RecordingDto.of(row);
  }

  @Get('recording')
  @RequirePermission(Permission.Read)
  @ApiOperation({ summary: 'Streams being recorded now (one recorder per stream and format)' })
  @ApiOkResponse({ type: RecorderListDto })
  recorders(): RecorderListDto {
    return { list: this.record.list() };
  }

  @Post('start/*streamPath')
  @HttpCode(200)
  @RequirePermission(Permission.ControlStreams)
  @ApiStreamPath()
  @ApiOperation({ summary: 'Start recording a live stream in a format (the running recorder is returned if there is one)' })
  @ApiOkResponse({ type: RecorderDto })
  @ApiNotFoundResponse({ description: 'The stream is not being published (NOT_FOUND)' })
  @ApiBadRequestResponse({ description: 'Bad stream path, or a format this build does not record (INVALID_ARGUMENT)' })
  start(@StreamPathParam() streamPath: string, @Body() body: StartRecordDto): RecorderDto {
    return this.record.start(normalizeStreamPath(streamPath), body.format, { fragment: body.fragment, origin: 'api' });
  }

  @Post('stop/*streamPath')
  @HttpCode(200)
  @RequirePermission(Permission.ControlStreams)
  @ApiStreamPath()
  @ApiOperation({ summary: 'Stop recording a stream (one format, or every format); the open file is closed and finalized' })
  @ApiOkResponse({ type: StoppedDto })
  @ApiNotFoundResponse({ description: 'The stream is not being recorded (NOT_FOUND)' })
  stop(@StreamPathParam() streamPath: string, @Body() body: StopRecordDto): StoppedDto {
    const stopped = this.record.stop(normalizeStreamPath(streamPath), body.format);
    if (stopped === 0) throw new AppError('NOT_FOUND', `${streamPath} is not being recorded${body.format ? ` as ${body.format}` : ''}`);
    return { stopped };
  }

  @Post('remove/:id')
  @HttpCode(200)
  @RequirePermission(Permission.ControlStreams)
  @ApiParam(ID_PARAM)
  @ApiOperation({ summary: 'Delete a recording: its file (local or object) and its row' })
  @ApiOkResponse({ type: SuccessDto })
  @ApiNotFoundResponse({ description: 'NOT_FOUND' })
  @ApiConflictResponse({ description: 'The file is being written (FAILED_PRECONDITION)' })
  async remove(@Param('id', ParseIdPipe) id: number): Promise<SuccessDto> {
    await this.recordings.remove(id);
    return { success: true };
  }

  @Post('delete')
  @HttpCode(200)
  @RequirePermission(Permission.ControlStreams)
  @ApiOperation({ summary: 'Delete the finished recordings of a stream path (`*` wildcards) overlapping a time range: files and rows' })
  @ApiOkResponse({ type: DeletedDto })
  async delete(@Body() body: DeleteRecordingsDto): Promise<DeletedDto> {
    return { deleted: await this.recordings.removeMatching(body) };
  }
}
