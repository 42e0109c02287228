import { Module } from '@nestjs/common';
import { TagsModule } from '../tags/tags.module';
import { ContactsController } from './contacts.controller';
import { ContactsService } from './contacts.service';

@Module({ imports: [TagsModule], controllers: [ContactsController], providers: [ContactsService] })
export class ContactsModule {}
