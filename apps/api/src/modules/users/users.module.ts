import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Team, User } from '@sop/db';
import { UsersController } from './users.controller';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

@Module({ imports: [TypeOrmModule.forFeature([User, Team])], controllers: [UsersController], providers: [UsersService, UsersRepository] })
export class UsersModule {}
