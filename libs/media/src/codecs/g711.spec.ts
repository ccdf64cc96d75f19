import { MediaError } from '../media.errors';
import { g711Config, g711Duration } from './g711';

describe('g711Config', () => {
  it.each([
    ['pcma', undefined, undefined, { codec: 'pcma', sampleRate: 8000, channels: 1 }],
    ['pcmu', 16000, 2, { codec: 'pcmu', sampleRate: 16000, channels: 2 }],
  ] as const)('%s', (codec, rate, ch, expected) => {
    const c = g711Config(codec, rate, ch);
    expect(c).toMatchObject({ kind: 'audio', ...expected });
    expect(c.record.length).toBe(0);
  });

  it('rejects other codecs and bad numbers', () => {
    expect(() => g711Config('aac' as never)).toThrow(MediaError);
    expect(() => g711Config('pcma', 0)).toThrow(MediaError);
  });

  it('duration', () => {
    expect(g711Duration(160)).toBe(20);
    expect(g711Duration(320, 8000, 2)).toBe(20);
  });
});
