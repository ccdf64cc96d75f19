import { Injectable } from '@nestjs/common';
import { DataSource, In, LessThan, LessThanOrEqual, MoreThan, Repository } from 'typeorm';
import { JobStore, NewStoredJob, QueueCounts, StoredJob } from '@m7s/core';
import { JobEntity } from './entities/job.entity';

/**
 * The embedded work queue's store over the `jobs` table. Claims and state changes are single conditional
 * UPDATEs checked by their affected-row count, which is atomic on SQLite, PostgreSQL and MySQL/MariaDB alike,
 * so several processes on one database never run the same attempt twice.
 */
@Injectable()
export class TypeormJobStore extends JobStore {
  private readonly jobs: Repository<JobEntity>;

  constructor(dataSource: DataSource) {
    super();
    this.jobs = dataSource.getRepository(JobEntity);
  }

  async insert(job: NewStoredJob): Promise<boolean> {
    // Check first so the common duplicate costs no failed INSERT; orIgnore covers the race between two adders.
    if (await this.jobs.exists({ where: { id: job.id } })) return false;
    await this.jobs
      .createQueryBuilder()
      .insert()
      .into(JobEntity)
      .values({ ...job, status: 'waiting', attempts: 0, lockedUntil: null, lastError: null, finishedAt: null })
      .orIgnore()
      .updateEntity(false)
      .execute();
    return true;
  }

  findClaimable(queue: string, now: number, limit: number): Promise<StoredJob[]> {
    return this.jobs.find({
      where: [
        { queue, status: 'waiting', runAt: LessThanOrEqual(now) },
        { queue, status: 'active', lockedUntil: LessThan(now) },
      ],
      order: { runAt: 'ASC', createdAt: 'ASC' },
      take: Math.max(1, limit),
    });
  }

  async claim(job: StoredJob, now: number, lockedUntil: number): Promise<boolean> {
    const seen = { id: job.id, attempts: job.attempts };
    const result = await this.jobs.update(
      [
        { ...seen, status: 'waiting', runAt: LessThanOrEqual(now) },
        { ...seen, status: 'active', lockedUntil: LessThan(now) },
      ],
      { status: 'active', attempts: job.attempts + 1, lockedUntil },
    );
    return result.affected === 1;
  }

  async renew(id: string, attempt: number, lockedUntil: number): Promise<boolean> {
    const result = await this.jobs.update({ id, status: 'active', attempts: attempt }, { lockedUntil });
    return result.affected === 1;
  }

  async complete(id: string, attempt: number, now: number): Promise<void> {
    await this.jobs.update({ id, status: 'active', attempts: attempt }, { status: 'completed', lockedUntil: null, finishedAt: now });
  }

  async retry(id: string, attempt: number, runAt: number, error: string): Promise<void> {
    await this.jobs.update({ id, status: 'active', attempts: attempt }, { status: 'waiting', lockedUntil: null, runAt, lastError: error.slice(0, 2000) });
  }

  async fail(id: string, attempt: number, now: number, error: string): Promise<void> {
    await this.jobs.update({ id, status: 'active', attempts: attempt }, { status: 'failed', lockedUntil: null, finishedAt: now, lastError: error.slice(0, 2000) });
  }

  async counts(queue: string, now: number): Promise<QueueCounts> {
    const [waiting, delayed, active, completed, failed] = await Promise.all([
      this.jobs.count({ where: { queue, status: 'waiting', runAt: LessThanOrEqual(now) } }),
      this.jobs.count({ where: { queue, status: 'waiting', runAt: MoreThan(now) } }),
      this.jobs.count({ where: { queue, status: 'active' } }),
      this.jobs.count({ where: { queue, status: 'completed' } }),
      this.jobs.count({ where: { queue, status: 'failed' } }),
    ]);
    return { waiting, delayed, active, completed, failed };
  }

  async removeFinished(before: number): Promise<number> {
    const result = await this.jobs.delete({ status: In(['completed', 'failed']), finishedAt: LessThan(before) });
    return result.affected ?? 0;
  }
}
