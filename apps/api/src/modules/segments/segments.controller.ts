import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { HttpReply } from '../../common/http';
import { ApiErrors, ApiTextResponse } from '../../common/openapi';
import { PageQuery } from '../../common/pagination';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import { CreateSegmentDto, IsMemberDto, MemberPageDto, PreviewDto, PreviewSegmentDto, SegmentDto, UpdateSegmentDto } from './segments.dto';
import { SegmentsService } from './segments.service';

@ApiTags('segments')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Roles('admin', 'ops')
@Controller('segments')
export class SegmentsController {
  constructor(private readonly segments: SegmentsService) {}

  @Post('preview')
  @HttpCode(200)
  @ApiOperation({ summary: 'How many contacts a rule reaches now, and a first page of them (nothing is saved)' })
  @ApiOkResponse({ type: PreviewDto })
  @ApiErrors('SEGMENT_TOO_EXPENSIVE')
  preview(@CurrentPrincipal() p: Principal, @Body() dto: PreviewSegmentDto): Promise<PreviewDto> {
    return this.segments.preview(p.tenantId, dto.rule);
  }

  @Post()
  @ApiCreatedResponse({ type: SegmentDto })
  @ApiErrors('SEGMENT_NAME_TAKEN', 'SEGMENT_TOO_EXPENSIVE')
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateSegmentDto): Promise<SegmentDto> {
    return this.segments.create(p, dto);
  }

  @Get()
  @ApiOkResponse({ type: [SegmentDto] })
  list(@CurrentPrincipal() p: Principal): Promise<SegmentDto[]> {
    return this.segments.list(p.tenantId);
  }

  @Get(':id')
  @ApiOkResponse({ type: SegmentDto })
  @ApiErrors('SEGMENT_NOT_FOUND')
  get(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<SegmentDto> {
    return this.segments.get(p.tenantId, id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: SegmentDto })
  @ApiErrors('SEGMENT_NOT_FOUND', 'SEGMENT_NAME_TAKEN', 'SEGMENT_TOO_EXPENSIVE')
  update(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: UpdateSegmentDto): Promise<SegmentDto> {
    return this.segments.update(p.tenantId, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors('SEGMENT_NOT_FOUND', 'SEGMENT_IN_USE')
  remove(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<void> {
    return this.segments.remove(p.tenantId, id);
  }

  @Get(':id/members')
  @ApiOperation({ summary: 'Current members, by contact id (keyset pages: pass nextCursor as cursor)' })
  @ApiOkResponse({ type: MemberPageDto })
  @ApiErrors('SEGMENT_NOT_FOUND', 'SEGMENT_TOO_EXPENSIVE')
  members(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Query() page: PageQuery): Promise<MemberPageDto> {
    return this.segments.members(p.tenantId, id, page.limit, page.cursor);
  }

  @Get(':id/members/:contactId')
  @ApiOperation({ summary: 'Whether one contact is a member now' })
  @ApiOkResponse({ type: IsMemberDto })
  @ApiErrors('SEGMENT_NOT_FOUND', ['CONTACT_NOT_FOUND', 404])
  async isMember(@CurrentPrincipal() p: Principal, @IdParam() id: string, @IdParam('contactId') contactId: string): Promise<IsMemberDto> {
    return { member: await this.segments.isMember(p.tenantId, id, contactId) };
  }

  @Get(':id/export.csv')
  @ApiOperation({
    summary: 'Every member as CSV, streamed',
    description: 'Columns id, external_id, name, phone, email, owner_id, from one snapshot. UTF-8 with a byte-order mark (Excel); ' +
      "a cell starting with =, +, -, @, tab or CR that is not a number gets a leading ' so spreadsheets do not run it.",
  })
  @ApiTextResponse('text/csv', 'The members, one per row, after a header row; downloaded as segment-<id>.csv')
  @ApiErrors('SEGMENT_NOT_FOUND')
  async export(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Res() res: HttpReply): Promise<void> {
    const compiled = await this.segments.compileSaved(p.tenantId, id); // 404 before any byte is sent
    // streamed by COPY straight to the socket: Fastify steps aside (an error after the first byte cuts the connection)
    res.hijack();
    res.raw.setHeader('content-type', 'text/csv; charset=utf-8');
    res.raw.setHeader('content-disposition', `attachment; filename="segment-${id}.csv"`);
    await this.segments.exportCsv(compiled, res.raw);
  }
}
