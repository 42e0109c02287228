import { Module } from '@nestjs/common';
import { SopForecastService } from './sop-forecast.service';
import { SopPreviewService } from './sop-preview.service';
import { SopProgressService } from './sop-progress.service';
import { SopRuntime } from './sop-runtime.service';
import { SopsController } from './sops.controller';
import { SopsRepository } from './sops.repository';
import { SopsService } from './sops.service';

@Module({ controllers: [SopsController], providers: [SopsService, SopsRepository, SopForecastService, SopPreviewService, SopProgressService, SopRuntime], exports: [SopsService] })
export class SopsModule {}
