import { Identity1764000000000 } from './1764000000000-identity';
import { Messaging1764000001000 } from './1764000001000-messaging';
import { Media1795622890751 } from './1795622890751-media';
import { MembersVersion1795630000000 } from './1795630000000-members-version';
import { LeftSnapshot1795640000000 } from './1795640000000-left-snapshot';
import { GroupAddPrivacy1796400000000 } from './1796400000000-group-add-privacy';

/**
 * Every migration, in order. `npm run migration:create -- <Name>` writes a new file;
 * add its class here. Migrations are hand-written SQL, reviewed like code.
 */
export const allMigrations = [
  Identity1764000000000,
  Messaging1764000001000,
  Media1795622890751,
  MembersVersion1795630000000,
  LeftSnapshot1795640000000,
  GroupAddPrivacy1796400000000,
];
