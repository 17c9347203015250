import type { BenchContext } from '../lib/context';
import { sleep } from '../lib/procs';
import type { AckMode, SendResult, SendTarget } from '../lib/protocol';
import type { Generator } from '../lib/servers';
import { closeAll, connectClients } from '../lib/sockets';
import { clientSpec, createGroup } from '../lib/users';

export interface StatementFigure {
  name: string;
  /** What was measured: sends (or acks). */
  operations: number;
  statements: number;
  perOperation: number;
  /** Messages the server counted as stored in the window (parley_messages_stored_total). */
  stored: number;
  inFlight: number;
  groupSize?: number;
  /** The recipient acked every message at once: its acks' statements are counted in. */
  receiverAcks?: Exclude<AckMode, 'none'>;
  /** Requests to Cassandra per operation (MESSAGE_STORE=cassandra only). */
  cassandraPerOperation?: number;
}

export interface StatementsResult {
  sends: number;
  /** parley_db_statements_total growth per second with nothing happening (background work). */
  idlePerSecond: number;
  figures: StatementFigure[];
}

const STATEMENTS = 'parley_db_statements_total';
const STORED = 'parley_messages_stored_total';
const CASSANDRA = 'parley_cassandra_requests_total';

export async function statementsScenario(ctx: BenchContext): Promise<StatementsResult> {
  const { statementSends: n, statementGroups } = ctx.options;
  const gens = await ctx.generators(1);
  const gen: Generator = gens[0];
  const largest = Math.max(2, ...statementGroups);
  const users = await ctx.users(largest);
  const [a, b] = users;
  // Sender and one recipient online; the other group members are offline.
  const connected = await connectClients(gens, ctx.product.url, [
    { gen: 0, client: clientSpec('sa', a) },
    { gen: 0, client: clientSpec('sb', b) },
  ]);
  if (connected.failed) throw new Error('statements: sockets failed to connect');
  const figures: StatementFigure[] = [];

  const counters = async () => {
    const m = await ctx.product.metrics();
    return {
      statements: m.get(STATEMENTS) ?? NaN,
      stored: m.get(STORED) ?? NaN,
      cassandra: m.get(CASSANDRA),
    };
  };

  const measureSends = async (
    name: string,
    target: SendTarget,
    inFlight: number,
    groupSize?: number,
    receiverAcks?: Exclude<AckMode, 'none'>,
  ): Promise<void> => {
    const before = await counters();
    const sent = await gen.request<SendResult>(
      {
        cmd: 'send',
        key: 'sa',
        target,
        count: n,
        window: inFlight,
        bodyBytes: ctx.options.bodyBytes,
        switchToConversation: false,
        timeoutMs: 60_000,
        receiverAcks,
      },
      600_000,
    );
    const after = await counters();
    if (sent.errors) throw new Error(`statements: ${name}: ${JSON.stringify(sent.errorCodes)}`);
    if (sent.acks && (sent.acks.errors || sent.acks.unanswered))
      throw new Error(`statements: ${name}: acks failed ${JSON.stringify(sent.acks)}`);
    const statements = after.statements - before.statements;
    figures.push({
      name,
      operations: sent.ok,
      statements,
      perOperation: Math.round((statements / sent.ok) * 100) / 100,
      stored: after.stored - before.stored,
      inFlight,
      groupSize,
      receiverAcks,
      cassandraPerOperation:
        after.cassandra === undefined
          ? undefined
          : Math.round(((after.cassandra - (before.cassandra ?? 0)) / sent.ok) * 100) / 100,
    });
    const cassandra = figures[figures.length - 1].cassandraPerOperation;
    ctx.log(
      `statements: ${name}: ${(statements / sent.ok).toFixed(2)} per message${cassandra === undefined ? '' : `, ${cassandra} Cassandra requests`}`,
    );
  };

  try {
    const idleBefore = await counters();
    await sleep(2000);
    const idleAfter = await counters();
    const idlePerSecond = (idleAfter.statements - idleBefore.statements) / 2;

    // Open the direct conversation (its first message creates it), then measure.
    const opened = await gen.request<SendResult>({
      cmd: 'send',
      key: 'sa',
      target: { recipientId: b.userId },
      count: 1,
      window: 1,
      bodyBytes: ctx.options.bodyBytes,
      switchToConversation: false,
      timeoutMs: 30_000,
    });
    if (!opened.conversationId) throw new Error('statements: could not open a conversation');
    const direct = opened.conversationId;
    await measureSends('1:1 by conversationId, one at a time', { conversationId: direct }, 1);
    await measureSends('1:1 by recipientId, one at a time', { recipientId: b.userId }, 1);
    await measureSends('1:1 by conversationId, 64 in flight', { conversationId: direct }, 64);
    // Acks: the recipient acks the direct conversation forward in equal steps.
    {
      const acks = Math.min(50, n);
      const lastSeq = 1 + 3 * n;
      const before = await counters();
      for (let i = 1; i <= acks; i++) {
        await gen.request({
          cmd: 'ack',
          key: 'sb',
          conversationId: direct,
          seq: Math.floor((lastSeq * i) / acks),
          status: 'delivered',
        });
      }
      const after = await counters();
      const statements = after.statements - before.statements;
      figures.push({
        name: `message:ack delivered, each covering ~${Math.floor(lastSeq / acks)} messages`,
        operations: acks,
        statements,
        perOperation: Math.round((statements / acks) * 100) / 100,
        stored: after.stored - before.stored,
        inFlight: 1,
      });
    }

    // What a client really costs: every message also acked by its recipient, each at once.
    await measureSends(
      '1:1, 64 in flight, each message acked delivered',
      { conversationId: direct },
      64,
      undefined,
      'delivered',
    );
    await measureSends(
      '1:1, 64 in flight, each message acked delivered and read',
      { conversationId: direct },
      64,
      undefined,
      'read',
    );

    for (const size of statementGroups) {
      const members = users.slice(1, size).map((u) => u.userId);
      const groupId = await createGroup(ctx, a, members, `bench ${size}`);
      await measureSends(`group of ${size}, one at a time`, { conversationId: groupId }, 1, size);
    }
    return { sends: n, idlePerSecond, figures };
  } finally {
    await closeAll(gens);
  }
}
