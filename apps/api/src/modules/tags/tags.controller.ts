import { Body, Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/openapi';
import { ANY_ROLE, CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import { CreateTagDto, CreateTagGroupDto, TagDto, TagGroupDto, UpdateTagDto, UpdateTagGroupDto } from './tags.dto';
import { TagsService } from './tags.service';

const DESIGNERS = ['admin', 'ops'] as const;

@ApiTags('tags')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller()
export class TagsController {
  constructor(private readonly tags: TagsService) {}

  @Get('tag-groups')
  @Roles(...ANY_ROLE)
  @ApiOperation({ summary: 'The tag system: every group with its tags' })
  @ApiOkResponse({ type: [TagGroupDto] })
  list(@CurrentPrincipal() p: Principal): Promise<TagGroupDto[]> {
    return this.tags.listGroups(p.tenantId);
  }

  @Post('tag-groups')
  @Roles(...DESIGNERS)
  @ApiCreatedResponse({ type: TagGroupDto })
  @ApiErrors('TAG_GROUP_NAME_TAKEN')
  createGroup(@CurrentPrincipal() p: Principal, @Body() dto: CreateTagGroupDto): Promise<TagGroupDto> {
    return this.tags.createGroup(p.tenantId, dto);
  }

  @Patch('tag-groups/:id')
  @Roles(...DESIGNERS)
  @ApiOperation({ summary: 'Rename, or make exclusive (refused while contacts hold several of its tags)' })
  @ApiOkResponse({ type: TagGroupDto })
  @ApiErrors(['TAG_GROUP_NOT_FOUND', 404], 'GROUP_NOT_EXCLUSIVE', 'TAG_GROUP_NAME_TAKEN')
  updateGroup(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: UpdateTagGroupDto): Promise<TagGroupDto> {
    return this.tags.updateGroup(p.tenantId, id, dto);
  }

  @Delete('tag-groups/:id')
  @Roles(...DESIGNERS)
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a group and its tags; refused (409, with the users) while a segment uses one' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(['TAG_GROUP_NOT_FOUND', 404], 'TAG_IN_USE')
  deleteGroup(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<void> {
    return this.tags.deleteGroup(p.tenantId, id);
  }

  @Post('tags')
  @Roles(...DESIGNERS)
  @ApiCreatedResponse({ type: TagDto })
  @ApiErrors(['TAG_GROUP_NOT_FOUND', 422], 'TAG_NAME_TAKEN')
  createTag(@CurrentPrincipal() p: Principal, @Body() dto: CreateTagDto): Promise<TagDto> {
    return this.tags.createTag(p.tenantId, dto);
  }

  @Patch('tags/:id')
  @Roles(...DESIGNERS)
  @ApiOkResponse({ type: TagDto })
  @ApiErrors(['TAG_NOT_FOUND', 404], 'TAG_NAME_TAKEN')
  updateTag(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: UpdateTagDto): Promise<TagDto> {
    return this.tags.updateTag(p.tenantId, id, dto);
  }

  @Delete('tags/:id')
  @Roles(...DESIGNERS)
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a tag and remove it from every contact; refused (409, with the users) while a segment uses it' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(['TAG_NOT_FOUND', 404], 'TAG_IN_USE')
  deleteTag(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<void> {
    return this.tags.deleteTag(p.tenantId, id);
  }
}
