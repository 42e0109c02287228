import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKey, Tenant, User } from '@sop/db';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { AccessGuard } from './access.guard';
import { AuthController } from './auth.controller';
import { AuthRepository } from './auth.repository';
import { AuthService } from './auth.service';
import { CredentialsService } from './credentials.service';
import { createSecretKey } from 'node:crypto';
import { DataSource } from 'typeorm';
import { PostgresRateLimitStorage } from './rate-limit-storage';

@Global()
@Module({
  imports: [
    TypeOrmModule.forFeature([User, Tenant, ApiKey]),
    JwtModule.registerAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        // A key object, not the string: jsonwebtoken otherwise re-derives the key (first trying it as a
        // public key, which throws) on every request; that was the largest cost of a cheap API call.
        secret: createSecretKey(Buffer.from(config.jwt.secret)),
        signOptions: { expiresIn: config.jwt.ttlSeconds, algorithm: 'HS256' },
        verifyOptions: { algorithms: ['HS256'] },
      }),
    }),
    ThrottlerModule.forRootAsync({
      inject: [APP_CONFIG, DataSource],
      // Four counters (each route skips those that are not its own): per address and email (both routes), per
      // address for login (password spraying: one address, many emails) and per address for signup (one address,
      // many organizations), and per address for a channel code's join page. In Postgres, so several API processes count together.
      useFactory: (config: AppConfig, db: DataSource) => ({
        storage: new PostgresRateLimitStorage(db),
        throttlers: [
          { name: 'default', ttl: 60_000, limit: config.loginRateLimitPerMinute },
          { name: 'address', ttl: 60_000, limit: config.loginRateLimitPerAddressPerMinute, getTracker: (req: Record<string, unknown>) => String(req.ip) },
          { name: 'signup', ttl: 3_600_000, limit: config.signupRateLimitPerAddressPerHour, getTracker: (req: Record<string, unknown>) => String(req.ip) },
          { name: 'join', ttl: 60_000, limit: config.joinRateLimitPerAddressPerMinute, getTracker: (req: Record<string, unknown>) => String(req.ip) },
        ],
      }),
    }),
  ],
  controllers: [AuthController],
  providers: [AuthService, AuthRepository, CredentialsService, { provide: APP_GUARD, useClass: AccessGuard }],
  exports: [CredentialsService],
})
export class AuthModule {}
