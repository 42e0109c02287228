import { Module } from '@nestjs/common';
import { TagsModule } from '../tags/tags.module';
import { LinksController } from './links.controller';
import { LinksRepository } from './links.repository';
import { LinksService } from './links.service';

@Module({ imports: [TagsModule], controllers: [LinksController], providers: [LinksService, LinksRepository], exports: [LinksService] })
export class LinksModule {}
