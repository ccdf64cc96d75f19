import { existsSync, readFileSync } from 'node:fs';
import { WorkQueue } from '@m7s/core';
import { decodeErrors, killAllTracked, loginApi, makeTempDir, probeDuration, publishTestPattern, removeTempDir, startS3, startTestServer, TestS3, TestServer, waitFor } from '@m7s/test-kit';

describe('recordings uploaded to S3 (s3rver) by the storage-upload job', () => {
  let s3: TestS3;
  let server: TestServer;
  let dir: string;

  beforeAll(async () => {
    dir = await makeTempDir('m7s-record-s3-');
    s3 = await startS3('recordings');
    server = await startTestServer({
      record: {
        dir,
        fragment: 0,
        rules: [
          { match: '^cloud/', formats: ['flv'] },
          { match: '^cloudmp4/', formats: ['mp4'], fragment: '3s' },
        ],
        storage: 's3',
        deleteLocalAfterUpload: true,
        s3: { ...s3.config, prefix: 'm7s/' },
        upload: { retryMin: '300ms', retryMax: '1s' },
      },
    });
  });

  afterAll(async () => {
    await killAllTracked();
    await server?.close();
    await s3?.close();
    await removeTempDir(dir);
  });

  it('retries while the S3 server is down and uploads once it is back on the same port', async () => {
    await s3.stop();
    const admin = await loginApi(server);
    const publisher = publishTestPattern({ url: server.rtmpUrl('cloud/cam'), duration: 4, fps: 25, gop: 25 });
    await publisher.exited;
    // Finalized locally while the bucket cannot be reached.
    const local = await waitFor(async () => {
      const row = (await admin.get('/api/record/list?streamPath=cloud/cam')).body.list[0];
      return row?.status === 'complete' && row;
    }, 'the finalized recording', 20_000);
    expect(local.storage).toBe('local');
    const bytes = readFileSync(local.filePath);
    expect(bytes.length).toBe(local.size);
    // A few attempts fail meanwhile (the upload job queues its next try each time).
    await waitFor(async () => (await server.app.get(WorkQueue).counts('storage-upload')).completed >= 3, 'failed upload attempts', 15_000);
    expect((await admin.get(`/api/record/get/${local.id}`)).body.storage).toBe('local');

    await s3.start();
    const uploaded = await waitFor(async () => {
      const row = (await admin.get(`/api/record/get/${local.id}`)).body;
      return row.storage === 's3' && row;
    }, 'the upload', 20_000);
    expect(uploaded.filePath).toMatch(/^cloud\/cam\/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}\.flv$/);
    expect(uploaded.size).toBe(bytes.length);
    const object = await s3.getObject(`m7s/${uploaded.filePath}`);
    expect(object?.equals(bytes)).toBe(true);
    expect(existsSync(local.filePath)).toBe(false);

    // Deleting the recording removes the object.
    expect((await admin.post(`/api/record/remove/${local.id}`)).status).toBe(200);
    expect(await s3.getObject(`m7s/${uploaded.filePath}`)).toBeUndefined();
  });

  it('downloads a range of MP4 recordings that live only in S3 as one MP4', async () => {
    const admin = await loginApi(server);
    const publisher = publishTestPattern({ url: server.rtmpUrl('cloudmp4/cam'), duration: 7, fps: 25, gop: 25 });
    await publisher.exited;
    const rows = await waitFor(async () => {
      const { body } = await admin.get('/api/record/list?streamPath=cloudmp4/cam');
      return body.total >= 2 && body.list.every((r: any) => r.status === 'complete' && r.storage === 's3') ? body.list : undefined;
    }, 'MP4 recordings uploaded', 30_000);
    for (const row of rows) expect(existsSync(`${dir}/${row.filePath}`)).toBe(false);
    const start = rows[0].startTime + 1000;
    const end = rows[rows.length - 1].endTime - 500;
    const url = `${server.httpUrl}/mp4/download/cloudmp4/cam.mp4?start=${start}&end=${end}`;
    expect(await decodeErrors(url)).toBe('');
    // From the key frame at or before start (1 s GOP) to end.
    expect(Math.abs((await probeDuration(url)) * 1000 - (end - start))).toBeLessThan(1500);
  });
});
