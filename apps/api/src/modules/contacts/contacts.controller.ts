import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { AppError } from '@sop/domain';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import { BulkTagChangeDto, TagChangeDto, TagChangeResultDto } from '../tags/tags.dto';
import { TagWriter } from '../tags/tag-writer.service';
import { ContactDto, ContactPageDto, ContactQuery, CreateContactDto, TimelineEntryDto, UpdateContactDto } from './contacts.dto';
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
  ) {}

  @Post()
  @Roles(...DESIGNERS)
  @ApiOperation({ summary: 'Add a customer (409 when the externalId exists)' })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateContactDto): Promise<ContactDto> {
    return this.contacts.create(p, dto);
  }

  @Get()
  @Roles(...DESIGNERS)
  list(@CurrentPrincipal() p: Principal, @Query() query: ContactQuery): Promise<ContactPageDto> {
    return this.contacts.list(p.tenantId, query, query.q);
  }

  @Post('bulk-tags')
  @Roles(...DESIGNERS)
  @HttpCode(200)
  @ApiOperation({ summary: 'Apply and remove tags on many contacts at once (by ids); repeatable' })
  async bulkTags(@CurrentPrincipal() p: Principal, @Body() dto: BulkTagChangeDto): Promise<TagChangeResultDto> {
    if (!dto.contactIds?.length) {
      throw new AppError('VALIDATION_FAILED', 400, 'contactIds: give at least one contact', [{ path: 'contactIds', problem: 'give at least one contact' }]);
    }
    return this.tags.change(p.tenantId, dto.contactIds, dto, actorOf(p));
  }

  @Get(':id')
  @Roles(...DESIGNERS)
  get(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<ContactDto> {
    return this.contacts.get(p.tenantId, id);
  }

  @Patch(':id')
  @Roles(...DESIGNERS)
  update(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: UpdateContactDto): Promise<ContactDto> {
    return this.contacts.update(p.tenantId, id, dto);
  }

  @Delete(':id')
  @Roles(...DESIGNERS)
  @HttpCode(204)
  remove(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<void> {
    return this.contacts.remove(p.tenantId, id);
  }

  @Post(':id/tags')
  @Roles(...DESIGNERS)
  @HttpCode(200)
  @ApiOperation({ summary: 'Apply and remove tags; an exclusive group keeps only the new tag; repeatable' })
  async changeTags(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: TagChangeDto): Promise<ContactDto> {
    const result = await this.tags.change(p.tenantId, [id], dto, actorOf(p));
    if (!result.contacts) await this.contacts.get(p.tenantId, id); // answers 404 for an unknown id
    return this.contacts.get(p.tenantId, id);
  }

  @Get(':id/timeline')
  @Roles(...DESIGNERS)
  @ApiOperation({ summary: 'What happened to this customer, newest first (tag changes; responses and tasks as they arrive)' })
  timeline(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<TimelineEntryDto[]> {
    return this.contacts.timeline(p.tenantId, id);
  }
}
