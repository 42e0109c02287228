import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Team, User } from '@sop/db';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({ imports: [TypeOrmModule.forFeature([User, Team])], controllers: [UsersController], providers: [UsersService] })
export class UsersModule {}
