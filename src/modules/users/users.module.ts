import { Module } from '@nestjs/common';
import { UserPostgresRepository } from './adapters/postgres/user.postgres.repository';
import { BlockCache } from './block-cache';
import { UserRepository } from './ports/user.repository';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({
  controllers: [UsersController],
  providers: [
    UsersService,
    BlockCache,
    { provide: UserRepository, useClass: UserPostgresRepository },
  ],
  exports: [UsersService],
})
export class UsersModule {}
