#!/usr/bin/env node
'use strict';
/**
 * npm run migration:create -- <PascalCaseName>
 *
 * Writes migrations/<timestamp-ms>-<kebab-name>.ts with an empty migration class
 * <Name><timestamp> to fill in with hand-written SQL. Plain Node, no dependencies.
 * Exit codes: 0 written, 1 could not write, 2 bad arguments.
 */
const fs = require('node:fs');
const path = require('node:path');

const USAGE = 'usage: npm run migration:create -- <PascalCaseName>   (e.g. AddMessageReactions)';
const migrationsDir = path.join(__dirname, '..', 'migrations');

function fail(message, code) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

const args = process.argv.slice(2);
if (args.length === 0) fail(`A migration name is required.\n${USAGE}`, 2);
if (args.length > 1) fail(`Expected one name, got ${args.length}: ${args.join(' ')}\n${USAGE}`, 2);
const name = args[0];
if (!/^[A-Z][A-Za-z0-9]*$/.test(name) || !/[a-z]/.test(name)) {
  fail(
    `Invalid migration name ${JSON.stringify(name)}: use PascalCase letters and digits, ` +
      `starting with an upper-case letter (e.g. AddMessageReactions).\n${USAGE}`,
    2,
  );
}

// AddURLIndex -> add-url-index, AddMessageReactions -> add-message-reactions
const kebab = name
  .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
  .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
  .toLowerCase();

const timestamp = Date.now();
const className = `${name}${timestamp}`;
const fileName = `${timestamp}-${kebab}.ts`;
const filePath = path.join(migrationsDir, fileName);

if (!fs.existsSync(migrationsDir)) fail(`No migrations directory at ${migrationsDir}`, 1);
const taken = fs
  .readdirSync(migrationsDir)
  .filter((f) => /^\d+-.+\.ts$/.test(f))
  .find((f) => f.replace(/^\d+-/, '') === `${kebab}.ts`);
if (taken) fail(`A migration named ${name} already exists: migrations/${taken}`, 1);

const source = `import type { MigrationInterface, QueryRunner } from 'typeorm';

/** TODO: say in one line what this migration changes. */
export class ${className} implements MigrationInterface {
  name = '${className}';

  async up(q: QueryRunner): Promise<void> {
    await q.query(\`
      -- TODO: the forward SQL, one statement per q.query call
    \`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(\`
      -- TODO: the SQL that undoes up()
    \`);
  }
}
`;

try {
  fs.writeFileSync(filePath, source, { flag: 'wx' });
} catch (error) {
  fail(`Could not write migrations/${fileName}: ${error.message}`, 1);
}

process.stdout.write(
  `Created migrations/${fileName} (class ${className}).\n` +
    `Next: write its SQL, then add it to migrations/index.ts:\n` +
    `  import { ${className} } from './${timestamp}-${kebab}';\n` +
    `  export const allMigrations = [..., ${className}];\n`,
);
