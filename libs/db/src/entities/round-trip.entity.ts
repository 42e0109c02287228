import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export type RoundTripStatus = 'pending' | 'completed';

/**
 * A diagnostic run through the whole stack: the API starts a workflow, the worker's
 * activity writes here. Operators use it to prove API, Temporal, worker and Postgres connect.
 */
@Entity('round_trips')
export class RoundTrip {
  // keyed (tenant_id, id): a client may choose the id, and another tenant's use of it must not show
  @PrimaryColumn('uuid') id: string;
  @PrimaryColumn({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  @Column({ name: 'requested_by', type: 'uuid', nullable: true }) requestedBy: string | null;
  @Column({ type: 'text' }) status: RoundTripStatus;
  @Column({ name: 'workflow_id' }) workflowId: string;
  @Column({ name: 'worker_identity', type: 'text', nullable: true }) workerIdentity: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true }) completedAt: Date | null;
}
