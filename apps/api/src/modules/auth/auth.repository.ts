import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { ApiKey, Tenant, User } from '@sop/db';
import { DataSource, IsNull, Repository } from 'typeorm';

/**
 * What signing up, logging in and authenticating read and write: the `tenants` row and its `users` by email or id,
 * and `api_keys` by prefix, the API's one home for that SQL. Signup and login come before any organization is
 * known, so they read by email; everything after is keyed by the caller's organization (an API key names its own).
 */
@Injectable()
export class AuthRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectRepository(Tenant) private readonly tenants: Repository<Tenant>,
    @InjectRepository(ApiKey) private readonly apiKeys: Repository<ApiKey>,
  ) {}

  /** Creates an organization and its first admin in one transaction: both or neither (a taken email fails on users_email_key). */
  insertTenantWithAdmin(organization: string, admin: Pick<User, 'email' | 'name' | 'passwordHash'>): Promise<User> {
    return this.db.transaction(async (tx) => {
      const tenant = await tx.save(Tenant, tx.create(Tenant, { name: organization }));
      return tx.save(User, tx.create(User, {
        tenantId: tenant.id, email: admin.email, name: admin.name, role: 'admin', passwordHash: admin.passwordHash,
      }));
    });
  }

  /** The enabled user with this email, with the password hash (the one read that selects it). */
  userForLogin(email: string): Promise<User | null> {
    return this.users.findOne({
      where: { email, disabledAt: IsNull() },
      select: { id: true, tenantId: true, role: true, passwordHash: true },
    });
  }

  tenant(tenantId: string): Promise<Tenant> {
    return this.tenants.findOneByOrFail({ id: tenantId });
  }

  user(tenantId: string, userId: string): Promise<User | null> {
    return this.users.findOneBy({ id: userId, tenantId });
  }

  /**
   * The user's role when the user exists and is enabled. Plain SQL: this runs on most requests, and the query
   * builder cost more than the query.
   */
  async activeUserRole(tenantId: string, userId: string): Promise<string | undefined> {
    const [user]: Array<{ role: string }> = await this.users.query(`SELECT role FROM users WHERE id = $1 AND tenant_id = $2 AND disabled_at IS NULL`, [userId, tenantId]);
    return user?.role;
  }

  /** The key with this prefix, unless revoked, with its secret's hash. */
  apiKeyByPrefix(prefix: string): Promise<ApiKey | null> {
    return this.apiKeys.findOne({
      where: { prefix, revokedAt: IsNull() },
      select: { id: true, tenantId: true, role: true, secretHash: true, lastUsedAt: true },
    });
  }

  async touchApiKey(id: string): Promise<void> {
    await this.apiKeys.update({ id }, { lastUsedAt: new Date() });
  }
}
