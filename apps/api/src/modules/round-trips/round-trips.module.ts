import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RoundTrip } from '@sop/db';
import { RoundTripsController } from './round-trips.controller';
import { RoundTripsService } from './round-trips.service';

@Module({ imports: [TypeOrmModule.forFeature([RoundTrip])], controllers: [RoundTripsController], providers: [RoundTripsService] })
export class RoundTripsModule {}
