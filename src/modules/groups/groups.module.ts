import { Module } from '@nestjs/common';
import { MediaModule } from '../media/media.module';
import { UsersModule } from '../users/users.module';
import { GroupPostgresRepository } from './adapters/postgres/group.postgres.repository';
import { GroupsController } from './groups.controller';
import { GroupsService } from './groups.service';
import { GroupRepository } from './ports/group.repository';

@Module({
  imports: [UsersModule, MediaModule],
  controllers: [GroupsController],
  providers: [GroupsService, { provide: GroupRepository, useClass: GroupPostgresRepository }],
  exports: [GroupsService],
})
export class GroupsModule {}
