import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { PageQuery } from '../../common/pagination';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
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
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateTeamDto): Promise<TeamDto> {
    return this.teams.create(p.tenantId, dto);
  }

  @Get()
  list(@CurrentPrincipal() p: Principal, @Query() page: PageQuery): Promise<TeamPageDto> {
    return this.teams.list(p.tenantId, page);
  }

  @Get(':id')
  get(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<TeamDto> {
    return this.teams.get(p.tenantId, id);
  }

  @Patch(':id')
  update(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: UpdateTeamDto): Promise<TeamDto> {
    return this.teams.update(p.tenantId, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a team; its members stay, without a team' })
  remove(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<void> {
    return this.teams.remove(p.tenantId, id);
  }
}
