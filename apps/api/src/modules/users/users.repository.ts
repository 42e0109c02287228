import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Team, User } from '@sop/db';
import { type QueryDeepPartialEntity, Repository } from 'typeorm';
import { type Page, type PageQuery, paginate } from '../../common/pagination';
import type { UserListQuery } from './users.dto';

/** What an edit of a user may change; `disabled` sets or clears the time they were disabled. */
export type UserChanges = Partial<Pick<User, 'name' | 'email' | 'role' | 'teamId' | 'passwordHash'>> & { disabled?: boolean };

/**
 * The organization's `users` as the directory manages them, with the one read of `teams` it checks a team by:
 * the API's one home for the directory's SQL (sign-in's reads live in `auth.repository.ts`). Every statement is
 * keyed by the caller's organization.
 */
@Injectable()
export class UsersRepository {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectRepository(Team) private readonly teams: Repository<Team>,
  ) {}

  insert(tenantId: string, u: Pick<User, 'email' | 'name' | 'role' | 'teamId' | 'passwordHash'>): Promise<User> {
    return this.users.save(this.users.create({ tenantId, ...u }));
  }

  /** A keyset page of the directory, oldest first; `q` matches part of a name or email, taken literally. */
  page(tenantId: string, page: PageQuery, filter: Omit<UserListQuery, keyof PageQuery>): Promise<Page<User>> {
    const qb = this.users.createQueryBuilder('u').where('u.tenant_id = :tenantId', { tenantId });
    if (filter.teamId) qb.andWhere('u.team_id = :teamId', { teamId: filter.teamId });
    if (filter.role) qb.andWhere('u.role = :role', { role: filter.role });
    if (filter.active !== undefined) qb.andWhere(filter.active ? 'u.disabled_at IS NULL' : 'u.disabled_at IS NOT NULL');
    if (filter.q) {
      const like = `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      qb.andWhere('(u.name ILIKE :like OR u.email ILIKE :like)', { like });
    }
    return paginate(qb, 'u', page);
  }

  find(tenantId: string, id: string): Promise<User | null> {
    return this.users.findOneBy({ tenantId, id });
  }

  /**
   * Writes only the columns in `changes` and returns the row. Saving the whole entity read before would write back
   * what it read of the others: a team deleted meanwhile (its members' `team_id` set to NULL by the foreign key) came
   * back as a foreign-key violation on disabling one of them, and a concurrent edit of another field was undone.
   */
  async patch(tenantId: string, id: string, { disabled, ...columns }: UserChanges): Promise<User | null> {
    const changes: QueryDeepPartialEntity<User> = columns;
    // disabling a disabled user keeps the first time: repeatable
    if (disabled !== undefined) changes.disabledAt = disabled ? () => 'coalesce(disabled_at, now())' : null;
    if (Object.keys(changes).length) await this.users.update({ tenantId, id }, changes);
    return this.find(tenantId, id);
  }

  teamExists(tenantId: string, teamId: string): Promise<boolean> {
    return this.teams.existsBy({ tenantId, id: teamId });
  }
}
