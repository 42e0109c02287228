import { Injectable } from '@nestjs/common';
import { fail } from '../../common/errors.catalog';
import { unlessTaken } from '../../common/postgres-errors';
import type { Principal } from '../../common/principal';
import type { LoginDto, MeDto, SignupDto, TokenDto } from './auth.dto';
import { AUTH_ERRORS } from './auth.errors';
import { AuthRepository } from './auth.repository';
import { CredentialsService } from './credentials.service';
import { hashPassword, verifyPassword } from './passwords';

export const emailTaken = (email: string) =>
  fail(AUTH_ERRORS.EMAIL_TAKEN, `${email} already has an account.`, [{ path: 'email', problem: 'is already registered' }]);

@Injectable()
export class AuthService {
  constructor(
    private readonly auth: AuthRepository,
    private readonly credentials: CredentialsService,
  ) {}

  /** Creates a tenant and its first admin in one transaction: both or neither. */
  async signup(dto: SignupDto): Promise<TokenDto> {
    const passwordHash = await hashPassword(dto.password);
    const admin = await unlessTaken('users_email_key', () => emailTaken(dto.email), () =>
      this.auth.insertTenantWithAdmin(dto.organization.trim(), { email: dto.email, name: dto.name.trim(), passwordHash }),
    );
    return { accessToken: this.credentials.issueToken(admin) };
  }

  async login(dto: LoginDto): Promise<TokenDto> {
    const user = await this.auth.userForLogin(dto.email);
    if (!(await verifyPassword(user?.passwordHash, dto.password)) || !user) {
      throw fail(AUTH_ERRORS.INVALID_CREDENTIALS);
    }
    return { accessToken: this.credentials.issueToken(user) };
  }

  async me(principal: Principal): Promise<MeDto> {
    const tenant = await this.auth.tenant(principal.tenantId);
    const user = principal.userId ? await this.auth.user(principal.tenantId, principal.userId) : null;
    return {
      ...principal,
      name: user?.name ?? null,
      email: user?.email ?? null,
      organization: tenant.name,
    };
  }
}
