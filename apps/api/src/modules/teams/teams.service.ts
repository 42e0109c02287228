import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { Team, User } from '@sop/db';
import { DataSource, In, IsNull, Repository } from 'typeorm';
import { fail } from '../../common/errors.catalog';
import { type Page, type PageQuery, paginate } from '../../common/pagination';
import { taken, unlessTaken } from '../../common/postgres-errors';
import { findInTenant } from '../../common/tenant-scope';
import type { CreateTeamDto, TeamDto, UpdateTeamDto } from './teams.dto';
import { TEAMS_ERRORS } from './teams.errors';

const toTeamDto = (t: Team, memberCount: number): TeamDto => ({ id: t.id, name: t.name, managerId: t.managerId, memberCount, createdAt: t.createdAt });

const nameTaken = (name: string) => () => taken(TEAMS_ERRORS.TEAM_NAME_TAKEN, `A team named "${name}" already exists.`, 'name');

@Injectable()
export class TeamsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(Team) private readonly teams: Repository<Team>,
    @InjectRepository(User) private readonly users: Repository<User>,
  ) {}

  async create(tenantId: string, dto: CreateTeamDto): Promise<TeamDto> {
    await this.assertManager(tenantId, dto.managerId);
    const team = await unlessTaken('teams_tenant_name_key', nameTaken(dto.name), () =>
      this.teams.save(this.teams.create({ tenantId, name: dto.name.trim(), managerId: dto.managerId ?? null })),
    );
    return toTeamDto(team, 0);
  }

  async list(tenantId: string, page: PageQuery): Promise<Page<TeamDto>> {
    const result = await paginate(this.teams.createQueryBuilder('t').where('t.tenant_id = :tenantId', { tenantId }), 't', page);
    const counts = await this.memberCounts(tenantId, result.items.map((t) => t.id));
    return { ...result, items: result.items.map((t) => toTeamDto(t, counts.get(t.id) ?? 0)) };
  }

  async get(tenantId: string, id: string): Promise<TeamDto> {
    const team = await findInTenant(this.teams, tenantId, id, 'team');
    return toTeamDto(team, (await this.memberCounts(tenantId, [id])).get(id) ?? 0);
  }

  async update(tenantId: string, id: string, dto: UpdateTeamDto): Promise<TeamDto> {
    const team = await findInTenant(this.teams, tenantId, id, 'team');
    if (dto.managerId !== undefined) await this.assertManager(tenantId, dto.managerId);
    if (dto.name !== undefined) team.name = dto.name.trim();
    if (dto.managerId !== undefined) team.managerId = dto.managerId;
    const saved = await unlessTaken('teams_tenant_name_key', nameTaken(team.name), () => this.teams.save(team));
    return toTeamDto(saved, (await this.memberCounts(tenantId, [id])).get(id) ?? 0);
  }

  /** Deleting a team leaves its members without a team. */
  async remove(tenantId: string, id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await findInTenant(tx.getRepository(Team), tenantId, id, 'team');
      await tx.update(User, { tenantId, teamId: id }, { teamId: null });
      await tx.delete(Team, { tenantId, id });
    });
  }

  /** Active members per team, one grouped query for a page of teams. */
  private async memberCounts(tenantId: string, teamIds: string[]): Promise<Map<string, number>> {
    if (!teamIds.length) return new Map();
    const rows: { team_id: string; n: number }[] = await this.users.query(
      `SELECT team_id, count(*)::int AS n FROM users
        WHERE tenant_id = $1 AND team_id = ANY($2::uuid[]) AND disabled_at IS NULL GROUP BY team_id`,
      [tenantId, teamIds],
    );
    return new Map(rows.map((r) => [r.team_id, r.n]));
  }

  private async assertManager(tenantId: string, managerId: string | null | undefined): Promise<void> {
    if (!managerId) return;
    const ok = await this.users.existsBy({ tenantId, id: managerId, role: In(['manager', 'admin']), disabledAt: IsNull() });
    if (!ok) {
      throw fail(TEAMS_ERRORS.MANAGER_NOT_FOUND, `No active manager or admin with id ${managerId}.`, [
        { path: 'managerId', problem: 'must be an active user with the role manager or admin' },
      ]);
    }
  }
}
