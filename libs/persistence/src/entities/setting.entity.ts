import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** Server state kept across restarts: the generated JWT secret, config changes made through the API. */
@Entity('settings')
export class SettingEntity {
  @PrimaryColumn({ type: 'varchar', length: 128 }) key!: string;
  /** JSON */
  @Column({ type: 'text' }) value!: string;
  @UpdateDateColumn() updatedAt!: Date;
}
