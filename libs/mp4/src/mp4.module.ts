import { Module, OnModuleInit, Optional } from '@nestjs/common';
import { ConfigService } from '@m7s/core';
import type { MediaPlugin } from '@m7s/core';
import { RecordFormats } from '@m7s/record';
import { Mp4Config } from './mp4.config';
import { Mp4Controller } from './mp4.controller';
import { Mp4DownloadService } from './mp4-download.service';
import { Mp4RecordFormat } from './mp4-record';
import { Mp4Recordings } from './mp4-recordings';
import { Mp4ReplayController } from './mp4-replay.controller';
import { Mp4ReplayService } from './mp4-replay.service';

/**
 * Live fMP4 over HTTP, the MP4 recording format (registered into the record lib's formats at init),
 * downloads of recorded time ranges as one MP4, and replays of recordings as live streams.
 */
@Module({
  controllers: [Mp4Controller, Mp4ReplayController],
  providers: [Mp4Recordings, Mp4DownloadService, Mp4ReplayService],
})
export class Mp4Module implements OnModuleInit {
  constructor(
    private readonly config: ConfigService,
    @Optional() private readonly formats?: RecordFormats,
  ) {}

  onModuleInit(): void {
    this.formats?.register(new Mp4RecordFormat(() => this.config.section<Mp4Config>('mp4').flushInterval));
  }
}

export const mp4Plugin: MediaPlugin = {
  name: 'mp4',
  version: '1.0.0',
  configSection: 'mp4',
  protocols: ['http-mp4', 'replay'],
  configClass: Mp4Config,
  module: Mp4Module,
};
