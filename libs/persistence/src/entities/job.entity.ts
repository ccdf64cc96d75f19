import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber } from './columns';

export type JobStatus = 'waiting' | 'active' | 'completed' | 'failed';

/** A job of the embedded work queue. Times are ms since the epoch. */
@Entity('jobs')
@Index(['status', 'runAt'])
export class JobEntity {
  /** The caller's jobId (deduplicates) or a generated one. */
  @PrimaryColumn({ type: 'varchar', length: 191 }) id!: string;
  @Index() @Column({ type: 'varchar', length: 64 }) queue!: string;
  /** JSON */
  @Column({ type: 'text' }) payload!: string;
  @Column({ type: 'varchar', length: 16 }) status!: JobStatus;
  /** Attempts made so far. */
  @Column({ type: 'integer', default: 0 }) attempts!: number;
  @Column({ type: 'integer', default: 1 }) maxAttempts!: number;
  @Column({ type: 'varchar', length: 16, default: 'fixed' }) backoffType!: 'fixed' | 'exponential';
  /** ms */
  @Column({ type: 'integer', default: 0 }) backoffDelay!: number;
  /** Not run before this time. */
  @Column({ type: 'bigint', transformer: bigintNumber }) runAt!: number;
  /** While active: the claim expires at this time (a crashed worker's job runs again). */
  @Column({ type: 'bigint', nullable: true, transformer: bigintNumber }) lockedUntil!: number | null;
  @Column({ type: 'text', nullable: true }) lastError!: string | null;
  @Column({ type: 'bigint', transformer: bigintNumber }) createdAt!: number;
  @Column({ type: 'bigint', nullable: true, transformer: bigintNumber }) finishedAt!: number | null;
}
