import { Module } from '@nestjs/common';
import { LinksModule } from '../links/links.module';
import { InboxController } from './inbox.controller';
import { InboxService } from './inbox.service';

@Module({ imports: [LinksModule], controllers: [InboxController], providers: [InboxService] })
export class InboxModule {}
