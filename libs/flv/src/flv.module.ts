import { Module } from '@nestjs/common';
import type { MediaPlugin } from '@m7s/core';
import { FlvConfig } from './flv.config';
import { FlvController } from './flv.controller';
import { WsFlvGateway } from './ws-flv.gateway';

@Module({ controllers: [FlvController], providers: [WsFlvGateway] })
export class FlvModule {}

export const flvPlugin: MediaPlugin = {
  name: 'flv',
  version: '1.0.0',
  configSection: 'flv',
  protocols: ['http-flv', 'ws-flv'],
  configClass: FlvConfig,
  module: FlvModule,
};
