import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Permission, RequirePermission } from '@m7s/auth';
import { SummaryDto, SysInfoDto } from './system.dto';
import { SystemService } from './system.service';

@ApiTags('system')
@Controller('api')
export class SystemController {
  constructor(private readonly system: SystemService) {}

  @Get('sysinfo')
  @RequirePermission(Permission.Read)
  @ApiOperation({ summary: 'Server facts: version, node, start time, OS, CPUs, memory, plugins' })
  @ApiOkResponse({ type: SysInfoDto })
  sysInfo(): SysInfoDto {
    return this.system.sysInfo();
  }

  @Get('summary')
  @RequirePermission(Permission.Read)
  @ApiOperation({ summary: 'Load: streams, publishers and players per protocol, bytes, memory, CPU' })
  @ApiOkResponse({ type: SummaryDto })
  summary(): SummaryDto {
    return this.system.summary();
  }
}
