import { Module } from '@nestjs/common';
import { MediaModule } from '../media/media.module';
import { UserPostgresRepository } from './adapters/postgres/user.postgres.repository';
import { BlockCache } from './block-cache';
import { UserRepository } from './ports/user.repository';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({
  // Profile photos are media pictures; media imports no feature module, so no cycle.
  imports: [MediaModule],
  controllers: [UsersController],
  providers: [
    UsersService,
    BlockCache,
    { provide: UserRepository, useClass: UserPostgresRepository },
  ],
  exports: [UsersService],
})
export class UsersModule {}
