import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/openapi';
import { ANY_ROLE, CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { CreateTargetDto, PreferencesDto, TargetDto, TargetListDto, UpdatePreferencesDto, UpdateTargetDto } from './notifications.dto';
import { PreferencesService } from './preferences.service';

@ApiTags('notifications')
@ApiBearerAuth()
@Roles(...ANY_ROLE)
@Controller('me')
export class PreferencesController {
  constructor(private readonly preferences: PreferencesService) {}

  @Get('notification-preferences')
  @ApiOperation({ summary: 'Your notification preferences (defaults until you change them)' })
  @ApiOkResponse({ type: PreferencesDto })
  @ApiErrors('NOTIFICATIONS_NEED_A_USER', ['USER_NOT_FOUND', 404])
  get(@CurrentPrincipal() p: Principal): Promise<PreferencesDto> {
    return this.preferences.get(p);
  }

  @Put('notification-preferences')
  @ApiOperation({ summary: 'Change your preferences; fields left out keep their value; 422 PREFERENCES_INVALID names each bad field' })
  @ApiOkResponse({ type: PreferencesDto })
  @ApiErrors('NOTIFICATIONS_NEED_A_USER', ['USER_NOT_FOUND', 404], 'PREFERENCES_INVALID')
  put(@CurrentPrincipal() p: Principal, @Body() dto: UpdatePreferencesDto): Promise<PreferencesDto> {
    return this.preferences.update(p, { ...dto });
  }

  @Get('notification-targets')
  @ApiOperation({ summary: 'Your group robots and webhooks (secrets shown only by their last 4 characters)' })
  @ApiOkResponse({ type: TargetListDto })
  @ApiErrors('NOTIFICATIONS_NEED_A_USER')
  async list(@CurrentPrincipal() p: Principal): Promise<TargetListDto> {
    return { items: await this.preferences.listTargets(p) };
  }

  @Post('notification-targets')
  @ApiOperation({ summary: 'Register a WeCom, DingTalk or Feishu group robot or a signed webhook (https; 422 TARGET_INVALID names the field)' })
  @ApiCreatedResponse({ type: TargetDto })
  @ApiErrors('NOTIFICATIONS_NEED_A_USER', 'TARGET_INVALID', 'TARGET_EXISTS', 'TOO_MANY_TARGETS')
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateTargetDto): Promise<TargetDto> {
    return this.preferences.createTarget(p, dto);
  }

  @Patch('notification-targets/:id')
  @ApiOperation({ summary: 'Rename a target, move its URL or replace its secret' })
  @ApiOkResponse({ type: TargetDto })
  @ApiErrors('NOTIFICATIONS_NEED_A_USER', 'NOTIFICATION_TARGET_NOT_FOUND', 'TARGET_INVALID')
  @ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } })
  update(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: UpdateTargetDto): Promise<TargetDto> {
    return this.preferences.updateTarget(p, id, dto);
  }

  @Delete('notification-targets/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a target (its unsent deliveries go with it)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors('NOTIFICATIONS_NEED_A_USER', 'NOTIFICATION_TARGET_NOT_FOUND')
  @ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } })
  async remove(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.preferences.deleteTarget(p, id);
  }
}
