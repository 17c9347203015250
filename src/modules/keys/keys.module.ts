import { Module } from '@nestjs/common';
import { ChatModule } from '../chat/chat.module';
import { KeyPostgresRepository } from './adapters/postgres/key.postgres.repository';
import { KeysController } from './keys.controller';
import { KeysService } from './keys.service';
import { KeyRepository } from './ports/key.repository';

/** Public keys for end-to-end encryption (Signal's X3DH/PQXDH prekeys). */
@Module({
  imports: [ChatModule],
  controllers: [KeysController],
  providers: [KeysService, { provide: KeyRepository, useClass: KeyPostgresRepository }],
  exports: [KeysService],
})
export class KeysModule {}
