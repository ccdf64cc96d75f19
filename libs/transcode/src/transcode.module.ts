import { Module } from '@nestjs/common';
import { TranscodeController } from './transcode.controller';
import { TranscodeService } from './transcode.service';

/** On-demand audio transcoding (the engine's AudioTranscoderPort, on ffmpeg) and GET /api/transcode/list. */
@Module({ controllers: [TranscodeController], providers: [TranscodeService], exports: [TranscodeService] })
export class TranscodeModule {}
