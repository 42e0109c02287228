import { Module } from '@nestjs/common';
import { SopForecastService } from './sop-forecast.service';
import { SopRuntime } from './sop-runtime.service';
import { SopsController } from './sops.controller';
import { SopsService } from './sops.service';

@Module({ controllers: [SopsController], providers: [SopsService, SopForecastService, SopRuntime], exports: [SopsService] })
export class SopsModule {}
