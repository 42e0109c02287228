import { Module } from '@nestjs/common';
import { ComputedTagsController } from './computed-tags.controller';
import { ComputedTagsRepository } from './computed-tags.repository';
import { ComputedTagsService } from './computed-tags.service';
import { TagsModule } from '../tags/tags.module';

@Module({ imports: [TagsModule], controllers: [ComputedTagsController], providers: [ComputedTagsService, ComputedTagsRepository] })
export class ComputedTagsModule {}
