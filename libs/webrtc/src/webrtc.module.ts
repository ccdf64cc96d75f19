import { Module } from '@nestjs/common';
import type { MediaPlugin } from '@m7s/core';
import { WebrtcConfig } from './webrtc.config';
import { WebrtcApiController } from './webrtc-api.controller';
import { WebrtcController } from './webrtc.controller';
import { WebrtcPage } from './webrtc-page';
import { WebrtcSessions } from './webrtc-sessions.service';

/** WHIP publish and WHEP play on werift, the session resource, the page at /webrtc/ and GET /api/webrtc/sessions. */
@Module({ controllers: [WebrtcController, WebrtcApiController], providers: [WebrtcSessions, WebrtcPage], exports: [WebrtcSessions] })
export class WebrtcModule {}

export const webrtcPlugin: MediaPlugin = {
  name: 'webrtc',
  version: '1.0.0',
  configSection: 'webrtc',
  protocols: ['webrtc'],
  configClass: WebrtcConfig,
  module: WebrtcModule,
};
