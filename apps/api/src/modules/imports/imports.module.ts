import { Module } from '@nestjs/common';
import { ContactImportService } from './contact-import.service';
import { ImportsController } from './imports.controller';

@Module({ controllers: [ImportsController], providers: [ContactImportService] })
export class ImportsModule {}
