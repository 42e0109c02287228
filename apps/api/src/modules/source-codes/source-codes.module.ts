import { Module } from '@nestjs/common';
import { ContactsModule } from '../contacts/contacts.module';
import { TagsModule } from '../tags/tags.module';
import { JoinPageController } from './join-page.controller';
import { SourceCodesController } from './source-codes.controller';
import { SourceCodesService } from './source-codes.service';

@Module({ imports: [TagsModule, ContactsModule], controllers: [SourceCodesController, JoinPageController], providers: [SourceCodesService], exports: [SourceCodesService] })
export class SourceCodesModule {}
