import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Tag, TagGroup } from '@sop/db';
import { TagWriter } from './tag-writer.service';
import { TagsController } from './tags.controller';
import { TagsRepository } from './tags.repository';
import { TagsService } from './tags.service';

@Module({
  imports: [TypeOrmModule.forFeature([TagGroup, Tag])],
  controllers: [TagsController],
  providers: [TagsService, TagWriter, TagsRepository],
  exports: [TagWriter, TagsRepository],
})
export class TagsModule {}
