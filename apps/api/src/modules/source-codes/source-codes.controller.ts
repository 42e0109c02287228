import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import type { ContactDto } from '../contacts/contacts.dto';
import { CreateSourceCodeDto, JoinDto, SourceCodeDto, UpdateSourceCodeDto } from './source-codes.dto';
import { SourceCodesService } from './source-codes.service';

@ApiTags('source-codes')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Roles('admin', 'ops')
@Controller()
export class SourceCodesController {
  constructor(private readonly codes: SourceCodesService) {}

  @Post('source-codes')
  @ApiOperation({ summary: 'Create a channel or campaign code carrying tags and an owner' })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateSourceCodeDto): Promise<SourceCodeDto> {
    return this.codes.create(p.tenantId, dto);
  }

  @Get('source-codes')
  list(@CurrentPrincipal() p: Principal): Promise<SourceCodeDto[]> {
    return this.codes.list(p.tenantId);
  }

  @Get('source-codes/:id')
  get(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<SourceCodeDto> {
    return this.codes.get(p.tenantId, id);
  }

  @Patch('source-codes/:id')
  update(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: UpdateSourceCodeDto): Promise<SourceCodeDto> {
    return this.codes.update(p.tenantId, id, dto);
  }

  @Delete('source-codes/:id')
  @HttpCode(204)
  remove(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<void> {
    return this.codes.remove(p.tenantId, id);
  }

  @Post('contacts/join')
  @ApiOperation({ summary: 'A contact arrives through a source code: created or found, tagged, owned (201 new, 200 known; repeatable)' })
  async join(@CurrentPrincipal() p: Principal, @Body() dto: JoinDto, @Res({ passthrough: true }) res: Response): Promise<ContactDto> {
    const { created, contact } = await this.codes.join(p.tenantId, dto);
    res.status(created ? 201 : 200);
    return contact;
  }
}
