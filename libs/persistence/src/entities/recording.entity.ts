import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { bigintNumber } from './columns';

export type RecordingFormat = 'mp4' | 'flv' | 'hls';
export type RecordingStatus = 'recording' | 'finalizing' | 'complete' | 'failed';

/** One recorded file. Times are ms since the epoch. */
@Entity('recordings')
@Index(['streamPath', 'startTime'])
export class RecordingEntity {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 256 }) streamPath!: string;
  @Column({ type: 'varchar', length: 8 }) format!: RecordingFormat;
  @Column({ type: 'bigint', transformer: bigintNumber }) startTime!: number;
  @Column({ type: 'bigint', nullable: true, transformer: bigintNumber }) endTime!: number | null;
  /** ms */
  @Column({ type: 'integer', default: 0 }) duration!: number;
  @Column({ type: 'varchar', length: 32, nullable: true }) videoCodec!: string | null;
  @Column({ type: 'varchar', length: 32, nullable: true }) audioCodec!: string | null;
  /** bytes */
  @Column({ type: 'bigint', default: 0, transformer: bigintNumber }) size!: number;
  /** Path on local disk, or the object key when storage is not local. */
  @Column({ type: 'varchar', length: 1024 }) filePath!: string;
  @Column({ type: 'varchar', length: 16, default: 'local' }) storage!: string;
  @Column({ type: 'varchar', length: 16, default: 'recording' }) status!: RecordingStatus;
  @CreateDateColumn() createdAt!: Date;
  @UpdateDateColumn() updatedAt!: Date;
}
