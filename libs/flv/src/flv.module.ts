import { Module } from '@nestjs/common';
import type { MediaPlugin } from '@m7s/core';
import { FlvConfig } from './flv.config';
import { FlvController } from './flv.controller';
import { FlvPullService } from './flv-pull';
import { WsFlvGateway } from './ws-flv.gateway';

/** HTTP-FLV and WS-FLV playback, and the HTTP-FLV pull driver of the proxy layer (registered at init). */
@Module({ controllers: [FlvController], providers: [WsFlvGateway, FlvPullService], exports: [FlvPullService] })
export class FlvModule {}

export const flvPlugin: MediaPlugin = {
  name: 'flv',
  version: '1.0.0',
  configSection: 'flv',
  protocols: ['http-flv', 'ws-flv'],
  configClass: FlvConfig,
  module: FlvModule,
};
