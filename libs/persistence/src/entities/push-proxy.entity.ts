import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { ProxyStatus } from './pull-proxy.entity';

/** A local stream pushed to a remote server (rtmp://, rtsp://) as soon as it is published. */
@Entity('push_proxies')
export class PushProxyEntity {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 64, unique: true }) name!: string;
  @Index() @Column({ type: 'varchar', length: 256 }) streamPath!: string;
  @Column({ type: 'varchar', length: 1024 }) url!: string;
  @Column({ type: 'boolean', default: true }) enabled!: boolean;
  /** Push when the stream is published (otherwise only when started through the API). */
  @Column({ type: 'boolean', default: true }) pushOnStart!: boolean;
  @Column({ type: 'boolean', default: true }) audio!: boolean;
  @Column({ type: 'varchar', length: 255, default: '' }) description!: string;
  @Column({ type: 'varchar', length: 16, default: 'offline' }) status!: ProxyStatus;
  @Column({ type: 'text', nullable: true }) lastError!: string | null;
  @Column({ type: 'integer', nullable: true }) rtt!: number | null;
  @CreateDateColumn() createdAt!: Date;
  @UpdateDateColumn() updatedAt!: Date;
}
