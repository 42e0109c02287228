import { Injectable } from '@nestjs/common';
import type { Team } from '@sop/db';
import { fail, notFound } from '../../common/errors.catalog';
import type { Page, PageQuery } from '../../common/pagination';
import { taken, unlessTaken } from '../../common/postgres-errors';
import type { CreateTeamDto, TeamDto, UpdateTeamDto } from './teams.dto';
import { TEAMS_ERRORS } from './teams.errors';
import { TeamsRepository } from './teams.repository';

const toTeamDto = (t: Team, memberCount: number): TeamDto => ({ id: t.id, name: t.name, managerId: t.managerId, memberCount, createdAt: t.createdAt });

const nameTaken = (name: string) => () => taken(TEAMS_ERRORS.TEAM_NAME_TAKEN, `A team named "${name}" already exists.`, 'name');

@Injectable()
export class TeamsService {
  constructor(private readonly teams: TeamsRepository) {}

  async create(tenantId: string, dto: CreateTeamDto): Promise<TeamDto> {
    await this.assertManager(tenantId, dto.managerId);
    const team = await unlessTaken('teams_tenant_name_key', nameTaken(dto.name), () =>
      this.teams.insert(tenantId, dto.name.trim(), dto.managerId ?? null),
    );
    return toTeamDto(team, 0);
  }

  async list(tenantId: string, page: PageQuery): Promise<Page<TeamDto>> {
    const result = await this.teams.page(tenantId, page);
    const counts = await this.teams.memberCounts(tenantId, result.items.map((t) => t.id));
    return { ...result, items: result.items.map((t) => toTeamDto(t, counts.get(t.id) ?? 0)) };
  }

  async get(tenantId: string, id: string): Promise<TeamDto> {
    const team = await this.find(tenantId, id);
    return toTeamDto(team, (await this.teams.memberCounts(tenantId, [id])).get(id) ?? 0);
  }

  async update(tenantId: string, id: string, dto: UpdateTeamDto): Promise<TeamDto> {
    const team = await this.find(tenantId, id);
    if (dto.managerId !== undefined) await this.assertManager(tenantId, dto.managerId);
    if (dto.name !== undefined) team.name = dto.name.trim();
    if (dto.managerId !== undefined) team.managerId = dto.managerId;
    const saved = await unlessTaken('teams_tenant_name_key', nameTaken(team.name), () => this.teams.save(team));
    return toTeamDto(saved, (await this.teams.memberCounts(tenantId, [id])).get(id) ?? 0);
  }

  /** Deleting a team leaves its members without a team. */
  async remove(tenantId: string, id: string): Promise<void> {
    if (!(await this.teams.delete(tenantId, id))) throw notFound('team', id);
  }

  /** The caller's team or 404: another tenant's id is indistinguishable from one that does not exist. */
  private async find(tenantId: string, id: string): Promise<Team> {
    const team = await this.teams.find(tenantId, id);
    if (!team) throw notFound('team', id);
    return team;
  }

  private async assertManager(tenantId: string, managerId: string | null | undefined): Promise<void> {
    if (!managerId) return;
    if (!(await this.teams.isActiveManager(tenantId, managerId))) {
      throw fail(TEAMS_ERRORS.MANAGER_NOT_FOUND, `No active manager or admin with id ${managerId}.`, [
        { path: 'managerId', problem: 'must be an active user with the role manager or admin' },
      ]);
    }
  }
}
