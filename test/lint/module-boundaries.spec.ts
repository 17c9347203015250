import { RuleTester, type Rule } from 'eslint';
import { join } from 'node:path';
// The rule is plain CommonJS so that eslint.config.mjs can load it without a build.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const rule = require('../../scripts/eslint/module-boundaries.cjs') as Rule.RuleModule;

const root = join(__dirname, '..', '..');
const at = (file: string) => join(root, file);

describe('module boundaries (ADR 0001) as a lint rule', () => {
  new RuleTester({ languageOptions: { ecmaVersion: 2022, sourceType: 'module' } }).run(
    'module-boundaries',
    rule,
    {
      valid: [
        // Another module's service, Nest module and domain types are its public face.
        {
          code: "import { ChatService } from '../chat/chat.service';",
          filename: at('src/modules/presence/presence.service.ts'),
        },
        {
          code: "import { ChatModule } from '../chat/chat.module';",
          filename: at('src/modules/presence/presence.module.ts'),
        },
        {
          code: "import { Conversation } from '../../chat/domain/conversation';",
          filename: at('src/modules/groups/domain/group.ts'),
        },
        // A module's own ports and adapters.
        {
          code: "import { MessageRepository } from '../../ports/message.repository';",
          filename: at('src/modules/chat/adapters/postgres/message.postgres.repository.ts'),
        },
        // common to common, and anything outside src/modules and src/common.
        {
          code: "import { AppError } from '../errors';",
          filename: at('src/common/realtime/realtime.emitter.ts'),
        },
        {
          code: "import { ChatModule } from './modules/chat/chat.module';",
          filename: at('src/app.module.ts'),
        },
      ],
      invalid: [
        {
          code: "import { ConversationRepository } from '../chat/ports/conversation.repository';",
          filename: at('src/modules/presence/presence.service.ts'),
          errors: [{ messageId: 'privatePart' }],
        },
        {
          code: "import { MessagePostgresRepository } from '../../../chat/adapters/postgres/message.postgres.repository';",
          filename: at('src/modules/groups/adapters/postgres/group.postgres.repository.ts'),
          errors: [{ messageId: 'privatePart' }],
        },
        {
          code: "export { PurgeProcessor } from '../chat/processors/purge-expired-messages.processor';",
          filename: at('src/modules/media/index.ts'),
          errors: [{ messageId: 'privatePart' }],
        },
        {
          code: "import { AuthModule } from '../../modules/auth/auth.module';",
          filename: at('src/common/realtime/realtime-gateway.module.ts'),
          errors: [{ messageId: 'commonImportsModule' }],
        },
      ],
    },
  );
});
