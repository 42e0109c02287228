import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/openapi';
import { PageQuery } from '../../common/pagination';
import { ANY_ROLE, CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import { CreateTeamDto, TeamDto, TeamPageDto, UpdateTeamDto } from './teams.dto';
import { TeamsService } from './teams.service';

@ApiTags('teams')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Roles('admin')
@Controller('teams')
export class TeamsController {
  constructor(private readonly teams: TeamsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a team, optionally with its manager' })
  @ApiCreatedResponse({ type: TeamDto })
  @ApiErrors('TEAM_NAME_TAKEN', 'MANAGER_NOT_FOUND')
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateTeamDto): Promise<TeamDto> {
    return this.teams.create(p.tenantId, dto);
  }

  @Get()
  @Roles(...ANY_ROLE)
  @ApiOperation({ summary: "The organization's teams (every signed-in role reads them: pickers and filters)" })
  @ApiOkResponse({ type: TeamPageDto })
  list(@CurrentPrincipal() p: Principal, @Query() page: PageQuery): Promise<TeamPageDto> {
    return this.teams.list(p.tenantId, page);
  }

  @Get(':id')
  @Roles(...ANY_ROLE)
  @ApiOkResponse({ type: TeamDto })
  @ApiErrors(['TEAM_NOT_FOUND', 404])
  get(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<TeamDto> {
    return this.teams.get(p.tenantId, id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: TeamDto })
  @ApiErrors(['TEAM_NOT_FOUND', 404], 'TEAM_NAME_TAKEN', 'MANAGER_NOT_FOUND')
  update(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: UpdateTeamDto): Promise<TeamDto> {
    return this.teams.update(p.tenantId, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a team; its members stay, without a team' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(['TEAM_NOT_FOUND', 404])
  remove(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<void> {
    return this.teams.remove(p.tenantId, id);
  }
}
