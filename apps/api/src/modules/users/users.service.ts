import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Team, User } from '@sop/db';
import { Repository } from 'typeorm';
import { COMMON_ERRORS, fail } from '../../common/errors.catalog';
import { type Page, type PageQuery, paginate } from '../../common/pagination';
import { isForeignKeyViolation, unlessTaken } from '../../common/postgres-errors';
import type { Principal } from '../../common/principal';
import { findInTenant } from '../../common/tenant-scope';
import { emailTaken } from '../auth/auth.service';
import { CredentialsService } from '../auth/credentials.service';
import { hashPassword } from '../auth/passwords';
import type { CreateUserDto, UpdateUserDto, UserDto, UserListQuery } from './users.dto';
import { USERS_ERRORS } from './users.errors';

export const toUserDto = (u: User): UserDto => ({
  id: u.id, email: u.email, name: u.name, role: u.role, teamId: u.teamId, disabled: u.disabledAt !== null, createdAt: u.createdAt,
});

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectRepository(Team) private readonly teams: Repository<Team>,
    private readonly credentials: CredentialsService,
  ) {}

  async create(tenantId: string, dto: CreateUserDto): Promise<UserDto> {
    await this.assertTeam(tenantId, dto.teamId);
    const passwordHash = await hashPassword(dto.password);
    const user = await unlessTaken('users_email_key', () => emailTaken(dto.email), () =>
      this.users.save(this.users.create({
        tenantId, email: dto.email, name: dto.name.trim(), role: dto.role, teamId: dto.teamId ?? null, passwordHash,
      })),
    );
    return toUserDto(user);
  }

  async list(tenantId: string, page: PageQuery, filter: Omit<UserListQuery, keyof PageQuery> = {}): Promise<Page<UserDto>> {
    const qb = this.users.createQueryBuilder('u').where('u.tenant_id = :tenantId', { tenantId });
    if (filter.teamId) qb.andWhere('u.team_id = :teamId', { teamId: filter.teamId });
    if (filter.role) qb.andWhere('u.role = :role', { role: filter.role });
    if (filter.active !== undefined) qb.andWhere(filter.active ? 'u.disabled_at IS NULL' : 'u.disabled_at IS NOT NULL');
    if (filter.q) {
      const like = `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      qb.andWhere('(u.name ILIKE :like OR u.email ILIKE :like)', { like });
    }
    const result = await paginate(qb, 'u', page);
    return { ...result, items: result.items.map(toUserDto) };
  }

  async get(tenantId: string, id: string): Promise<UserDto> {
    return toUserDto(await findInTenant(this.users, tenantId, id, 'user'));
  }

  async update(caller: Principal, id: string, dto: UpdateUserDto): Promise<UserDto> {
    const user = await findInTenant(this.users, caller.tenantId, id, 'user');
    if (id === caller.userId && (dto.disabled || (dto.role && dto.role !== 'admin'))) {
      throw fail(USERS_ERRORS.CANNOT_DEMOTE_SELF);
    }
    if (dto.teamId !== undefined) await this.assertTeam(caller.tenantId, dto.teamId);
    // null is "not given" (class-validator's IsOptional lets it through), except teamId: null takes the person out of their team
    if (dto.name != null) user.name = dto.name.trim();
    if (dto.email != null) user.email = dto.email;
    if (dto.role != null) user.role = dto.role;
    if (dto.teamId !== undefined) user.teamId = dto.teamId;
    if (dto.disabled != null) user.disabledAt = dto.disabled ? (user.disabledAt ?? new Date()) : null;
    if (dto.password != null) user.passwordHash = await hashPassword(dto.password);
    try {
      const saved = await unlessTaken('users_email_key', () => emailTaken(user.email), () => this.users.save(user));
      this.credentials.forget(id); // a new role or a disabled account applies to the next request
      return toUserDto(saved);
    } catch (e) {
      if (isForeignKeyViolation(e, 'users_team_fk')) throw this.teamNotFound(dto.teamId!); // the team was deleted meanwhile
      throw e;
    }
  }

  /** Users are disabled, never deleted: their tasks and history keep pointing at them. */
  async disable(caller: Principal, id: string): Promise<UserDto> {
    return this.update(caller, id, { disabled: true });
  }

  private async assertTeam(tenantId: string, teamId: string | null | undefined): Promise<void> {
    if (!teamId) return;
    if (!(await this.teams.existsBy({ tenantId, id: teamId }))) throw this.teamNotFound(teamId);
  }

  private teamNotFound(teamId: string) {
    return fail(COMMON_ERRORS.TEAM_NOT_FOUND, `No team with id ${teamId}.`, [{ path: 'teamId', problem: 'no such team' }], 422);
  }
}
