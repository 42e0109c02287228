import { Module } from '@nestjs/common';
import { WecomCallbackController, WecomConnectionController } from './wecom.controller';
import { WecomSyncController } from './wecom-sync.controller';
import { WecomService } from './wecom.service';
import { WecomSyncService } from './wecom-sync.service';

@Module({ controllers: [WecomConnectionController, WecomCallbackController, WecomSyncController], providers: [WecomService, WecomSyncService], exports: [WecomService] })
export class WecomModule {}
