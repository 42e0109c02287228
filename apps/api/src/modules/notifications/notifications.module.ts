import { Module } from '@nestjs/common';
import { NotificationStream } from './notification-stream.service';
import { NotificationsController } from './notifications.controller';
import { NotificationsService } from './notifications.service';
import { PreferencesController } from './preferences.controller';
import { PreferencesService } from './preferences.service';
import { StreamTickets } from './stream-tickets.service';

@Module({
  controllers: [NotificationsController, PreferencesController],
  providers: [NotificationsService, NotificationStream, PreferencesService, StreamTickets],
})
export class NotificationsModule {}
