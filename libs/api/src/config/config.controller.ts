import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Permission, RequirePermission } from '@m7s/auth';
import { ConfigViewDto, ModifyConfigDto, ModifyConfigResultDto } from './config.dto';
import { ConfigApiService } from './config-api.service';

@ApiTags('config')
@Controller('api/config')
export class ConfigController {
  constructor(private readonly configApi: ConfigApiService) {}

  @Get('get')
  @RequirePermission(Permission.ManageConfig)
  @ApiOperation({ summary: 'The whole effective config, secrets masked' })
  @ApiOkResponse({ type: ConfigViewDto })
  getAll(): Promise<ConfigViewDto> {
    return this.configApi.get();
  }

  @Get('get/:name')
  @RequirePermission(Permission.ManageConfig)
  @ApiParam({ name: 'name', description: 'Section name (publish, subscribe, rtmp, webhook...)', example: 'publish' })
  @ApiOperation({ summary: 'One effective config section, secrets masked' })
  @ApiOkResponse({ type: ConfigViewDto })
  @ApiNotFoundResponse({ description: 'No such section (NOT_FOUND)' })
  get(@Param('name') name: string): Promise<ConfigViewDto> {
    return this.configApi.get(name);
  }

  @Post('modify')
  @HttpCode(200)
  @RequirePermission(Permission.ManageConfig)
  @ApiOperation({
    summary: 'Change config keys: validated like the config files, stored (applied again at every start) and applied at once where the setting allows',
  })
  @ApiOkResponse({ type: ModifyConfigResultDto })
  @ApiBadRequestResponse({ description: 'Unknown section or key, a bad value (details.problems: key, value, reason), the db section (INVALID_ARGUMENT)' })
  modify(@Body() body: ModifyConfigDto): Promise<ModifyConfigResultDto> {
    return body.name ? this.configApi.modifySection(body.name, body.values) : this.configApi.modify(body.values);
  }
}
