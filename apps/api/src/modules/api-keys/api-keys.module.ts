import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKey } from '@sop/db';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { EventSigning } from './event-signing';

@Module({ imports: [TypeOrmModule.forFeature([ApiKey])], controllers: [ApiKeysController], providers: [ApiKeysService, ApiKeysRepository, EventSigning], exports: [EventSigning, ApiKeysService] })
export class ApiKeysModule {}
