import { Module } from '@nestjs/common';
import type { MediaPlugin } from '@m7s/core';
import { RtmpConfig } from './rtmp.config';
import { RtmpServerService } from './rtmp-server.service';
import { RtmpRelayService } from './rtmp-relay.service';

@Module({ providers: [RtmpServerService, RtmpRelayService], exports: [RtmpServerService, RtmpRelayService] })
export class RtmpModule {}

export const rtmpPlugin: MediaPlugin = {
  name: 'rtmp',
  version: '1.0.0',
  configSection: 'rtmp',
  protocols: ['rtmp', 'rtmps'],
  configClass: RtmpConfig,
  module: RtmpModule,
};
