import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { ApiKey } from '@sop/db';
import { Repository } from 'typeorm';
import { type Page, type PageQuery, paginate } from '../../common/pagination';
import type { Principal } from '../../common/principal';
import { findInTenant } from '../../common/tenant-scope';
import { generateApiKey } from './api-key-secret';
import type { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto } from './api-keys.dto';
import { EventSigning } from './event-signing';

const toDto = (k: ApiKey): ApiKeyDto => ({
  id: k.id, name: k.name, role: k.role, prefix: k.prefix, createdAt: k.createdAt, lastUsedAt: k.lastUsedAt, revokedAt: k.revokedAt,
});

@Injectable()
export class ApiKeysService {
  constructor(
    @InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>,
    private readonly signing: EventSigning,
  ) {}

  async create(caller: Principal, dto: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    const { key, prefix, secretHash } = generateApiKey();
    const row = await this.keys.save(this.keys.create({
      tenantId: caller.tenantId, name: dto.name.trim(), role: dto.role, prefix, secretHash, createdBy: caller.userId,
    }));
    return { ...toDto(row), key, signingSecret: this.signing.secretFor(row.id) };
  }

  async list(tenantId: string, page: PageQuery): Promise<Page<ApiKeyDto>> {
    const result = await paginate(this.keys.createQueryBuilder('k').where('k.tenant_id = :tenantId', { tenantId }), 'k', page);
    return { ...result, items: result.items.map(toDto) };
  }

  /** Revoking twice keeps the first revocation time. */
  async revoke(tenantId: string, id: string): Promise<ApiKeyDto> {
    const key = await findInTenant(this.keys, tenantId, id, 'API key');
    if (!key.revokedAt) {
      key.revokedAt = new Date();
      await this.keys.update({ tenantId, id }, { revokedAt: key.revokedAt });
    }
    return toDto(key);
  }
}
