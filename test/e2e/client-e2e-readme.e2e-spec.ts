import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApp, type TestApp } from '../utils/test-app';

/**
 * The E2E chat in packages/client/README.md runs as written: its imports as they are, the
 * rest (top-level await in the README) as the body of one async function, with the
 * server's address in place of localhost:3000.
 */
function readmeExample(): { imports: string; body: string } {
  const readme = readFileSync(join(__dirname, '../../packages/client/README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## End-to-end encryption (Node)'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)![1];
  const lines = code.split('\n');
  const imports = lines.filter((l) => l.startsWith('import '));
  expect(lines.length).toBeLessThan(40);
  return {
    imports: imports.join('\n'),
    body: lines.filter((l) => !l.startsWith('import ')).join('\n'),
  };
}

let t: TestApp;
let dir: string;

beforeAll(async () => {
  // The README's sign-in code.
  t = await startTestApp({ env: { AUTH_TEST_OTP: '123456' } });
  dir = mkdtempSync(join(tmpdir(), 'parley-readme-'));
}, 120_000);
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('the README’s end-to-end chat runs as written and each device reads the plaintext', async () => {
  const { imports, body } = readmeExample();
  expect(body).toContain("'http://localhost:3000'");
  const file = join(dir, 'example.ts');
  const here = body.replace("'http://localhost:3000'", `'${t.url}'`);
  writeFileSync(file, `${imports}\nexport async function run(): Promise<void> {\n${here}\n}\n`);
  const printed: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    printed.push(args.join(' '));
  });
  try {
    const example = (await import(file)) as { run: () => Promise<void> };
    await example.run();
  } finally {
    log.mockRestore();
  }
  expect(printed).toEqual([
    'Bob reads: Hi Bob!',
    "Alice's phone shows: Hi Bob!",
    'Alice reads: Hi Alice!',
  ]);
}, 60_000);
