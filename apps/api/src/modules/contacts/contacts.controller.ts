import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/openapi';
import { COMMON_ERRORS, fail } from '../../common/errors.catalog';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import { BulkTagChangeDto, TagChangeDto, TagChangeResultDto } from '../tags/tags.dto';
import { TagWriter } from '../tags/tag-writer.service';
import { ContactDto, ContactPageDto, ContactQuery, CreateContactDto, TimelineEntryDto, UpdateContactDto } from './contacts.dto';
import { SegmentsService } from '../segments/segments.service';
import { actorOf, ContactsService } from './contacts.service';

const DESIGNERS = ['admin', 'ops'] as const;

@ApiTags('contacts')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('contacts')
export class ContactsController {
  constructor(
    private readonly contacts: ContactsService,
    private readonly tags: TagWriter,
    private readonly segments: SegmentsService,
  ) {}

  @Post()
  @Roles(...DESIGNERS)
  @ApiOperation({ summary: 'Add a customer (409 when the externalId exists)' })
  @ApiCreatedResponse({ type: ContactDto })
  @ApiErrors('OWNER_NOT_FOUND', 'CONTACT_EXISTS', 'TAG_CHANGE_INVALID')
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateContactDto): Promise<ContactDto> {
    return this.contacts.create(p, dto);
  }

  @Get()
  @Roles(...DESIGNERS)
  @ApiOkResponse({ type: ContactPageDto })
  list(@CurrentPrincipal() p: Principal, @Query() query: ContactQuery): Promise<ContactPageDto> {
    return this.contacts.list(p.tenantId, query, query);
  }

  @Post('bulk-tags')
  @Roles(...DESIGNERS)
  @HttpCode(200)
  @ApiOperation({ summary: 'Apply and remove tags on many contacts at once, by ids or every member of a segment; repeatable' })
  @ApiOkResponse({ type: TagChangeResultDto })
  @ApiErrors('TAG_CHANGE_INVALID', 'SEGMENT_NOT_FOUND')
  async bulkTags(@CurrentPrincipal() p: Principal, @Body() dto: BulkTagChangeDto): Promise<TagChangeResultDto> {
    if (!dto.contactIds?.length === !dto.segmentId) {
      const problem = 'give either contactIds or segmentId';
      throw fail(COMMON_ERRORS.VALIDATION_FAILED, problem, [{ path: 'contactIds', problem }, { path: 'segmentId', problem }], 400);
    }
    if (dto.contactIds?.length) return this.tags.change(p.tenantId, dto.contactIds, dto, actorOf(p));
    // Membership is read before any change, page by page; each page is its own transaction, and a
    // retry after a failure finishes the job without doubling anything (the change is idempotent).
    const pages: string[][] = [];
    for await (const ids of this.segments.memberIds(p.tenantId, dto.segmentId!)) pages.push(ids);
    const total = { contacts: 0, added: 0, removed: 0 };
    for (const ids of pages) {
      const r = await this.tags.change(p.tenantId, ids, dto, actorOf(p));
      total.contacts += r.contacts;
      total.added += r.added;
      total.removed += r.removed;
    }
    return total;
  }

  @Get(':id')
  @Roles(...DESIGNERS)
  @ApiOkResponse({ type: ContactDto })
  @ApiErrors(['CONTACT_NOT_FOUND', 404])
  get(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<ContactDto> {
    return this.contacts.get(p.tenantId, id);
  }

  @Patch(':id')
  @Roles(...DESIGNERS)
  @ApiOkResponse({ type: ContactDto })
  @ApiErrors(['CONTACT_NOT_FOUND', 404], 'OWNER_NOT_FOUND', 'CONTACT_EXISTS')
  update(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: UpdateContactDto): Promise<ContactDto> {
    return this.contacts.update(p.tenantId, id, dto);
  }

  @Delete(':id')
  @Roles(...DESIGNERS)
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(['CONTACT_NOT_FOUND', 404])
  remove(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<void> {
    return this.contacts.remove(p.tenantId, id);
  }

  @Post(':id/tags')
  @Roles(...DESIGNERS)
  @HttpCode(200)
  @ApiOperation({ summary: 'Apply and remove tags; an exclusive group keeps only the new tag; repeatable' })
  @ApiOkResponse({ type: ContactDto })
  @ApiErrors(['CONTACT_NOT_FOUND', 404], 'TAG_CHANGE_INVALID')
  async changeTags(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: TagChangeDto): Promise<ContactDto> {
    await this.tags.change(p.tenantId, [id], dto, actorOf(p)); // touches no row of an unknown or foreign id
    return this.contacts.get(p.tenantId, id); // …which then answers 404
  }

  @Get(':id/timeline')
  @Roles(...DESIGNERS)
  @ApiOperation({ summary: 'What happened to this customer, newest first: tag changes and responses' })
  @ApiOkResponse({ type: [TimelineEntryDto] })
  @ApiErrors(['CONTACT_NOT_FOUND', 404])
  timeline(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<TimelineEntryDto[]> {
    return this.contacts.timeline(p.tenantId, id);
  }
}
