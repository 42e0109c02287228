import { Module } from '@nestjs/common';
import { WecomCallbackController, WecomConnectionController } from './wecom.controller';
import { WecomOAuthController } from './wecom-oauth.controller';
import { WecomOAuthService } from './wecom-oauth.service';
import { WecomSyncController } from './wecom-sync.controller';
import { WecomService } from './wecom.service';
import { WecomSyncService } from './wecom-sync.service';
import { CallbackKeeper } from './callback-keeper';
import { WecomRepository } from './wecom.repository';

@Module({
  controllers: [WecomConnectionController, WecomCallbackController, WecomSyncController, WecomOAuthController],
  providers: [WecomService, WecomSyncService, WecomOAuthService, WecomRepository, CallbackKeeper],
  exports: [WecomService],
})
export class WecomModule {}
