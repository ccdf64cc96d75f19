import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Permission, RequirePermission } from '@m7s/auth';
import { ParseIdPipe } from '../common/id.pipe';
import { SuccessDto } from '../common/pagination';
import {
  CreatePullProxyDto,
  CreatePushProxyDto,
  PullProxyDto,
  PullProxyListDto,
  PushProxyDto,
  PushProxyListDto,
  UpdatePullProxyDto,
  UpdatePushProxyDto,
} from './proxy.dto';
import { PullProxyService, PushProxyService } from './proxy.service';

const ID_PARAM = { name: 'id', description: 'Proxy id', schema: { type: 'integer', minimum: 1 } } as const;

@ApiTags('proxies')
@Controller('api/proxy/pull')
export class PullProxyController {
  constructor(private readonly proxies: PullProxyService) {}

  @Get('list')
  @RequirePermission(Permission.Read)
  @ApiOperation({ summary: 'Pull proxies (remote sources pulled into local streams)' })
  @ApiOkResponse({ type: PullProxyListDto })
  async list(): Promise<PullProxyListDto> {
    return { list: await this.proxies.list() };
  }

  @Get('get/:id')
  @RequirePermission(Permission.Read)
  @ApiParam(ID_PARAM)
  @ApiOperation({ summary: 'One pull proxy' })
  @ApiOkResponse({ type: PullProxyDto })
  @ApiNotFoundResponse({ description: 'NOT_FOUND' })
  get(@Param('id', ParseIdPipe) id: number): Promise<PullProxyDto> {
    return this.proxies.get(id);
  }

  @Post('add')
  @HttpCode(200)
  @RequirePermission(Permission.ControlStreams)
  @ApiOperation({ summary: 'Add a pull proxy' })
  @ApiOkResponse({ type: PullProxyDto })
  @ApiBadRequestResponse({ description: 'Invalid fields, URL scheme or stream path (INVALID_ARGUMENT)' })
  @ApiConflictResponse({ description: 'Name or stream path taken (ALREADY_EXISTS)' })
  add(@Body() body: CreatePullProxyDto): Promise<PullProxyDto> {
    return this.proxies.add(body);
  }

  @Post('update')
  @HttpCode(200)
  @RequirePermission(Permission.ControlStreams)
  @ApiOperation({ summary: 'Change fields of a pull proxy (status, lastError and rtt are read-only)' })
  @ApiOkResponse({ type: PullProxyDto })
  @ApiNotFoundResponse({ description: 'NOT_FOUND' })
  @ApiConflictResponse({ description: 'Name or stream path taken (ALREADY_EXISTS)' })
  update(@Body() body: UpdatePullProxyDto): Promise<PullProxyDto> {
    return this.proxies.update(body);
  }

  @Post('remove/:id')
  @HttpCode(200)
  @RequirePermission(Permission.ControlStreams)
  @ApiParam(ID_PARAM)
  @ApiOperation({ summary: 'Remove a pull proxy' })
  @ApiOkResponse({ type: SuccessDto })
  @ApiNotFoundResponse({ description: 'NOT_FOUND' })
  async remove(@Param('id', ParseIdPipe) id: number): Promise<SuccessDto> {
    await this.proxies.remove(id);
    return { success: true };
  }
}

@ApiTags('proxies')
@Controller('api/proxy/push')
export class PushProxyController {
  constructor(private readonly proxies: PushProxyService) {}

  @Get('list')
  @RequirePermission(Permission.Read)
  @ApiOperation({ summary: 'Push proxies (local streams pushed to remote servers)' })
  @ApiOkResponse({ type: PushProxyListDto })
  async list(): Promise<PushProxyListDto> {
    return { list: await this.proxies.list() };
  }

  @Get('get/:id')
  @RequirePermission(Permission.Read)
  @ApiParam(ID_PARAM)
  @ApiOperation({ summary: 'One push proxy' })
  @ApiOkResponse({ type: PushProxyDto })
  @ApiNotFoundResponse({ description: 'NOT_FOUND' })
  get(@Param('id', ParseIdPipe) id: number): Promise<PushProxyDto> {
    return this.proxies.get(id);
  }

  @Post('add')
  @HttpCode(200)
  @RequirePermission(Permission.ControlStreams)
  @ApiOperation({ summary: 'Add a push proxy' })
  @ApiOkResponse({ type: PushProxyDto })
  @ApiBadRequestResponse({ description: 'Invalid fields, URL scheme or stream path (INVALID_ARGUMENT)' })
  @ApiConflictResponse({ description: 'Name taken (ALREADY_EXISTS)' })
  add(@Body() body: CreatePushProxyDto): Promise<PushProxyDto> {
    return this.proxies.add(body);
  }

  @Post('update')
  @HttpCode(200)
  @RequirePermission(Permission.ControlStreams)
  @ApiOperation({ summary: 'Change fields of a push proxy (status, lastError and rtt are read-only)' })
  @ApiOkResponse({ type: PushProxyDto })
  @ApiNotFoundResponse({ description: 'NOT_FOUND' })
  @ApiConflictResponse({ description: 'Name taken (ALREADY_EXISTS)' })
  update(@Body() body: UpdatePushProxyDto): Promise<PushProxyDto> {
    return this.proxies.update(body);
  }

  @Post('remove/:id')
  @HttpCode(200)
  @RequirePermission(Permission.ControlStreams)
  @ApiParam(ID_PARAM)
  @ApiOperation({ summary: 'Remove a push proxy' })
  @ApiOkResponse({ type: SuccessDto })
  @ApiNotFoundResponse({ description: 'NOT_FOUND' })
  async remove(@Param('id', ParseIdPipe) id: number): Promise<SuccessDto> {
    await this.proxies.remove(id);
    return { success: true };
  }
}
