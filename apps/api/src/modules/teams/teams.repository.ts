import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { Team, User } from '@sop/db';
import { DataSource, In, IsNull, Repository } from 'typeorm';
import { type Page, type PageQuery, paginate } from '../../common/pagination';

/**
 * The `teams` rows, with what the API reads of their members (`users.team_id`): the API's one home for that SQL.
 * Every statement is keyed by the caller's organization.
 */
@Injectable()
export class TeamsRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(Team) private readonly teams: Repository<Team>,
    @InjectRepository(User) private readonly users: Repository<User>,
  ) {}

  insert(tenantId: string, name: string, managerId: string | null): Promise<Team> {
    return this.teams.save(this.teams.create({ tenantId, name, managerId }));
  }

  page(tenantId: string, page: PageQuery): Promise<Page<Team>> {
    return paginate(this.teams.createQueryBuilder('t').where('t.tenant_id = :tenantId', { tenantId }), 't', page);
  }

  find(tenantId: string, id: string): Promise<Team | null> {
    return this.teams.findOneBy({ tenantId, id });
  }

  save(team: Team): Promise<Team> {
    return this.teams.save(team);
  }

  /** Deletes the team and leaves its members without a team, in one transaction; false (and nothing changed) when there is none. */
  delete(tenantId: string, id: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      if (!(await tx.getRepository(Team).findOneBy({ tenantId, id }))) return false;
      await tx.update(User, { tenantId, teamId: id }, { teamId: null });
      await tx.delete(Team, { tenantId, id });
      return true;
    });
  }

  /** Active members per team, one grouped query for a page of teams. */
  async memberCounts(tenantId: string, teamIds: string[]): Promise<Map<string, number>> {
    if (!teamIds.length) return new Map();
    const rows: { team_id: string; n: number }[] = await this.users.query(
      `SELECT team_id, count(*)::int AS n FROM users
        WHERE tenant_id = $1 AND team_id = ANY($2::uuid[]) AND disabled_at IS NULL GROUP BY team_id`,
      [tenantId, teamIds],
    );
    return new Map(rows.map((r) => [r.team_id, r.n]));
  }

  /** Whether the user is an active manager or admin of the organization. */
  isActiveManager(tenantId: string, userId: string): Promise<boolean> {
    return this.users.existsBy({ tenantId, id: userId, role: In(['manager', 'admin']), disabledAt: IsNull() });
  }
}
