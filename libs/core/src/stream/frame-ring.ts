import type { AVFrame } from './av-frame';

export interface RingLimits {
  /** History kept before the latest key frame, ms. */
  bufferTime: number;
  maxFrames: number;
  maxBytes: number;
}

/**
 * The stream's bounded history: frames of every track in arrival order, with the positions of the
 * key frames (video key frames; every audio frame when the stream has no video). A new reader starts at
 * the latest key frame. Trimming happens at key frames so the ring always begins with one, except when
 * a GOP alone exceeds the hard limits; then readers wait for the next key frame.
 */
export class FrameRing {
  private frames: AVFrame[] = [];
  private firstSeq = 1;
  private bytes = 0;
  private keySeqs: number[] = [];

  constructor(private readonly limits: RingLimits) {}

  get length(): number {
    return this.frames.length;
  }

  get byteSize(): number {
    return this.bytes;
  }

  get nextSeq(): number {
    return this.firstSeq + this.frames.length;
  }

  push(frame: AVFrame, isKey: boolean): void {
    frame.seq = this.nextSeq;
    this.frames.push(frame);
    this.bytes += frame.size;
    if (isKey) {
      this.keySeqs.push(frame.seq);
      this.trimToHistory(frame.dts);
    }
    while (this.frames.length > this.limits.maxFrames || (this.bytes > this.limits.maxBytes && this.frames.length > 1)) {
      this.dropFront(1);
    }
  }

  /** The sequence number of the newest key frame still held, or undefined. */
  latestKeySeq(): number | undefined {
    return this.keySeqs[this.keySeqs.length - 1];
  }

  /** Frames from `seq` (inclusive) to the newest. */
  *from(seq: number): Generator<AVFrame> {
    for (let i = Math.max(0, seq - this.firstSeq); i < this.frames.length; i++) yield this.frames[i];
  }

  clear(): void {
    this.dropFront(this.frames.length);
  }

  private trimToHistory(newestDts: number): void {
    // Keep the newest key frame K such that everything from K covers bufferTime.
    let keep = this.keySeqs.length - 1;
    while (keep > 0 && newestDts - this.frameAt(this.keySeqs[keep]).dts < this.limits.bufferTime) keep--;
    const keepSeq = this.keySeqs[keep];
    if (keepSeq > this.firstSeq) this.dropFront(keepSeq - this.firstSeq);
  }

  private frameAt(seq: number): AVFrame {
    return this.frames[seq - this.firstSeq];
  }

  private dropFront(count: number): void {
    const removed = this.frames.splice(0, count);
    for (const f of removed) this.bytes -= f.size;
    this.firstSeq += removed.length;
    while (this.keySeqs.length && this.keySeqs[0] < this.firstSeq) this.keySeqs.shift();
  }
}
