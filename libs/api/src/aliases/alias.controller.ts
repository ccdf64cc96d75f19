import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Permission, RequirePermission } from '@m7s/auth';
import { AliasListDto, SetAliasDto, SetAliasResultDto } from './alias.dto';
import { AliasService } from './alias.service';

@ApiTags('streams')
@Controller('api/stream/alias')
export class AliasController {
  constructor(private readonly aliases: AliasService) {}

  @Get('list')
  @RequirePermission(Permission.Read)
  @ApiOperation({ summary: 'Stream aliases' })
  @ApiOkResponse({ type: AliasListDto })
  async list(): Promise<AliasListDto> {
    return { list: await this.aliases.list() };
  }

  @Post()
  @HttpCode(200)
  @RequirePermission(Permission.ControlStreams)
  @ApiOperation({ summary: 'Set an alias (players of `alias` get `streamPath`, on every protocol), or remove it with an empty streamPath' })
  @ApiOkResponse({ type: SetAliasResultDto })
  @ApiBadRequestResponse({ description: 'Bad path, an alias of itself, or a chain of aliases (INVALID_ARGUMENT)' })
  @ApiNotFoundResponse({ description: 'Removing an alias that does not exist (NOT_FOUND)' })
  set(@Body() body: SetAliasDto): Promise<SetAliasResultDto> {
    return this.aliases.set(body);
  }
}
