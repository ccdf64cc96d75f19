import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Permission, RequirePermission } from '@m7s/auth';
import { PageQueryDto, SuccessDto } from '../common/pagination';
import { ApiStreamPath, StreamPathParam } from '../common/stream-path.param';
import { StreamDetailDto, StreamListDto, SubscriberListDto } from './stream.dto';
import { StreamsService } from './streams.service';

@ApiTags('streams')
@Controller('api')
export class StreamsController {
  constructor(private readonly streams: StreamsService) {}

  @Get('stream/list')
  @RequirePermission(Permission.Read)
  @ApiOperation({ summary: 'Streams (publishing, waiting for a publisher, closing), paged' })
  @ApiOkResponse({ type: StreamListDto })
  list(@Query() query: PageQueryDto): StreamListDto {
    return this.streams.list(query);
  }

  @Get('stream/info/*streamPath')
  @RequirePermission(Permission.Read)
  @ApiStreamPath()
  @ApiOperation({ summary: 'One stream: publisher, tracks, players' })
  @ApiOkResponse({ type: StreamDetailDto })
  @ApiNotFoundResponse({ description: 'No such stream (STREAM_NOT_FOUND)' })
  @ApiBadRequestResponse({ description: 'Bad stream path (BAD_STREAM_PATH)' })
  info(@StreamPathParam() streamPath: string): StreamDetailDto {
    return this.streams.info(streamPath);
  }

  @Post('stream/stop/*streamPath')
  @HttpCode(200)
  @RequirePermission(Permission.ControlStreams)
  @ApiStreamPath()
  @ApiOperation({ summary: "Stop a stream's publisher (its client is disconnected, players are told)" })
  @ApiOkResponse({ type: SuccessDto })
  @ApiNotFoundResponse({ description: 'No publisher on that path (STREAM_NOT_FOUND)' })
  stop(@StreamPathParam() streamPath: string): SuccessDto {
    this.streams.stop(streamPath);
    return { success: true };
  }

  @Get('subscribers/*streamPath')
  @RequirePermission(Permission.Read)
  @ApiStreamPath()
  @ApiOperation({ summary: 'Players of a stream, paged' })
  @ApiOkResponse({ type: SubscriberListDto })
  @ApiNotFoundResponse({ description: 'No such stream (STREAM_NOT_FOUND)' })
  subscribers(@StreamPathParam() streamPath: string, @Query() query: PageQueryDto): SubscriberListDto {
    return this.streams.subscribers(streamPath, query);
  }

  @Post('subscribe/stop/:id')
  @HttpCode(200)
  @RequirePermission(Permission.ControlStreams)
  @ApiParam({ name: 'id', description: 'Subscriber id (from the subscriber list)', schema: { type: 'string', pattern: '^[0-9]+$' } })
  @ApiOperation({ summary: 'Disconnect one player' })
  @ApiOkResponse({ type: SuccessDto })
  @ApiNotFoundResponse({ description: 'No such player (NOT_FOUND)' })
  stopSubscriber(@Param('id') id: string): SuccessDto {
    this.streams.stopSubscriber(id);
    return { success: true };
  }
}
