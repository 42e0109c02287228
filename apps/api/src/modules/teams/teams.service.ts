import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { Team, User } from '@sop/db';
import { AppError } from '@sop/domain';
import { DataSource, In, IsNull, Repository } from 'typeorm';
import { type Page, type PageQuery, paginate } from '../../common/pagination';
import { taken, unlessTaken } from '../../common/postgres-errors';
import { findInTenant } from '../../common/tenant-scope';
import type { CreateTeamDto, TeamDto, UpdateTeamDto } from './teams.dto';

const toTeamDto = (t: Team): TeamDto => ({ id: t.id, name: t.name, managerId: t.managerId, createdAt: t.createdAt });

const nameTaken = (name: string) => () => taken('TEAM_NAME_TAKEN', `A team named "${name}" already exists.`, 'name');

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
    return toTeamDto(team);
  }

  async list(tenantId: string, page: PageQuery): Promise<Page<TeamDto>> {
    const result = await paginate(this.teams.createQueryBuilder('t').where('t.tenant_id = :tenantId', { tenantId }), 't', page);
    return { ...result, items: result.items.map(toTeamDto) };
  }

  async get(tenantId: string, id: string): Promise<TeamDto> {
    return toTeamDto(await findInTenant(this.teams, tenantId, id, 'team'));
  }

  async update(tenantId: string, id: string, dto: UpdateTeamDto): Promise<TeamDto> {
    const team = await findInTenant(this.teams, tenantId, id, 'team');
    if (dto.managerId !== undefined) await this.assertManager(tenantId, dto.managerId);
    if (dto.name !== undefined) team.name = dto.name.trim();
    if (dto.managerId !== undefined) team.managerId = dto.managerId;
    return toTeamDto(await unlessTaken('teams_tenant_name_key', nameTaken(team.name), () => this.teams.save(team)));
  }

  /** Deleting a team leaves its members without a team. */
  async remove(tenantId: string, id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await findInTenant(tx.getRepository(Team), tenantId, id, 'team');
      await tx.update(User, { tenantId, teamId: id }, { teamId: null });
      await tx.delete(Team, { tenantId, id });
    });
  }

  private async assertManager(tenantId: string, managerId: string | null | undefined): Promise<void> {
    if (!managerId) return;
    const ok = await this.users.existsBy({ tenantId, id: managerId, role: In(['manager', 'admin']), disabledAt: IsNull() });
    if (!ok) {
      throw new AppError('MANAGER_NOT_FOUND', 422, `No active manager or admin with id ${managerId}.`, [
        { path: 'managerId', problem: 'must be an active user with the role manager or admin' },
      ]);
    }
  }
}
