import { Module } from '@nestjs/common';
import { WecomCallbackController, WecomConnectionController } from './wecom.controller';
import { WecomService } from './wecom.service';

@Module({ controllers: [WecomConnectionController, WecomCallbackController], providers: [WecomService] })
export class WecomModule {}
