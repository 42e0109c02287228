import { ApiProperty } from '@nestjs/swagger';
import { ApiUuid } from '../../common/openapi';
import { ROLES, type Role } from '@sop/domain';
import { IsIn, IsString, MaxLength, MinLength } from 'class-validator';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'CRM order sync' }) @IsString() @MinLength(1) @MaxLength(200)
  name: string;

  @ApiProperty({ enum: ROLES, description: 'The role the key acts with' }) @IsIn(ROLES)
  role: Role;
}

export class ApiKeyDto {
  @ApiUuid() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ROLES }) role: Role;
  @ApiProperty({ description: 'Non-secret start of the key, to tell keys apart' }) prefix: string;
  @ApiProperty() createdAt: Date;
  @ApiProperty({ nullable: true, type: Date }) lastUsedAt: Date | null;
  @ApiProperty({ nullable: true, type: Date }) revokedAt: Date | null;
  @ApiProperty({
    nullable: true, type: String, pattern: '^[A-Za-z0-9]{1,8}$',
    description: 'Id of the server key (EVENT_SIGNING_KEYS) the events signing secret derives from; null: EVENT_SIGNING_SECRET. Rotate keys still on an old one.',
  })
  signingKeyId: string | null;
  @ApiProperty({ description: 'The signing secret derives from the current server key; false: rotate it before the old server key is retired.' })
  signingKeyCurrent: boolean;
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({ description: 'The full key. Shown this once: store it now; send it as the X-Api-Key header.' })
  key: string;

  @ApiProperty({ description: 'Signs requests to POST /api/events (X-Sop-Signature, see docs/responses.md). Shown this once: store it with the key.' })
  signingSecret: string;
}

export class RotatedSigningSecretDto extends ApiKeyDto {
  @ApiProperty({ description: 'The new secret that signs requests to POST /api/events; the previous one stops working now. Shown this once.' })
  signingSecret: string;
}

export class ApiKeyPageDto {
  @ApiProperty({ type: [ApiKeyDto] }) items: ApiKeyDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
