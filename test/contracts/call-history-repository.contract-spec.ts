import { uuidv7 } from 'uuidv7';
import {
  CallHistoryRepository,
  type CallRecord,
} from '../../src/modules/calls/ports/call-history.repository';
import { startTestApp } from '../utils/test-app';

export interface CallHistoryRepositoryHarness {
  repository: CallHistoryRepository;
  close(): Promise<void>;
}

function record(overrides: Partial<CallRecord> = {}): CallRecord {
  const startedAt = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));
  return {
    id: uuidv7(),
    conversationId: uuidv7(),
    callerId: uuidv7(),
    media: 'video',
    outcome: 'completed',
    startedAt,
    answeredAt: new Date(startedAt.getTime() + 3000),
    endedAt: new Date(startedAt.getTime() + 63_000),
    durationSec: 60,
    ...overrides,
  };
}

/** The behaviour every CallHistoryRepository adapter must have. */
export function callHistoryRepositoryContract(
  adapter: string,
  factory: () => Promise<CallHistoryRepositoryHarness>,
): void {
  describe(`CallHistoryRepository contract: ${adapter}`, () => {
    let harness: CallHistoryRepositoryHarness;
    let repo: CallHistoryRepository;

    beforeAll(async () => {
      harness = await factory();
      repo = harness.repository;
    });
    afterAll(async () => {
      await harness.close();
    });

    it('stores a call once for each participant and reads it back as it was', async () => {
      const call = record();
      const callee = uuidv7();
      await repo.record(call, [call.callerId, callee, callee]);
      await repo.record({ ...call, outcome: 'failed' }, [call.callerId, uuidv7()]);
      expect(await repo.listForUser(call.callerId, 10)).toEqual([call]);
      expect(await repo.listForUser(callee, 10)).toEqual([call]);
      expect(await repo.listForUser(uuidv7(), 10)).toEqual([]);
    });

    it('keeps unanswered calls with no answer time', async () => {
      const call = record({ outcome: 'missed', answeredAt: null, durationSec: 0 });
      await repo.record(call, [call.callerId]);
      expect(await repo.listForUser(call.callerId, 10)).toEqual([call]);
    });

    it('pages newest first, before a given call', async () => {
      const userId = uuidv7();
      const calls = Array.from({ length: 5 }, () => record());
      for (const call of calls) await repo.record(call, [userId]);
      const ids = calls.map((c) => c.id).reverse();
      const first = await repo.listForUser(userId, 2);
      expect(first.map((c) => c.id)).toEqual(ids.slice(0, 2));
      const rest = await repo.listForUser(userId, 10, first[1].id);
      expect(rest.map((c) => c.id)).toEqual(ids.slice(2));
    });
  });
}

callHistoryRepositoryContract('postgres', async () => {
  const t = await startTestApp();
  return {
    repository: t.app.get(CallHistoryRepository, { strict: false }),
    close: () => t.close(),
  };
});
