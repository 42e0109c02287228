import { Module } from '@nestjs/common';
import { TagsModule } from '../tags/tags.module';
import { ContactImportService } from './contact-import.service';
import { ImportsController } from './imports.controller';

@Module({ imports: [TagsModule], controllers: [ImportsController], providers: [ContactImportService] })
export class ImportsModule {}
