import type { Socket } from 'node:net';

/**
 * Writes to a socket, coalescing everything written within one tick into one writev. A publisher's
 * read often carries several messages (audio and video) that fan out to every player in the same tick;
 * corking turns their writes into one system call per player instead of one per message.
 */
export class BatchedWriter {
  private corked = false;
  private readonly uncork = () => {
    this.corked = false;
    this.socket.uncork();
  };

  constructor(readonly socket: Socket) {}

  /** Bytes queued on the socket and not yet sent. */
  get backlog(): number {
    return this.socket.writableLength;
  }

  write(data: Buffer): void {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.socket.write(data);
  }
}
