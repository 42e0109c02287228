import { Body, Controller, Get, Put } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ApiBearerAuth, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { loadCaps } from '@sop/engine';
import { DataSource } from 'typeorm';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { ContactCapsDto } from './settings.dto';

@ApiTags('settings')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('settings')
export class SettingsController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  @Get('contact-caps')
  @Roles('admin', 'ops', 'manager')
  @ApiOperation({ summary: 'The per-contact cap across all SOPs (a lower-priority SOP yields when it is reached)' })
  caps(@CurrentPrincipal() p: Principal): Promise<ContactCapsDto> {
    return loadCaps(this.db, p.tenantId);
  }

  @Put('contact-caps')
  @Roles('admin', 'ops')
  async setCaps(@CurrentPrincipal() p: Principal, @Body() dto: ContactCapsDto): Promise<ContactCapsDto> {
    await this.db.query(`UPDATE tenants SET contact_cap_per_day = $2, contact_cap_per_week = $3 WHERE id = $1`, [p.tenantId, dto.perDay, dto.perWeek]);
    return loadCaps(this.db, p.tenantId);
  }
}
