export * from './transcode.config';
export * from './content-clock';
export * from './transcode-formats';
export * from './ffmpeg-audio-transcoder';
export * from './transcode.service';
export * from './transcode.controller';
export * from './transcode.module';
