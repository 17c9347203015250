import { Identity1764000000000 } from './1764000000000-identity';

/**
 * Every migration, in order. `npm run migration:create -- <Name>` writes a new file;
 * add its class here. Migrations are hand-written SQL, reviewed like code.
 */
export const allMigrations = [Identity1764000000000];
