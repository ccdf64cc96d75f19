import { Module } from '@nestjs/common';
import { AliasController } from './aliases/alias.controller';
import { AliasService } from './aliases/alias.service';
import { ConfigController } from './config/config.controller';
import { ConfigApiService } from './config/config-api.service';
import { GrpcApiController } from './grpc/grpc-api.controller';
import { PullProxyController, PushProxyController } from './proxies/proxy.controller';
import { PullProxyService, PushProxyService } from './proxies/proxy.service';
import { StreamsController } from './streams/streams.controller';
import { StreamsService } from './streams/streams.service';
import { SystemController } from './system/system.controller';
import { SystemService } from './system/system.service';

const SERVICES = [SystemService, StreamsService, AliasService, ConfigApiService, PullProxyService, PushProxyService];

/** REST controllers under /api and the services behind them (the gRPC controller calls the same services). */
@Module({
  controllers: [SystemController, StreamsController, AliasController, ConfigController, PullProxyController, PushProxyController, GrpcApiController],
  providers: SERVICES,
  exports: SERVICES,
})
export class ApiModule {}
