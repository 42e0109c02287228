import type { Role } from '@sop/domain';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity('users')
export class User {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  /** Unique across tenants: login is by email alone. Stored lower-cased. */
  @Column() email: string;
  @Column() name: string;
  @Column({ type: 'text' }) role: Role;
  @Column({ name: 'team_id', type: 'uuid', nullable: true }) teamId: string | null;
  @Column({ name: 'password_hash', type: 'text', select: false }) passwordHash: string;
  /** Disabled users keep their history but can no longer log in. */
  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true }) disabledAt: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
