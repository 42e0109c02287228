import { Module } from '@nestjs/common';
import { ContactImportService } from './contact-import.service';
import { ImportsController } from './imports.controller';
import { ImportsRepository } from './imports.repository';

@Module({ controllers: [ImportsController], providers: [ContactImportService, ImportsRepository] })
export class ImportsModule {}
