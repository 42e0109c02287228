import { Module } from '@nestjs/common';
import { ComputedTagsController } from './computed-tags.controller';
import { ComputedTagsService } from './computed-tags.service';

@Module({ controllers: [ComputedTagsController], providers: [ComputedTagsService] })
export class ComputedTagsModule {}
