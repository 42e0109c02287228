import { ApiPropertyOptional } from '@nestjs/swagger';
import { UUID_PATTERN } from '@sop/domain';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { COMMON_ERRORS, failAt } from './errors.catalog';

export class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200)
  limit: number = 50;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page' })
  @IsOptional() @IsString()
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const badCursor = () => failAt(COMMON_ERRORS.VALIDATION_FAILED, 'cursor', 'is not a cursor this API returned', 400);

export const encodeCursor = (createdAt: Date, id: string): string =>
  Buffer.from(`${createdAt.toISOString()}|${id}`).toString('base64url');

/** What encodeCursor writes (toISOString). Date.parse alone takes '1' or 'May 5', which Postgres refuses (a 500). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** `idPattern`: what the page's ids look like (UUIDs unless the table keys by number). */
export function decodeCursor(cursor: string, idPattern = UUID_PATTERN): [string, string] {
  const [at, id, ...rest] = Buffer.from(cursor, 'base64url').toString().split('|');
  if (!id || rest.length || !idPattern.test(id) || !ISO_TIME.test(at) || Number.isNaN(Date.parse(at))) throw badCursor();
  return [at, id];
}

/**
 * Keyset pagination over (created_at, id): stable under inserts and as fast on page 1,000 as on
 * page 1, unlike OFFSET.
 */
export async function paginate<T extends ObjectLiteral & { id: string; createdAt: Date }>(
  qb: SelectQueryBuilder<T>,
  alias: string,
  { limit, cursor }: PageQuery,
): Promise<Page<T>> {
  if (cursor) {
    const [at, id] = decodeCursor(cursor);
    qb.andWhere(`(${alias}.created_at, ${alias}.id) > (:at, :id)`, { at, id });
  }
  const rows = await qb.orderBy(`${alias}.created_at`, 'ASC').addOrderBy(`${alias}.id`, 'ASC').take(limit + 1).getMany();
  return keysetPage(rows, limit, (r) => r);
}

/** Turns limit + 1 fetched rows into a page; the extra row only says whether another page exists. */
export function keysetPage<R, T extends { id: string; createdAt: Date }>(rows: R[], limit: number, map: (row: R) => T): Page<T> {
  const items = rows.slice(0, limit).map(map);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null };
}
