import { Body, Controller, Delete, Get, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/openapi';
import { PageQuery } from '../../common/pagination';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import { ApiKeyDto, ApiKeyPageDto, CreateApiKeyDto, CreatedApiKeyDto, RotatedSigningSecretDto } from './api-keys.dto';
import { ApiKeysService } from './api-keys.service';

@ApiTags('api-keys')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Roles('admin')
@Controller('api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiOperation({ summary: 'Create an API key for server-to-server calls; the key is shown only in this answer' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    return this.keys.create(p, dto);
  }

  @Get()
  @ApiOkResponse({ type: ApiKeyPageDto })
  list(@CurrentPrincipal() p: Principal, @Query() page: PageQuery): Promise<ApiKeyPageDto> {
    return this.keys.list(p.tenantId, page);
  }

  @Post(':id/signing-secret')
  @ApiOperation({
    summary: "Rotate the key's events signing secret",
    description: 'Draws a new signing secret under the current server key (EVENT_SIGNING_KEYS) and shows it once; the previous secret stops verifying at once. Each call draws a new one: sign with the one in the last answer.',
  })
  @ApiCreatedResponse({ type: RotatedSigningSecretDto })
  @ApiErrors('API_KEY_NOT_FOUND', 'API_KEY_REVOKED')
  rotateSigningSecret(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<RotatedSigningSecretDto> {
    return this.keys.rotateSigningSecret(p.tenantId, id);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Revoke a key at once (repeatable)' })
  @ApiOkResponse({ type: ApiKeyDto })
  @ApiErrors('API_KEY_NOT_FOUND')
  revoke(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<ApiKeyDto> {
    return this.keys.revoke(p.tenantId, id);
  }
}
