import { Module } from '@nestjs/common';
import type { MediaPlugin } from '@m7s/core';
import { HlsConfig } from './hls.config';
import { HlsController } from './hls.controller';
import { HlsVodController } from './hls-vod.controller';
import { HlsRecordFormat } from './hls-record';
import { HlsService } from './hls.service';

/**
 * Live HLS / LL-HLS (TS and fMP4) from memory, the `hls` recording format (registered into RecordFormats at init)
 * and HLS VOD of recorded time ranges (its controller first: /hls/vod/... is not a live stream path).
 */
@Module({ controllers: [HlsVodController, HlsController], providers: [HlsService, HlsRecordFormat], exports: [HlsService, HlsRecordFormat] })
export class HlsModule {}

export const hlsPlugin: MediaPlugin = {
  name: 'hls',
  version: '1.0.0',
  configSection: 'hls',
  protocols: ['hls'],
  configClass: HlsConfig,
  module: HlsModule,
};
