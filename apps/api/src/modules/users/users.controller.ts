import { Body, Controller, Delete, Get, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/openapi';
import { ANY_ROLE, CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import { CreateUserDto, UpdateUserDto, UserDto, UserListQuery, UserPageDto } from './users.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Roles('admin')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @ApiOperation({ summary: 'Add a user to your organization' })
  @ApiCreatedResponse({ type: UserDto })
  @ApiErrors('EMAIL_TAKEN', ['TEAM_NOT_FOUND', 422])
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateUserDto): Promise<UserDto> {
    return this.users.create(p.tenantId, dto);
  }

  @Get()
  @Roles(...ANY_ROLE)
  @ApiOperation({ summary: "The organization's directory, oldest first (keyset pages); every signed-in role reads it (pickers, reassigning)" })
  @ApiOkResponse({ type: UserPageDto })
  list(@CurrentPrincipal() p: Principal, @Query() query: UserListQuery): Promise<UserPageDto> {
    const { limit, cursor, ...filter } = query;
    return this.users.list(p.tenantId, { limit, cursor }, filter);
  }

  @Get(':id')
  @Roles(...ANY_ROLE)
  @ApiOkResponse({ type: UserDto })
  @ApiErrors(['USER_NOT_FOUND', 404])
  get(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<UserDto> {
    return this.users.get(p.tenantId, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change name, email, role, team or password; disable or enable login' })
  @ApiOkResponse({ type: UserDto })
  @ApiErrors(['USER_NOT_FOUND', 404], 'CANNOT_DEMOTE_SELF', ['TEAM_NOT_FOUND', 422], 'EMAIL_TAKEN')
  update(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: UpdateUserDto): Promise<UserDto> {
    return this.users.update(p, id, dto);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Disable a user (history is kept; repeatable)' })
  @ApiOkResponse({ type: UserDto })
  @ApiErrors(['USER_NOT_FOUND', 404], 'CANNOT_DEMOTE_SELF')
  disable(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<UserDto> {
    return this.users.disable(p, id);
  }
}
