import { Body, Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
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
  list(@CurrentPrincipal() p: Principal): Promise<TagGroupDto[]> {
    return this.tags.listGroups(p.tenantId);
  }

  @Post('tag-groups')
  @Roles(...DESIGNERS)
  createGroup(@CurrentPrincipal() p: Principal, @Body() dto: CreateTagGroupDto): Promise<TagGroupDto> {
    return this.tags.createGroup(p.tenantId, dto);
  }

  @Patch('tag-groups/:id')
  @Roles(...DESIGNERS)
  @ApiOperation({ summary: 'Rename, or make exclusive (refused while contacts hold several of its tags)' })
  updateGroup(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: UpdateTagGroupDto): Promise<TagGroupDto> {
    return this.tags.updateGroup(p.tenantId, id, dto);
  }

  @Delete('tag-groups/:id')
  @Roles(...DESIGNERS)
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a group and its tags; refused (409, with the users) while a segment uses one' })
  deleteGroup(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<void> {
    return this.tags.deleteGroup(p.tenantId, id);
  }

  @Post('tags')
  @Roles(...DESIGNERS)
  createTag(@CurrentPrincipal() p: Principal, @Body() dto: CreateTagDto): Promise<TagDto> {
    return this.tags.createTag(p.tenantId, dto);
  }

  @Patch('tags/:id')
  @Roles(...DESIGNERS)
  updateTag(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: UpdateTagDto): Promise<TagDto> {
    return this.tags.updateTag(p.tenantId, id, dto);
  }

  @Delete('tags/:id')
  @Roles(...DESIGNERS)
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a tag and remove it from every contact; refused (409, with the users) while a segment uses it' })
  deleteTag(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<void> {
    return this.tags.deleteTag(p.tenantId, id);
  }
}
