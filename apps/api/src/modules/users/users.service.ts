import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Team, User } from '@sop/db';
import { AppError } from '@sop/domain';
import { Repository } from 'typeorm';
import { type Page, type PageQuery, paginate } from '../../common/pagination';
import { unlessTaken } from '../../common/postgres-errors';
import type { Principal } from '../../common/principal';
import { findInTenant } from '../../common/tenant-scope';
import { emailTaken } from '../auth/auth.service';
import { hashPassword } from '../auth/passwords';
import type { CreateUserDto, UpdateUserDto, UserDto } from './users.dto';

export const toUserDto = (u: User): UserDto => ({
  id: u.id, email: u.email, name: u.name, role: u.role, teamId: u.teamId, disabled: u.disabledAt !== null, createdAt: u.createdAt,
});

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectRepository(Team) private readonly teams: Repository<Team>,
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

  async list(tenantId: string, page: PageQuery, teamId?: string): Promise<Page<UserDto>> {
    const qb = this.users.createQueryBuilder('u').where('u.tenant_id = :tenantId', { tenantId });
    if (teamId) qb.andWhere('u.team_id = :teamId', { teamId });
    const result = await paginate(qb, 'u', page);
    return { ...result, items: result.items.map(toUserDto) };
  }

  async get(tenantId: string, id: string): Promise<UserDto> {
    return toUserDto(await findInTenant(this.users, tenantId, id, 'user'));
  }

  async update(caller: Principal, id: string, dto: UpdateUserDto): Promise<UserDto> {
    const user = await findInTenant(this.users, caller.tenantId, id, 'user');
    if (id === caller.userId && (dto.disabled || (dto.role && dto.role !== 'admin'))) {
      throw new AppError('CANNOT_DEMOTE_SELF', 409, 'You cannot disable yourself or drop your own admin role; ask another admin.');
    }
    if (dto.teamId !== undefined) await this.assertTeam(caller.tenantId, dto.teamId);
    if (dto.name !== undefined) user.name = dto.name.trim();
    if (dto.email !== undefined) user.email = dto.email;
    if (dto.role !== undefined) user.role = dto.role;
    if (dto.teamId !== undefined) user.teamId = dto.teamId;
    if (dto.disabled !== undefined) user.disabledAt = dto.disabled ? (user.disabledAt ?? new Date()) : null;
    if (dto.password !== undefined) user.passwordHash = await hashPassword(dto.password);
    return toUserDto(await unlessTaken('users_email_key', () => emailTaken(user.email), () => this.users.save(user)));
  }

  /** Users are disabled, never deleted: their tasks and history keep pointing at them. */
  async disable(caller: Principal, id: string): Promise<UserDto> {
    return this.update(caller, id, { disabled: true });
  }

  private async assertTeam(tenantId: string, teamId: string | null | undefined): Promise<void> {
    if (!teamId) return;
    if (!(await this.teams.existsBy({ tenantId, id: teamId }))) {
      throw new AppError('TEAM_NOT_FOUND', 422, `No team with id ${teamId}.`, [{ path: 'teamId', problem: 'no such team' }]);
    }
  }
}
