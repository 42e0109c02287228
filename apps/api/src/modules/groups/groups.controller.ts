import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/openapi';
import { PageQuery } from '../../common/pagination';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import { CreateGroupDto, GroupDto, GroupMembersDto, GroupPageDto, UpdateGroupDto } from './groups.dto';
import { GroupsService } from './groups.service';

@ApiTags('groups')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Roles('admin', 'ops')
@Controller('groups')
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  @Post()
  @ApiOperation({ summary: 'Register a customer group chat and the employee who runs it' })
  @ApiCreatedResponse({ type: GroupDto })
  @ApiErrors('OWNER_NOT_FOUND')
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateGroupDto): Promise<GroupDto> {
    return this.groups.create(p.tenantId, dto);
  }

  @Get()
  @ApiOkResponse({ type: GroupPageDto })
  list(@CurrentPrincipal() p: Principal, @Query() page: PageQuery): Promise<GroupPageDto> {
    return this.groups.list(p.tenantId, page);
  }

  @Get(':id')
  @ApiOkResponse({ type: GroupDto })
  @ApiErrors('GROUP_NOT_FOUND')
  get(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<GroupDto> {
    return this.groups.get(p.tenantId, id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: GroupDto })
  @ApiErrors('GROUP_NOT_FOUND', 'OWNER_NOT_FOUND')
  update(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: UpdateGroupDto): Promise<GroupDto> {
    return this.groups.update(p.tenantId, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors('GROUP_NOT_FOUND')
  remove(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<void> {
    return this.groups.remove(p.tenantId, id);
  }

  @Post(':id/members')
  @HttpCode(200)
  @ApiOperation({ summary: 'Add and remove member contacts (repeatable)' })
  @ApiOkResponse({ type: GroupDto })
  @ApiErrors('GROUP_NOT_FOUND', ['CONTACT_NOT_FOUND', 422])
  members(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: GroupMembersDto): Promise<GroupDto> {
    return this.groups.changeMembers(p.tenantId, id, dto);
  }
}
