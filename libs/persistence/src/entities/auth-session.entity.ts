import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber } from './columns';

/** One login: the refresh token (stored hashed) and the id carried as `sid` by its access tokens, so logout revokes both. */
@Entity('auth_sessions')
export class AuthSessionEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id!: string;
  @Index() @Column({ type: 'integer' }) userId!: number;
  /** sha256 hex of the refresh token. */
  @Column({ type: 'varchar', length: 64 }) refreshTokenHash!: string;
  /** ms since the epoch. */
  @Column({ type: 'bigint', transformer: bigintNumber }) expiresAt!: number;
  @Column({ type: 'bigint', nullable: true, transformer: bigintNumber }) revokedAt!: number | null;
  @CreateDateColumn() createdAt!: Date;
}
