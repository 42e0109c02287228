import type { Role } from '@sop/domain';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A credential for server-to-server calls. Only a hash of the secret is kept. */
@Entity('api_keys')
export class ApiKey {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  @Column() name: string;
  /** The role the key acts with. */
  @Column({ type: 'text' }) role: Role;
  /** Public, non-secret start of the key, shown in lists so people can tell keys apart. */
  @Column() prefix: string;
  @Column({ name: 'secret_hash', select: false }) secretHash: string;
  @Column({ name: 'created_by', type: 'uuid', nullable: true }) createdBy: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true }) lastUsedAt: Date | null;
  /** The server key (EVENT_SIGNING_KEYS id) the events signing secret derives from; null: EVENT_SIGNING_SECRET. */
  @Column({ name: 'signing_key_id', type: 'text', nullable: true }) signingKeyId: string | null;
  /** Drawn at each rotation of the signing secret (never shown; the secret is HMAC(server key, id.nonce)). */
  @Column({ name: 'signing_nonce', type: 'text', nullable: true, select: false }) signingNonce: string | null;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt: Date | null;
}
