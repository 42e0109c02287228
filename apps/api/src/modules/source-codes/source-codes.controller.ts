import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/openapi';
import type { HttpReply, HttpRequest } from '../../common/http';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import { ContactDto } from '../contacts/contacts.dto';
import { ClearLeftoverQueryDto, CreateSourceCodeDto, JoinDto, SourceCodeDto, type SourceCodeRecord, UpdateSourceCodeDto } from './source-codes.dto';
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
  @ApiOperation({
    summary: 'Delete a code; its WeCom QR code and leftovers are deleted in WeCom first',
    description: 'WeCom failing for any of them answers the error and deletes nothing (a deleted code would have nowhere to show what is left in WeCom).',
  })
  @ApiNoContentResponse({ description: 'Deleted (its WeCom QR code too)' })
  @ApiErrors(['SOURCE_CODE_NOT_FOUND', 404], 'WECOM_CONTACT_WAY_REFUSED', 'WECOM_UNREACHABLE', 'WECOM_SECRETS_UNREADABLE')
  remove(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<void> {
    return this.codes.remove(p.tenantId, id);
  }

  @Get('source-codes/:id/wecom-qr')
  @ApiOperation({
    summary: 'Download the code\'s WeCom QR image',
    description: 'The image WeCom hosts (another origin, which a browser may open rather than save), read by the API (at most 2 MB, 10 s) and ' +
      'answered as an attachment named after the code (`<code>-wecom.png`).',
  })
  @ApiOkResponse({ description: 'The QR image, Content-Disposition: attachment', content: { 'image/png': { schema: { type: 'string', format: 'binary' } }, 'image/jpeg': { schema: { type: 'string', format: 'binary' } } } })
  @ApiErrors(['SOURCE_CODE_NOT_FOUND', 404], 'WECOM_QR_NOT_FOUND', 'WECOM_QR_UNAVAILABLE')
  async wecomQr(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Res() res: HttpReply): Promise<void> {
    const image = await this.codes.wecomQrImage(p.tenantId, id);
    await res.type(image.contentType).header('content-disposition', `attachment; filename="${image.filename}"`)
      .header('cache-control', 'private, no-store').header('x-content-type-options', 'nosniff').send(image.bytes);
  }

  @Delete('source-codes/:id/wecom-leftover')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete the code\'s leftover WeCom "contact me" configurations in WeCom now, or forget them (`forget=true`)',
    description: 'Idempotent: a code without leftovers answers 204. Configurations WeCom no longer knows count as deleted. Those still failing ' +
      'stay (with the new error) and the error is the answer: 503 WECOM_UNREACHABLE, or 422 WECOM_CONTACT_WAY_REFUSED at `wecomLeftover` ' +
      '(WeCom\'s errcode, or the organization not connected to the corporation that holds them: forget them then).',
  })
  @ApiNoContentResponse({ description: 'No leftover remains' })
  @ApiErrors(['SOURCE_CODE_NOT_FOUND', 404], ['VALIDATION_FAILED', 400], 'WECOM_CONTACT_WAY_REFUSED', 'WECOM_UNREACHABLE', 'WECOM_SECRETS_UNREADABLE')
  clearLeftover(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Query() q: ClearLeftoverQueryDto): Promise<void> {
    return this.codes.clearLeftover(p.tenantId, id, q.forget === 'true');
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
