import { Module } from '@nestjs/common';
import { LinksModule } from '../links/links.module';
import { InboxController } from './inbox.controller';
import { InboxRepository } from './inbox.repository';
import { InboxService } from './inbox.service';

@Module({ imports: [LinksModule], controllers: [InboxController], providers: [InboxService, InboxRepository] })
export class InboxModule {}
