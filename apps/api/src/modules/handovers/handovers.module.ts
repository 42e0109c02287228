import { Module } from '@nestjs/common';
import { HandoversController, LeavesController } from './handovers.controller';
import { HandoversService } from './handovers.service';
import { LeavesService } from './leaves.service';

@Module({ controllers: [HandoversController, LeavesController], providers: [HandoversService, LeavesService] })
export class HandoversModule {}
