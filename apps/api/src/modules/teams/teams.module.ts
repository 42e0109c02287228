import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Team, User } from '@sop/db';
import { TeamsController } from './teams.controller';
import { TeamsRepository } from './teams.repository';
import { TeamsService } from './teams.service';

@Module({ imports: [TypeOrmModule.forFeature([Team, User])], controllers: [TeamsController], providers: [TeamsService, TeamsRepository] })
export class TeamsModule {}
