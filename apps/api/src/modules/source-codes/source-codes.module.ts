import { Module } from '@nestjs/common';
import { ContactsModule } from '../contacts/contacts.module';
import { TagsModule } from '../tags/tags.module';
import { WecomModule } from '../wecom/wecom.module';
import { WecomContactWays } from './wecom-contact-way';
import { JoinPageController } from './join-page.controller';
import { SourceCodesController } from './source-codes.controller';
import { SourceCodesRepository } from './source-codes.repository';
import { SourceCodesService } from './source-codes.service';

@Module({ imports: [TagsModule, ContactsModule, WecomModule], controllers: [SourceCodesController, JoinPageController], providers: [SourceCodesService, SourceCodesRepository, WecomContactWays], exports: [SourceCodesService] })
export class SourceCodesModule {}
