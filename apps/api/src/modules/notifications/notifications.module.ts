import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { createHmac, createSecretKey } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { NotificationStream } from './notification-stream.service';
import { NotificationsController } from './notifications.controller';
import { NotificationsRepository } from './notifications.repository';
import { NotificationsService } from './notifications.service';
import { PreferencesController } from './preferences.controller';
import { PreferencesRepository } from './preferences.repository';
import { PreferencesService } from './preferences.service';
import { StreamTicketsRepository } from './stream-tickets.repository';
import { STREAM_TICKET_AUDIENCE, STREAM_TICKET_SECONDS, StreamTickets } from './stream-tickets.service';

@Module({
  imports: [
    // stream tickets are signed with a key of their own, derived from the JWT secret: a ticket is no access
    // token (a key object, as for access tokens, so jsonwebtoken does not re-derive it at every use)
    JwtModule.registerAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        secret: createSecretKey(createHmac('sha256', config.jwt.secret).update('notification-stream-tickets').digest()),
        signOptions: { algorithm: 'HS256', expiresIn: STREAM_TICKET_SECONDS, audience: STREAM_TICKET_AUDIENCE },
        verifyOptions: { algorithms: ['HS256'], audience: STREAM_TICKET_AUDIENCE },
      }),
    }),
  ],
  controllers: [NotificationsController, PreferencesController],
  providers: [
    NotificationsService, NotificationStream, PreferencesService, StreamTickets,
    NotificationsRepository, PreferencesRepository, StreamTicketsRepository,
  ],
})
export class NotificationsModule {}
