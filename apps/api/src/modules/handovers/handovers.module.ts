import { Module } from '@nestjs/common';
import { HandoversController, LeavesController } from './handovers.controller';
import { HandoversRepository } from './handovers.repository';
import { HandoversService } from './handovers.service';
import { LeavesService } from './leaves.service';

@Module({ controllers: [HandoversController, LeavesController], providers: [HandoversService, LeavesService, HandoversRepository] })
export class HandoversModule {}
