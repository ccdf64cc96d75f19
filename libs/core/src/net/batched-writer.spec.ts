import type { Socket } from 'node:net';
import { waitFor } from '@m7s/test-kit/wait';
import { BatchedWriter } from './batched-writer';

/** Counts what reaches the "kernel": one entry per uncorked flush of one or more writes. */
class FakeSocket {
  flushes: Buffer[][] = [];
  private corks = 0;
  private pending: Buffer[] = [];
  writableLength = 0;
  cork() {
    this.corks++;
  }
  uncork() {
    if (--this.corks === 0 && this.pending.length) {
      this.flushes.push(this.pending);
      this.pending = [];
    }
  }
  write(data: Buffer) {
    this.pending.push(data);
    if (this.corks === 0) this.uncork();
  }
}

const tick = () => new Promise((resolve) => process.nextTick(resolve));

describe('BatchedWriter', () => {
  it('coalesces the writes of one tick into one flush', async () => {
    const socket = new FakeSocket();
    const writer = new BatchedWriter(socket as unknown as Socket);
    writer.write(Buffer.from('a'));
    writer.write(Buffer.from('b'));
    expect(socket.flushes).toHaveLength(0);
    await tick();
    expect(socket.flushes.map((f) => Buffer.concat(f).toString())).toEqual(['ab']);
    writer.write(Buffer.from('c'));
    await tick();
    expect(socket.flushes).toHaveLength(2);
  });

  it('holds deferred writes until the next immediate write, or until the merge time passes', async () => {
    const socket = new FakeSocket();
    const writer = new BatchedWriter(socket as unknown as Socket);
    writer.write(Buffer.from('audio1'), 40);
    await tick();
    expect(socket.flushes).toHaveLength(0);
    writer.write(Buffer.from('audio2'), 40);
    writer.write(Buffer.from('video'));
    await tick();
    expect(socket.flushes.map((f) => Buffer.concat(f).toString())).toEqual(['audio1audio2video']);

    writer.write(Buffer.from('lonely audio'), 20);
    expect(socket.flushes).toHaveLength(1);
    await waitFor(() => socket.flushes.length === 2, 'the merge time to flush the lone audio', 2000, 5);
    expect(socket.flushes.map((f) => Buffer.concat(f).toString())).toEqual(['audio1audio2video', 'lonely audio']);
  });
});
