import { Module } from '@nestjs/common';
import type { MediaPlugin } from '@m7s/core';
import { RtspConfig } from './rtsp.config';
import { RtspServerService } from './rtsp-server.service';
import { RtspRelayService } from './rtsp-relay.service';

@Module({ providers: [RtspServerService, RtspRelayService], exports: [RtspServerService, RtspRelayService] })
export class RtspModule {}

export const rtspPlugin: MediaPlugin = {
  name: 'rtsp',
  version: '1.0.0',
  configSection: 'rtsp',
  protocols: ['rtsp', 'rtsps', 'rtsp-pull', 'rtsp-push'],
  configClass: RtspConfig,
  module: RtspModule,
};
