import { Module } from '@nestjs/common';
import { ContactsModule } from '../contacts/contacts.module';
import { TagsModule } from '../tags/tags.module';
import { SourceCodesController } from './source-codes.controller';
import { SourceCodesService } from './source-codes.service';

@Module({ imports: [TagsModule, ContactsModule], controllers: [SourceCodesController], providers: [SourceCodesService], exports: [SourceCodesService] })
export class SourceCodesModule {}
