import { Param, ParseUUIDPipe } from '@nestjs/common';
import { notFound, validationFailed } from '@sop/domain';
import type { FindOptionsWhere, ObjectLiteral, Repository } from 'typeorm';

/** A path id that must be a UUID; anything else is a 400 naming the parameter. */
export const IdParam = (name = 'id') =>
  Param(name, new ParseUUIDPipe({ exceptionFactory: () => validationFailed([{ path: name, problem: 'must be a UUID' }]) }));

/**
 * Loads a row of the caller's tenant or answers 404: another tenant's id is indistinguishable
 * from an id that does not exist.
 */
export async function findInTenant<T extends ObjectLiteral & { tenantId: string; id: string }>(
  repo: Repository<T>,
  tenantId: string,
  id: string,
  what: string,
): Promise<T> {
  const row = await repo.findOneBy({ tenantId, id } as FindOptionsWhere<T>);
  if (!row) throw notFound(what, id);
  return row;
}
