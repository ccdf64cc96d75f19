import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorageDriver } from './local-storage.driver';

describe('LocalStorageDriver', () => {
  let root: string;
  let driver: LocalStorageDriver;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'm7s-storage-'));
    driver = new LocalStorageDriver(root);
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('maps keys under its directory and refuses keys that climb out', () => {
    expect(driver.path('live/cam1/a.mp4')).toBe(join(root, 'live/cam1/a.mp4'));
    expect(driver.keyOf(join(root, 'live', 'cam1', 'a.mp4'))).toBe('live/cam1/a.mp4');
    expect(() => driver.path('../etc/passwd')).toThrow(/outside/);
    expect(driver.path('/abs/file.flv')).toBe('/abs/file.flv');
  });

  it('uploads (copies), opens with ranged reads and streams, and deletes', async () => {
    const source = join(root, 'src.bin');
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    writeFileSync(source, data);
    await driver.upload(source, 'copy/a.bin');
    expect(readFileSync(join(root, 'copy/a.bin')).equals(data)).toBe(true);
    expect(await driver.exists('copy/a.bin')).toBe(true);
    const file = await driver.open('copy/a.bin');
    expect(file.size).toBe(1000);
    expect((await file.read(10, 5)).equals(data.subarray(10, 15))).toBe(true);
    expect((await file.read(995, 100)).equals(data.subarray(995))).toBe(true);
    const chunks: Buffer[] = [];
    for await (const chunk of file.stream(100, 199)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(data.subarray(100, 200))).toBe(true);
    await file.close();
    await driver.delete('copy/a.bin');
    await driver.delete('copy/a.bin');
    expect(await driver.exists('copy/a.bin')).toBe(false);
  });
});
