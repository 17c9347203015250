import { RoundRobinProxy } from '../../soak/lib/proxy';
import { connect, signIn } from '../utils/clients';
import { eventually } from '../utils/wait';
import { freePort } from '../utils/processes';
import {
  backendFromEnvironment,
  freshDatabase,
  startTestApp,
  type TestApp,
} from '../utils/test-app';

const backend = backendFromEnvironment();

// PostgreSQL is cut off for real (through a TCP proxy the test closes), so the suite needs
// the server named by DATABASE_URL; elsewhere it is reported as skipped with the reason.
const withPostgres = backend.databaseUrl ? describe : describe.skip;
withPostgres('socket handshake while PostgreSQL is unreachable (needs DATABASE_URL) (e2e)', () => {
  let proxy: RoundRobinProxy | undefined;
  let proxyPort: number;
  let signedInOn: TestApp | undefined;
  let coldInstance: TestApp | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  // Read in the hooks only: the describe body also runs when the suite is skipped.
  let postgresPort: number;

  beforeAll(async () => {
    postgresPort = Number(new URL(backend.databaseUrl!).port || 5432);
    const db = await freshDatabase(backend.databaseUrl!);
    dropDatabase = db.drop;
    proxyPort = await freePort();
    proxy = await RoundRobinProxy.start(proxyPort, () => [postgresPort]);
    const viaProxy = new URL(db.url);
    viaProxy.port = String(proxyPort);
    signedInOn = await startTestApp({ databaseUrl: viaProxy.toString() });
    // A second instance that has never seen the device: its handshake must read it.
    coldInstance = await startTestApp({
      databaseUrl: viaProxy.toString(),
      env: { DATABASE_RUN_MIGRATIONS: 'false' },
    });
  }, 120_000);

  afterAll(async () => {
    if (!postgresPort) return;
    if (!proxy) proxy = await RoundRobinProxy.start(proxyPort, () => [postgresPort]);
    await coldInstance?.close();
    await signedInOn?.close();
    await proxy.close();
    await dropDatabase?.();
  });

  it('answers SERVICE_UNAVAILABLE (retry), not UNAUTHORIZED (sign in again), and connects once the database is back', async () => {
    const session = await signIn(signedInOn!);

    await proxy!.close();
    proxy = undefined;
    await expect(connect(coldInstance!, session.accessToken)).rejects.toThrow(
      'SERVICE_UNAVAILABLE',
    );
    // A bad token is still a bad token while the database is away.
    await expect(connect(coldInstance!, 'not-a-token')).rejects.toThrow('UNAUTHORIZED');

    proxy = await RoundRobinProxy.start(proxyPort, () => [postgresPort]);
    await eventually(async () => {
      const socket = await connect(coldInstance!, session.accessToken);
      socket.close();
    }, 20_000);
  }, 60_000);
});
