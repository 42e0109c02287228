import { Module } from '@nestjs/common';
import { SopForecastService } from './sop-forecast.service';
import { SopsController } from './sops.controller';
import { SopsService } from './sops.service';

@Module({ controllers: [SopsController], providers: [SopsService, SopForecastService], exports: [SopsService] })
export class SopsModule {}
