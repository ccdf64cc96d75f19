import { createTestDatabase, TEST_DB_KINDS, TestDatabase } from '@m7s/test-kit';
import { DataSource, DbConfig, JobEntity, openDatabase, RecordingEntity, SettingsService } from '@m7s/persistence';

/** The committed migrations of each dialect against a real server: they build exactly the entities' schema and revert cleanly. */
describe.each(TEST_DB_KINDS)('migrations on %s', (kind) => {
  let db: TestDatabase;
  let dataSource: DataSource | undefined;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });

  afterAll(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await db?.drop();
  });

  const config = (): DbConfig => Object.assign(new DbConfig(), db.config);

  it('creates the schema of the entities at start, with nothing left for the TypeORM CLI to generate', async () => {
    dataSource = await openDatabase(config());
    expect(await dataSource.showMigrations()).toBe(false);
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('keeps ms timestamps and sizes as numbers and JSON settings across a reopen', async () => {
    const big = Date.UTC(2026, 10, 24, 12, 0, 0, 123);
    const recordings = dataSource!.getRepository(RecordingEntity);
    const saved = await recordings.save(recordings.create({ streamPath: 'live/a', format: 'mp4', startTime: big, size: 5_000_000_000, filePath: '/r/a.mp4' }));
    await dataSource!.getRepository(JobEntity).insert({ id: 'j1', queue: 'q', payload: '{}', status: 'waiting', runAt: big, createdAt: big });
    await new SettingsService(dataSource!).set('probe', { a: [1, 'two'] });
    await dataSource!.destroy();

    dataSource = await openDatabase(config());
    const row = await dataSource.getRepository(RecordingEntity).findOneByOrFail({ id: saved.id });
    expect(row).toMatchObject({ startTime: big, size: 5_000_000_000, endTime: null, status: 'recording', storage: 'local' });
    expect((await dataSource.getRepository(JobEntity).findOneByOrFail({ id: 'j1' })).runAt).toBe(big);
    expect(await SettingsService.read(dataSource, 'probe')).toEqual({ a: [1, 'two'] });
  });

  it('reverts the migrations to an empty database and applies them again', async () => {
    const applied = await dataSource!.query(`SELECT COUNT(*) AS n FROM ${dataSource!.driver.escape('migrations')}`);
    const count = Number(applied[0].n ?? applied[0].N);
    expect(count).toBeGreaterThan(0);
    for (let i = 0; i < count; i++) await dataSource!.undoLastMigration({ transaction: 'each' });
    const tables = await dataSource!.createQueryRunner().getTables(['users', 'jobs', 'recordings']);
    expect(tables).toEqual([]);
    await dataSource!.runMigrations({ transaction: 'each' });
    expect((await dataSource!.driver.createSchemaBuilder().log()).upQueries).toEqual([]);
  });
});
