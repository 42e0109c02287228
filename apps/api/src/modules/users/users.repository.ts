import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Team, User } from '@sop/db';
import { Repository } from 'typeorm';
import { type Page, type PageQuery, paginate } from '../../common/pagination';
import type { UserListQuery } from './users.dto';

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

  save(user: User): Promise<User> {
    return this.users.save(user);
  }

  teamExists(tenantId: string, teamId: string): Promise<boolean> {
    return this.teams.existsBy({ tenantId, id: teamId });
  }
}
