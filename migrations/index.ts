import { Identity1764000000000 } from './1764000000000-identity';
import { Messaging1764000001000 } from './1764000001000-messaging';
import { MembersVersion1764000002000 } from './1764000002000-members-version';

/**
 * Every migration, in order. `npm run migration:create -- <Name>` writes a new file;
 * add its class here. Migrations are hand-written SQL, reviewed like code.
 */
export const allMigrations = [
  Identity1764000000000,
  Messaging1764000001000,
  MembersVersion1764000002000,
];
