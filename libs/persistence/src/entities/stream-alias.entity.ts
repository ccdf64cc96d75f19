import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A second name for a stream path: players asking for `alias` get `streamPath`. */
@Entity('stream_aliases')
export class StreamAliasEntity {
  @PrimaryColumn({ type: 'varchar', length: 256 }) alias!: string;
  @Column({ type: 'varchar', length: 256 }) streamPath!: string;
  /** Remove the alias when its target stream ends. */
  @Column({ type: 'boolean', default: false }) autoRemove!: boolean;
  @CreateDateColumn() createdAt!: Date;
}
