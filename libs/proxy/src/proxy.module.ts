import { Module } from '@nestjs/common';
import { ApiModule } from '@m7s/api';
import { PullProxyManager } from './pull-proxy.manager';
import { PushProxyManager } from './push-proxy.manager';

/**
 * Pull and push proxies at work: the stored proxies (CRUD in the API) relayed through the drivers the
 * protocol modules register (RelayDrivers: rtmp, rtsp, http-flv). Needs the `proxy` config section.
 */
@Module({ imports: [ApiModule], providers: [PullProxyManager, PushProxyManager], exports: [PullProxyManager, PushProxyManager] })
export class ProxyModule {}
