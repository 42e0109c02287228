import { type DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { dataSourceOptions } from '@sop/db';
import { LoggerModule } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from './config/config';
import { ApiKeysModule } from './modules/api-keys/api-keys.module';
import { AuthModule } from './modules/auth/auth.module';
import { CalendarModule } from './modules/calendar/calendar.module';
import { ComputedTagsModule } from './modules/computed-tags/computed-tags.module';
import { ContactsModule } from './modules/contacts/contacts.module';
import { EventsModule } from './modules/events/events.module';
import { GroupsModule } from './modules/groups/groups.module';
import { InboxModule } from './modules/inbox/inbox.module';
import { LinksModule } from './modules/links/links.module';
import { MaterialsModule } from './modules/materials/materials.module';
import { ImportsModule } from './modules/imports/imports.module';
import { HandoversModule } from './modules/handovers/handovers.module';
import { HealthController } from './modules/health/health.controller';
import { createMetrics, METRICS } from './modules/metrics/metrics';
import { MetricsController } from './modules/metrics/metrics.controller';
import { NotificationsModule } from './modules/notifications/notifications.module';
import { ResponsesModule } from './modules/responses/responses.module';
import { RoundTripsModule } from './modules/round-trips/round-trips.module';
import { SegmentsModule } from './modules/segments/segments.module';
import { DashboardsModule } from './modules/dashboards/dashboards.module';
import { SettingsModule } from './modules/settings/settings.module';
import { SopsModule } from './modules/sops/sops.module';
import { SourceCodesModule } from './modules/source-codes/source-codes.module';
import { WecomModule } from './modules/wecom/wecom.module';
import { CALLBACK_ROUTE_UNPREFIXED } from './modules/wecom/callback-route';
import { TagsModule } from './modules/tags/tags.module';
import { TeamsModule } from './modules/teams/teams.module';
import { UsersModule } from './modules/users/users.module';
import { TemporalModule } from './temporal/temporal.module';
import { logStream, quietBoot, requestForLog, requestLevel, requestLine, responseForLog } from './common/log-format';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: [{
            level: config.logLevel,
            customSuccessMessage: requestLine,
            customErrorMessage: (req, res) => requestLine(req, res),
            customLogLevel: requestLevel,
            ...quietBoot(config.logFormat),
            // no headers in the log (no tokens, keys, cookies, nor the WeCom sign-in's redirect with its token)
            serializers: { req: requestForLog, res: responseForLog },
            wrapSerializers: false,
            autoLogging: { ignore: (req) => req.url === '/health' || req.url === '/health/ready' || req.url === '/metrics' },
          }, logStream(config.logFormat)],
          // Express 5's path syntax for "every route" (the default '*' warns at start-up)
          forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
          // WeCom's callbacks are served outside Nest's pipeline and write their own access line (callback-route.ts)
          exclude: [CALLBACK_ROUTE_UNPREFIXED],
        }),
        TypeOrmModule.forRoot(dataSourceOptions(config.databaseUrl)),
        TemporalModule,
        AuthModule,
        UsersModule,
        TeamsModule,
        ApiKeysModule,
        RoundTripsModule,
        TagsModule,
        ContactsModule,
        GroupsModule,
        SegmentsModule,
        DashboardsModule,
        SopsModule,
        CalendarModule,
        SettingsModule,
        InboxModule,
        LinksModule,
        MaterialsModule,
        NotificationsModule,
        ImportsModule,
        SourceCodesModule,
        WecomModule,
        ComputedTagsModule,
        ResponsesModule,
        EventsModule,
        HandoversModule,
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: METRICS, useFactory: createMetrics },
      ],
      exports: [APP_CONFIG, METRICS],
    };
  }
}
