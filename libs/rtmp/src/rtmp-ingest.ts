import type { Publisher } from '@m7s/core';
import { FlvIngest } from '@m7s/flv';
import { decodeData, metadataOf, MessageType, parseAggregate, RtmpMessage } from './protocol';

/**
 * Turns the media messages of an RTMP stream (from a publishing client, or from a remote server we
 * pull) into track configs and frames on a Publisher. RTMP media payloads are FLV tag bodies, so the
 * FLV ingest does the work. Malformed media throws (MediaError), which closes that connection only.
 */
export class RtmpIngest {
  private readonly flv: FlvIngest;

  constructor(publisher: Publisher) {
    this.flv = new FlvIngest(publisher);
  }

  /** Returns false for messages that are not media or metadata. */
  handle(msg: RtmpMessage): boolean {
    switch (msg.type) {
      case MessageType.Video:
        this.flv.video(msg.timestamp, msg.payload);
        return true;
      case MessageType.Audio:
        this.flv.audio(msg.timestamp, msg.payload);
        return true;
      case MessageType.DataAmf0:
      case MessageType.DataAmf3: {
        const metadata = metadataOf(decodeData(msg));
        if (metadata) this.flv.metadata(metadata);
        return true;
      }
      case MessageType.Aggregate:
        for (const sub of parseAggregate(msg)) this.handle(sub);
        return true;
      default:
        return false;
    }
  }
}
