import type { Publisher } from '@m7s/core';
import { parseAudioBody, parseVideoBody } from '@m7s/media';
import { decodeData, metadataOf, MessageType, parseAggregate, RtmpMessage } from './protocol';

/**
 * Turns the media messages of an RTMP stream (from a publishing client, or from a remote server we
 * pull) into track configs and frames on a Publisher. Malformed media throws (MediaError), which
 * closes that connection only.
 */
export class RtmpIngest {
  constructor(private readonly publisher: Publisher) {}

  /** Returns false for messages that are not media or metadata. */
  handle(msg: RtmpMessage): boolean {
    switch (msg.type) {
      case MessageType.Video:
        this.video(msg);
        return true;
      case MessageType.Audio:
        this.audio(msg);
        return true;
      case MessageType.DataAmf0:
      case MessageType.DataAmf3:
        this.data(msg);
        return true;
      case MessageType.Aggregate:
        for (const sub of parseAggregate(msg)) this.handle(sub);
        return true;
      default:
        return false;
    }
  }

  private video(msg: RtmpMessage): void {
    if (msg.payload.length === 0) return;
    const result = parseVideoBody(msg.payload, this.publisher.tracks.video?.config);
    if (result.type === 'config') this.publisher.setTrack(result.config);
    else if (result.type === 'frame') this.publisher.writeVideo(msg.timestamp, msg.timestamp + result.cts, result.keyFrame, result.units);
  }

  private audio(msg: RtmpMessage): void {
    if (msg.payload.length === 0) return;
    const result = parseAudioBody(msg.payload, this.publisher.tracks.audio?.config);
    if (result.type === 'config') this.publisher.setTrack(result.config);
    else if (result.type === 'frame') {
      if (result.config) this.publisher.setTrack(result.config);
      this.publisher.writeAudio(msg.timestamp, result.data);
    }
  }

  private data(msg: RtmpMessage): void {
    const metadata = metadataOf(decodeData(msg));
    if (!metadata) return;
    // A hint that lets the engine start players of an audio-only stream without waiting for video.
    if ('videocodecid' in metadata || 'width' in metadata) {
      this.publisher.expectVideo = metadata.videocodecid !== undefined && metadata.videocodecid !== 0 && metadata.videocodecid !== '';
    }
  }
}
