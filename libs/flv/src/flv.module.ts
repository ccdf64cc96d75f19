import { Module, OnModuleInit, Optional } from '@nestjs/common';
import type { MediaPlugin } from '@m7s/core';
import { RecordFormats } from '@m7s/record';
import { FlvConfig } from './flv.config';
import { FlvController } from './flv.controller';
import { FlvPullService } from './flv-pull';
import { FlvRecordFormat } from './flv-record';
import { WsFlvGateway } from './ws-flv.gateway';

/** HTTP-FLV and WS-FLV playback, the HTTP-FLV pull driver of the proxy layer and the FLV recording format (registered at init). */
@Module({ controllers: [FlvController], providers: [WsFlvGateway, FlvPullService], exports: [FlvPullService] })
export class FlvModule implements OnModuleInit {
  constructor(@Optional() private readonly formats?: RecordFormats) {}

  onModuleInit(): void {
    this.formats?.register(new FlvRecordFormat());
  }
}

export const flvPlugin: MediaPlugin = {
  name: 'flv',
  version: '1.0.0',
  configSection: 'flv',
  protocols: ['http-flv', 'ws-flv'],
  configClass: FlvConfig,
  module: FlvModule,
};
