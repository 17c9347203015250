import { Identity1764000000000 } from './1764000000000-identity';
import { Messaging1764000001000 } from './1764000001000-messaging';
import { Media1795622890751 } from './1795622890751-media';
import { MembersVersion1795630000000 } from './1795630000000-members-version';
import { LeftSnapshot1795640000000 } from './1795640000000-left-snapshot';
import { Calls1796000000000 } from './1796000000000-calls';
import { Notifications1796100000000 } from './1796100000000-notifications';
import { MessageFeatures1796200000000 } from './1796200000000-message-features';
import { HiddenAndStarred1796300000000 } from './1796300000000-hidden-and-starred';
import { Disappearing1796300001000 } from './1796300001000-disappearing';
import { Pictures1796300002000 } from './1796300002000-pictures';
import { GroupAddPrivacy1796400000000 } from './1796400000000-group-add-privacy';
import { SigningKeys1796500000000 } from './1796500000000-signing-keys';
import { E2eKeys1796800000000 } from './1796800000000-e2e-keys';
import { ReportsAndBans1796900000000 } from './1796900000000-reports-and-bans';
import { TwoStepPin1796900001000 } from './1796900001000-two-step-pin';
import { AccountDeletion1796900002000 } from './1796900002000-account-deletion';

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
  Calls1796000000000,
  Notifications1796100000000,
  MessageFeatures1796200000000,
  HiddenAndStarred1796300000000,
  Disappearing1796300001000,
  Pictures1796300002000,
  GroupAddPrivacy1796400000000,
  SigningKeys1796500000000,
  E2eKeys1796800000000,
  ReportsAndBans1796900000000,
  TwoStepPin1796900001000,
  AccountDeletion1796900002000,
];
