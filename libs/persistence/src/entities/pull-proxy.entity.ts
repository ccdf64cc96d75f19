import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type ProxyStatus = 'offline' | 'online' | 'pulling' | 'pushing' | 'disabled';

/** How a pulled rtsp:// source sends RTP. */
export type RtspTransport = 'tcp' | 'udp' | 'auto';

/** A remote source (camera or server) pulled into a local stream path, at start or when its first reader comes. */
@Entity('pull_proxies')
export class PullProxyEntity {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 64, unique: true }) name!: string;
  @Column({ type: 'varchar', length: 256, unique: true }) streamPath!: string;
  /** rtsp://, rtmp://, http(s)://...flv */
  @Column({ type: 'varchar', length: 1024 }) url!: string;
  @Column({ type: 'boolean', default: true }) enabled!: boolean;
  /** Pull as soon as the server starts instead of when the first reader asks. */
  @Column({ type: 'boolean', default: false }) pullOnStart!: boolean;
  /** On-demand pulls stop this long (ms) after the last reader left. */
  @Column({ type: 'integer', default: 10000 }) stopOnIdleMs!: number;
  /** Record the pulled stream (the recording issue acts on it). */
  @Column({ type: 'boolean', default: false }) record!: boolean;
  @Column({ type: 'boolean', default: true }) audio!: boolean;
  /** rtsp:// sources: RTP over the RTSP connection (tcp), over UDP (udp), or UDP then TCP (auto). */
  @Column({ type: 'varchar', length: 8, default: 'tcp' }) rtspTransport!: RtspTransport;
  @Column({ type: 'varchar', length: 255, default: '' }) description!: string;
  @Column({ type: 'varchar', length: 16, default: 'offline' }) status!: ProxyStatus;
  @Column({ type: 'text', nullable: true }) lastError!: string | null;
  /** Round-trip time to the source, ms. */
  @Column({ type: 'integer', nullable: true }) rtt!: number | null;
  @CreateDateColumn() createdAt!: Date;
  @UpdateDateColumn() updatedAt!: Date;
}
