import { Module } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { SourceCodesModule } from '../source-codes/source-codes.module';
import { EventsController } from './events.controller';
import { EventsRepository } from './events.repository';
import { EventsService } from './events.service';

@Module({ imports: [ApiKeysModule, SourceCodesModule], controllers: [EventsController], providers: [EventsService, EventsRepository] })
export class EventsModule {}
