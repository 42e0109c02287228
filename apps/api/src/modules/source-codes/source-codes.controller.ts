import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/openapi';
import type { HttpReply, HttpRequest } from '../../common/http';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import { ContactDto } from '../contacts/contacts.dto';
import { CreateSourceCodeDto, JoinDto, SourceCodeDto, type SourceCodeRecord, UpdateSourceCodeDto } from './source-codes.dto';
import { joinUrl } from './join-page';
import { SourceCodesService } from './source-codes.service';

/** Adds each code's join link, on the origin the caller reached the API at (what a QR code printed from the console opens). */
const withLinks = (req: HttpRequest) => (code: SourceCodeRecord): SourceCodeDto => ({ ...code, joinUrl: joinUrl(req, code.id) });

@ApiTags('source-codes')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Roles('admin', 'ops')
@Controller()
export class SourceCodesController {
  constructor(private readonly codes: SourceCodesService) {}

  @Post('source-codes')
  @ApiOperation({
    summary: 'Create a channel or campaign code carrying tags and an owner',
    description: 'With `wecomContactWay`, a WeCom "contact me" QR code is created for it (the code as state, at most 30 characters: a longer code is a 422 naming `code`); customers who scan it arrive through the code.',
  })
  @ApiCreatedResponse({ type: SourceCodeDto })
  @ApiErrors(['TAG_NOT_FOUND', 422], 'OWNER_NOT_FOUND', 'SOURCE_CODE_TAKEN', ['VALIDATION_FAILED', 422], 'WECOM_CONTACT_WAY_REFUSED', 'WECOM_UNREACHABLE', 'WECOM_SECRETS_UNREADABLE')
  async create(@CurrentPrincipal() p: Principal, @Req() req: HttpRequest, @Body() dto: CreateSourceCodeDto): Promise<SourceCodeDto> {
    return withLinks(req)(await this.codes.create(p.tenantId, dto));
  }

  @Get('source-codes')
  @ApiOkResponse({ type: [SourceCodeDto] })
  async list(@CurrentPrincipal() p: Principal, @Req() req: HttpRequest): Promise<SourceCodeDto[]> {
    return (await this.codes.list(p.tenantId)).map(withLinks(req));
  }

  @Get('source-codes/:id')
  @ApiOkResponse({ type: SourceCodeDto })
  @ApiErrors(['SOURCE_CODE_NOT_FOUND', 404])
  async get(@CurrentPrincipal() p: Principal, @Req() req: HttpRequest, @IdParam() id: string): Promise<SourceCodeDto> {
    return withLinks(req)(await this.codes.get(p.tenantId, id));
  }

  @Patch('source-codes/:id')
  @ApiOkResponse({ type: SourceCodeDto })
  @ApiOperation({ summary: 'Change a code; its WeCom QR code follows (created, changed, or deleted with `wecomContactWay: null`)' })
  @ApiErrors(['SOURCE_CODE_NOT_FOUND', 404], ['TAG_NOT_FOUND', 422], 'OWNER_NOT_FOUND', 'SOURCE_CODE_TAKEN', ['VALIDATION_FAILED', 422], 'WECOM_CONTACT_WAY_REFUSED', 'WECOM_UNREACHABLE', 'WECOM_SECRETS_UNREADABLE')
  async update(@CurrentPrincipal() p: Principal, @Req() req: HttpRequest, @IdParam() id: string, @Body() dto: UpdateSourceCodeDto): Promise<SourceCodeDto> {
    return withLinks(req)(await this.codes.update(p.tenantId, id, dto));
  }

  @Delete('source-codes/:id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted (its WeCom QR code too)' })
  @ApiErrors(['SOURCE_CODE_NOT_FOUND', 404], 'WECOM_CONTACT_WAY_REFUSED', 'WECOM_UNREACHABLE', 'WECOM_SECRETS_UNREADABLE')
  remove(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<void> {
    return this.codes.remove(p.tenantId, id);
  }

  @Post('contacts/join')
  @ApiOperation({ summary: 'A contact arrives through a source code: created or found, tagged, owned (201 new, 200 known; repeatable)' })
  @ApiCreatedResponse({ type: ContactDto, description: 'A new contact' })
  @ApiOkResponse({ type: ContactDto, description: 'A known contact (tagged and owned as the code says)' })
  @ApiErrors(['SOURCE_CODE_NOT_FOUND', 422], 'TAG_CHANGE_INVALID')
  async join(@CurrentPrincipal() p: Principal, @Body() dto: JoinDto, @Res({ passthrough: true }) res: HttpReply): Promise<ContactDto> {
    const { created, contact } = await this.codes.join(p.tenantId, dto);
    res.status(created ? 201 : 200);
    return contact;
  }
}
