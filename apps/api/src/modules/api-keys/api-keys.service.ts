import { Injectable } from '@nestjs/common';
import type { ApiKey } from '@sop/db';
import type { Page, PageQuery } from '../../common/pagination';
import type { Principal } from '../../common/principal';
import { generateApiKey } from './api-key-secret';
import { randomBytes } from 'node:crypto';
import { COMMON_ERRORS, fail, notFound } from '../../common/errors.catalog';
import type { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto, RotatedSigningSecretDto } from './api-keys.dto';
import { API_KEYS_ERRORS } from './api-keys.errors';
import { ApiKeysRepository } from './api-keys.repository';
import { EventSigning, type SigningKeyRef } from './event-signing';


@Injectable()
export class ApiKeysService {
  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly signing: EventSigning,
  ) {}

  private toDto(k: ApiKey): ApiKeyDto {
    return {
      id: k.id, name: k.name, role: k.role, prefix: k.prefix, createdAt: k.createdAt, lastUsedAt: k.lastUsedAt, revokedAt: k.revokedAt,
      signingKeyId: k.signingKeyId, signingKeyCurrent: k.signingKeyId === this.signing.currentKeyId,
    };
  }

  async create(caller: Principal, dto: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    const { key, prefix, secretHash } = generateApiKey();
    const row = await this.keys.insert(caller.tenantId, {
      name: dto.name.trim(), role: dto.role, prefix, secretHash, createdBy: caller.userId,
      signingKeyId: this.signing.currentKeyId, signingNonce: null,
    });
    return { ...this.toDto(row), key, signingSecret: this.signing.secretFor(row) };
  }

  /**
   * A new events signing secret under the current server key, shown once; the old one stops at once. Each
   * call draws a new one (a retry whose answer was lost leaves only the newest secret working, which is the
   * one the caller sees).
   */
  async rotateSigningSecret(tenantId: string, id: string): Promise<RotatedSigningSecretDto> {
    const key = await this.find(tenantId, id);
    if (key.revokedAt) throw fail(API_KEYS_ERRORS.API_KEY_REVOKED);
    const rotated = { signingKeyId: this.signing.currentKeyId, signingNonce: randomBytes(16).toString('base64url') };
    await this.keys.update(tenantId, id, rotated);
    Object.assign(key, rotated);
    return { ...this.toDto(key), signingSecret: this.signing.secretFor(key) };
  }

  /** The key as its events signature needs it (the caller's own key: tenant and id come from its credential). */
  async signingRef(tenantId: string, id: string): Promise<SigningKeyRef> {
    const key = await this.keys.signingRef(tenantId, id);
    if (!key) throw fail(COMMON_ERRORS.API_KEY_NOT_FOUND);
    return key;
  }

  async list(tenantId: string, page: PageQuery): Promise<Page<ApiKeyDto>> {
    const result = await this.keys.page(tenantId, page);
    return { ...result, items: result.items.map((k) => this.toDto(k)) };
  }

  /** Revoking twice keeps the first revocation time. */
  async revoke(tenantId: string, id: string): Promise<ApiKeyDto> {
    const key = await this.find(tenantId, id);
    if (!key.revokedAt) {
      key.revokedAt = new Date();
      await this.keys.update(tenantId, id, { revokedAt: key.revokedAt });
    }
    return this.toDto(key);
  }

  /** The caller's key or 404: another tenant's id is indistinguishable from one that does not exist. */
  private async find(tenantId: string, id: string): Promise<ApiKey> {
    const key = await this.keys.find(tenantId, id);
    if (!key) throw notFound('API key', id);
    return key;
  }
}
