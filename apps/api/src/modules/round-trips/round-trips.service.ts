import { roundTripWorkflow } from '@sop/workflows';
import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { RoundTrip } from '@sop/db';
import { workflowIds } from '@sop/temporal';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { DataSource, Repository } from 'typeorm';
import { COMMON_ERRORS, fail } from '../../common/errors.catalog';
import { isUniqueViolation } from '../../common/postgres-errors';
import type { Principal } from '../../common/principal';
import { findInTenant } from '../../common/tenant-scope';
import { TemporalService } from '../../temporal/temporal.module';
import type { RoundTripDto } from './round-trips.dto';

const toDto = ({ id, status, workflowId, workerIdentity, createdAt, completedAt }: RoundTrip): RoundTripDto => ({
  id, status, workflowId, workerIdentity, createdAt, completedAt,
});

@Injectable()
export class RoundTripsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(RoundTrip) private readonly roundTrips: Repository<RoundTrip>,
    private readonly temporal: TemporalService,
  ) {}

  /**
   * Records the round trip and starts its workflow in one transaction: if Temporal refuses, the
   * row is rolled back. The same id twice answers the first round trip and starts nothing new.
   */
  async start(caller: Principal, id: string = randomUUID()): Promise<{ created: boolean; roundTrip: RoundTripDto }> {
    // ids are unique per tenant: another tenant's round trip with this id is none of the caller's business
    const existing = await this.roundTrips.findOneBy({ id, tenantId: caller.tenantId });
    if (existing) return { created: false, roundTrip: toDto(existing) };
    const workflowId = workflowIds.roundTrip(caller.tenantId, id);
    const row = await this.db.transaction(async (tx) => {
      const saved = tx.create(RoundTrip, { id, tenantId: caller.tenantId, requestedBy: caller.userId, status: 'pending', workflowId, workerIdentity: null, completedAt: null });
      await tx.insert(RoundTrip, saved);
      Object.assign(saved, (await tx.findOneByOrFail(RoundTrip, { id, tenantId: caller.tenantId })));
      try {
        await this.temporal.within(5000, () =>
          this.temporal.client.workflow.start(roundTripWorkflow, {
            taskQueue: this.temporal.taskQueue,
            workflowId,
            args: [{ tenantId: caller.tenantId, roundTripId: id }],
          }),
        );
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
          throw fail(COMMON_ERRORS.TEMPORAL_UNAVAILABLE, `The workflow could not be started: ${(err as Error).message}`);
        }
      }
      return saved;
    }).catch((err) => {
      if (isUniqueViolation(err)) return null; // a concurrent request with the same id won
      throw err;
    });
    return row ? { created: true, roundTrip: toDto(row) } : this.start(caller, id);
  }

  async get(tenantId: string, id: string): Promise<RoundTripDto> {
    return toDto(await findInTenant(this.roundTrips, tenantId, id, 'round trip'));
  }
}
