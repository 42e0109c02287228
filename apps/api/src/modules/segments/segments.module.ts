import { Module } from '@nestjs/common';
import { SegmentsController } from './segments.controller';
import { SegmentsRepository } from './segments.repository';
import { SegmentsService } from './segments.service';

@Module({ controllers: [SegmentsController], providers: [SegmentsService, SegmentsRepository], exports: [SegmentsService] })
export class SegmentsModule {}
