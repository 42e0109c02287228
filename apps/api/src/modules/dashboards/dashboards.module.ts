import { Module } from '@nestjs/common';
import { SopsModule } from '../sops/sops.module';
import { DashboardsController } from './dashboards.controller';
import { DashboardsRepository } from './dashboards.repository';
import { DashboardsService } from './dashboards.service';

@Module({ imports: [SopsModule], controllers: [DashboardsController], providers: [DashboardsService, DashboardsRepository] })
export class DashboardsModule {}
