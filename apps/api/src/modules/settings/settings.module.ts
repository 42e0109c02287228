import { Module } from '@nestjs/common';
import { SettingsController } from './settings.controller';
import { TenantSettingsRepository } from './tenant-settings.repository';

@Module({ controllers: [SettingsController], providers: [TenantSettingsRepository] })
export class SettingsModule {}
