import { Body, Controller, Delete, Get, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { PageQuery } from '../../common/pagination';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import { CreateUserDto, UpdateUserDto, UserDto, UserPageDto } from './users.dto';
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
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateUserDto): Promise<UserDto> {
    return this.users.create(p.tenantId, dto);
  }

  @Get()
  @ApiOperation({ summary: 'List users, oldest first (keyset pages)' })
  list(@CurrentPrincipal() p: Principal, @Query() page: PageQuery): Promise<UserPageDto> {
    return this.users.list(p.tenantId, page);
  }

  @Get(':id')
  get(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<UserDto> {
    return this.users.get(p.tenantId, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change name, email, role, team or password; disable or enable login' })
  update(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: UpdateUserDto): Promise<UserDto> {
    return this.users.update(p, id, dto);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Disable a user (history is kept; repeatable)' })
  disable(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<UserDto> {
    return this.users.disable(p, id);
  }
}
