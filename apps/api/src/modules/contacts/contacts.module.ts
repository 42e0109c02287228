import { Module } from '@nestjs/common';
import { SegmentsModule } from '../segments/segments.module';
import { TagsModule } from '../tags/tags.module';
import { ContactsController } from './contacts.controller';
import { ContactsRepository } from './contacts.repository';
import { ContactsService } from './contacts.service';

@Module({ imports: [TagsModule, SegmentsModule], controllers: [ContactsController], providers: [ContactsService, ContactsRepository], exports: [ContactsService] })
export class ContactsModule {}
