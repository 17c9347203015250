import { uuidv7 } from 'uuidv7';
import type { Report } from '../../src/modules/safety/domain/report';
import { ReportRepository } from '../../src/modules/safety/ports/report.repository';
import { UserRepository } from '../../src/modules/users/ports/user.repository';
import { uniquePhone } from '../utils/clients';
import { startTestApp } from '../utils/test-app';

/** A repository over empty storage, a way to make users (reports reference them), and a release. */
export interface ReportRepositoryHarness {
  repository: ReportRepository;
  newUserId(): Promise<string>;
  close(): Promise<void>;
}

/** The behaviour every ReportRepository adapter must have. */
export function reportRepositoryContract(
  adapter: string,
  factory: () => Promise<ReportRepositoryHarness>,
): void {
  describe(`ReportRepository contract: ${adapter}`, () => {
    let harness: ReportRepositoryHarness;
    let repo: ReportRepository;

    beforeAll(async () => {
      harness = await factory();
      repo = harness.repository;
    });
    afterAll(async () => {
      await harness.close();
    });

    const file = async (
      reporterId: string,
      userId: string,
      extra: Partial<Omit<Report, 'createdAt'>> = {},
    ): Promise<Report> =>
      repo.create({
        id: uuidv7(),
        reporterId,
        userId,
        messageId: null,
        reason: 'spam',
        note: '',
        messages: [],
        ...extra,
      });

    it('stores a report with its messages and returns it', async () => {
      const [a, b] = [await harness.newUserId(), await harness.newUserId()];
      const messageId = uuidv7();
      const message = {
        id: messageId,
        conversationId: uuidv7(),
        seq: 1,
        senderId: b,
        senderDeviceId: uuidv7(),
        clientMsgId: uuidv7(),
        type: 'text' as const,
        body: 'hello',
        mediaId: null,
        targetId: null,
        forwardScore: 0,
        viewOnce: false,
        replyToId: null,
        createdAt: new Date().toISOString(),
        editedAt: null,
        deletedAt: null,
        expiresAt: null,
      };
      const stored = await file(a, b, {
        messageId,
        reason: 'abuse',
        note: 'rude',
        messages: [message],
      });
      expect(stored).toEqual({
        id: expect.any(String),
        reporterId: a,
        userId: b,
        messageId,
        reason: 'abuse',
        note: 'rude',
        messages: [message],
        createdAt: expect.any(Date),
      });
      expect(await repo.list({ limit: 10, userId: b })).toEqual([stored]);
    });

    it('lists newest first, in keyset pages, optionally for one user', async () => {
      const [a, b, other] = [
        await harness.newUserId(),
        await harness.newUserId(),
        await harness.newUserId(),
      ];
      const mine = [await file(a, b), await file(a, b), await file(a, b)];
      await file(a, other);
      const ids = (reports: Report[]) => reports.map((r) => r.id);
      expect(ids(await repo.list({ limit: 2, userId: b }))).toEqual([mine[2].id, mine[1].id]);
      expect(ids(await repo.list({ limit: 2, userId: b, beforeId: mine[1].id }))).toEqual([
        mine[0].id,
      ]);
      expect(await repo.list({ limit: 2, userId: b, beforeId: mine[0].id })).toEqual([]);
      const all = await repo.list({ limit: 1000 });
      expect(all.length).toBeGreaterThanOrEqual(4);
      expect(ids(all)).toEqual([...ids(all)].sort().reverse());
    });
  });
}

reportRepositoryContract('postgres', async () => {
  const t = await startTestApp();
  const users = t.app.get(UserRepository, { strict: false });
  return {
    repository: t.app.get(ReportRepository, { strict: false }),
    newUserId: async () => (await users.findOrCreateByPhone(uuidv7(), uniquePhone())).user.id,
    close: () => t.close(),
  };
});
