import { Module } from '@nestjs/common';
import { ResponseRulesController } from './response-rules.controller';
import { TagsModule } from '../tags/tags.module';
import { ResponseRulesRepository } from './response-rules.repository';
import { ResponseRulesService } from './response-rules.service';

@Module({ imports: [TagsModule], controllers: [ResponseRulesController], providers: [ResponseRulesService, ResponseRulesRepository] })
export class ResponsesModule {}
