import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { Tenant, User } from '@sop/db';
import { DataSource, IsNull, Repository } from 'typeorm';
import { fail } from '../../common/errors.catalog';
import { unlessTaken } from '../../common/postgres-errors';
import type { Principal } from '../../common/principal';
import type { LoginDto, MeDto, SignupDto, TokenDto } from './auth.dto';
import { AUTH_ERRORS } from './auth.errors';
import { CredentialsService } from './credentials.service';
import { hashPassword, verifyPassword } from './passwords';

export const emailTaken = (email: string) =>
  fail(AUTH_ERRORS.EMAIL_TAKEN, `${email} already has an account.`, [{ path: 'email', problem: 'is already registered' }]);

@Injectable()
export class AuthService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectRepository(Tenant) private readonly tenants: Repository<Tenant>,
    private readonly credentials: CredentialsService,
  ) {}

  /** Creates a tenant and its first admin in one transaction: both or neither. */
  async signup(dto: SignupDto): Promise<TokenDto> {
    const passwordHash = await hashPassword(dto.password);
    const admin = await unlessTaken('users_email_key', () => emailTaken(dto.email), () =>
      this.db.transaction(async (tx) => {
        const tenant = await tx.save(Tenant, tx.create(Tenant, { name: dto.organization.trim() }));
        return tx.save(User, tx.create(User, {
          tenantId: tenant.id, email: dto.email, name: dto.name.trim(), role: 'admin', passwordHash,
        }));
      }),
    );
    return { accessToken: this.credentials.issueToken(admin) };
  }

  async login(dto: LoginDto): Promise<TokenDto> {
    const user = await this.users.findOne({
      where: { email: dto.email, disabledAt: IsNull() },
      select: { id: true, tenantId: true, role: true, passwordHash: true },
    });
    if (!(await verifyPassword(user?.passwordHash, dto.password)) || !user) {
      throw fail(AUTH_ERRORS.INVALID_CREDENTIALS);
    }
    return { accessToken: this.credentials.issueToken(user) };
  }

  async me(principal: Principal): Promise<MeDto> {
    const tenant = await this.tenants.findOneByOrFail({ id: principal.tenantId });
    const user = principal.userId ? await this.users.findOneBy({ id: principal.userId, tenantId: principal.tenantId }) : null;
    return {
      ...principal,
      name: user?.name ?? null,
      email: user?.email ?? null,
      organization: tenant.name,
    };
  }
}
