import { Injectable } from '@nestjs/common';
import type { User } from '@sop/db';
import { COMMON_ERRORS, fail, notFound } from '../../common/errors.catalog';
import type { Page, PageQuery } from '../../common/pagination';
import { isForeignKeyViolation, unlessTaken } from '../../common/postgres-errors';
import type { Principal } from '../../common/principal';
import { emailTaken } from '../auth/auth.service';
import { CredentialsService } from '../auth/credentials.service';
import { hashPassword } from '../auth/passwords';
import type { CreateUserDto, UpdateUserDto, UserDto, UserListQuery } from './users.dto';
import { USERS_ERRORS } from './users.errors';
import { type UserChanges, UsersRepository } from './users.repository';

export const toUserDto = (u: User): UserDto => ({
  id: u.id, email: u.email, name: u.name, role: u.role, teamId: u.teamId, disabled: u.disabledAt !== null, createdAt: u.createdAt,
});

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly credentials: CredentialsService,
  ) {}

  async create(tenantId: string, dto: CreateUserDto): Promise<UserDto> {
    await this.assertTeam(tenantId, dto.teamId);
    const passwordHash = await hashPassword(dto.password);
    const user = await unlessTaken('users_email_key', () => emailTaken(dto.email), () =>
      this.users.insert(tenantId, { email: dto.email, name: dto.name.trim(), role: dto.role, teamId: dto.teamId ?? null, passwordHash }),
    );
    return toUserDto(user);
  }

  async list(tenantId: string, page: PageQuery, filter: Omit<UserListQuery, keyof PageQuery> = {}): Promise<Page<UserDto>> {
    const result = await this.users.page(tenantId, page, filter);
    return { ...result, items: result.items.map(toUserDto) };
  }

  async get(tenantId: string, id: string): Promise<UserDto> {
    return toUserDto(await this.find(tenantId, id));
  }

  async update(caller: Principal, id: string, dto: UpdateUserDto): Promise<UserDto> {
    const user = await this.find(caller.tenantId, id);
    if (id === caller.userId && (dto.disabled || (dto.role && dto.role !== 'admin'))) {
      throw fail(USERS_ERRORS.CANNOT_DEMOTE_SELF);
    }
    if (dto.teamId !== undefined) await this.assertTeam(caller.tenantId, dto.teamId);
    // null is "not given" (class-validator's IsOptional lets it through), except teamId: null takes the person out of their team
    const changes: UserChanges = {};
    if (dto.name != null) changes.name = dto.name.trim();
    if (dto.email != null) changes.email = dto.email;
    if (dto.role != null) changes.role = dto.role;
    if (dto.teamId !== undefined) changes.teamId = dto.teamId;
    if (dto.disabled != null) changes.disabled = dto.disabled;
    if (dto.password != null) changes.passwordHash = await hashPassword(dto.password);
    try {
      const saved = await unlessTaken('users_email_key', () => emailTaken(dto.email ?? user.email), () => this.users.patch(caller.tenantId, id, changes));
      this.credentials.forget(id); // a new role or a disabled account applies to the next request
      if (!saved) throw notFound('user', id);
      return toUserDto(saved);
    } catch (e) {
      if (isForeignKeyViolation(e, 'users_team_fk')) throw this.teamNotFound(dto.teamId!); // the team given was deleted meanwhile
      throw e;
    }
  }

  /** Users are disabled, never deleted: their tasks and history keep pointing at them. */
  async disable(caller: Principal, id: string): Promise<UserDto> {
    return this.update(caller, id, { disabled: true });
  }

  private async assertTeam(tenantId: string, teamId: string | null | undefined): Promise<void> {
    if (!teamId) return;
    if (!(await this.users.teamExists(tenantId, teamId))) throw this.teamNotFound(teamId);
  }

  /** The caller's user or 404: another tenant's id is indistinguishable from one that does not exist. */
  private async find(tenantId: string, id: string): Promise<User> {
    const user = await this.users.find(tenantId, id);
    if (!user) throw notFound('user', id);
    return user;
  }

  private teamNotFound(teamId: string) {
    return fail(COMMON_ERRORS.TEAM_NOT_FOUND, `No team with id ${teamId}.`, [{ path: 'teamId', problem: 'no such team' }], 422);
  }
}
