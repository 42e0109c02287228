import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { NotificationStream } from './notification-stream.service';
import { NotificationsController } from './notifications.controller';
import { NotificationsService } from './notifications.service';
import { PreferencesController } from './preferences.controller';
import { PreferencesService } from './preferences.service';
import { StreamTickets } from './stream-tickets.service';

@Module({
  // stream tickets are signed with a key of their own (see StreamTickets), given at each call
  imports: [JwtModule.register({ signOptions: { algorithm: 'HS256' }, verifyOptions: { algorithms: ['HS256'] } })],
  controllers: [NotificationsController, PreferencesController],
  providers: [NotificationsService, NotificationStream, PreferencesService, StreamTickets],
})
export class NotificationsModule {}
