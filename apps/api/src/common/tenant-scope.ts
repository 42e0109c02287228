import { Param, ParseUUIDPipe } from '@nestjs/common';
import { validationFailed } from '@sop/domain';
import type { FindOptionsWhere, ObjectLiteral, Repository } from 'typeorm';
import type { Queryable } from '@sop/engine';
import { COMMON_ERRORS, fail, notFound, type NotFoundSubject } from './errors.catalog';

/** A path id that must be a UUID; anything else is a 400 naming the parameter. */
export const IdParam = (name = 'id') =>
  Param(name, new ParseUUIDPipe({ exceptionFactory: () => validationFailed([{ path: name, problem: 'must be a UUID' }]) }));

/**
 * Loads a row of the caller's tenant or answers 404: another tenant's id is indistinguishable
 * from an id that does not exist.
 */
export async function findInTenant<T extends ObjectLiteral & { tenantId: string; id: string }, W extends string>(
  repo: Repository<T>,
  tenantId: string,
  id: string,
  what: NotFoundSubject<W>,
): Promise<T> {
  const row = await repo.findOneBy({ tenantId, id } as FindOptionsWhere<T>);
  if (!row) throw notFound(what, id);
  return row;
}

/** An owner or assignee must be an active user of the same tenant; 422 naming the field otherwise. */
export async function assertActiveUser(db: Queryable, tenantId: string, userId: string | null | undefined, path = 'ownerId'): Promise<void> {
  if (!userId) return;
  const [ok] = await db.query(`SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2 AND disabled_at IS NULL`, [tenantId, userId]);
  if (!ok) throw fail(COMMON_ERRORS.OWNER_NOT_FOUND, `No active user with id ${userId}.`, [{ path, problem: 'no such active user' }]);
}
