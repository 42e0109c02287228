import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { ApiKey } from '@sop/db';
import { Repository } from 'typeorm';
import { type Page, type PageQuery, paginate } from '../../common/pagination';
import type { SigningKeyRef } from './event-signing';

/**
 * The organization's `api_keys` as admins manage them and events are signed with: the API's one home for that SQL
 * (a request's key is read by `auth.repository.ts`). Every statement is keyed by the caller's organization.
 */
@Injectable()
export class ApiKeysRepository {
  constructor(@InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>) {}

  insert(tenantId: string, k: Pick<ApiKey, 'name' | 'role' | 'prefix' | 'secretHash' | 'createdBy' | 'signingKeyId' | 'signingNonce'>): Promise<ApiKey> {
    return this.keys.save(this.keys.create({ tenantId, ...k }));
  }

  find(tenantId: string, id: string): Promise<ApiKey | null> {
    return this.keys.findOneBy({ tenantId, id });
  }

  /** Only what the key's events signature needs; null when the organization has no such key. */
  signingRef(tenantId: string, id: string): Promise<SigningKeyRef | null> {
    return this.keys.findOne({ where: { tenantId, id }, select: { id: true, signingKeyId: true, signingNonce: true } });
  }

  /** A keyset page of the keys, oldest first (revoked ones too). */
  page(tenantId: string, page: PageQuery): Promise<Page<ApiKey>> {
    return paginate(this.keys.createQueryBuilder('k').where('k.tenant_id = :tenantId', { tenantId }), 'k', page);
  }

  update(tenantId: string, id: string, fields: Partial<Pick<ApiKey, 'signingKeyId' | 'signingNonce' | 'revokedAt'>>): Promise<unknown> {
    return this.keys.update({ tenantId, id }, fields);
  }
}
