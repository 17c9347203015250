import { uuidv7 } from 'uuidv7';
import { CassandraSession } from '../../src/common/cassandra/cassandra.session';
import { AppConfig } from '../../src/common/config/app-config';
import { Db, type SqlRunner } from '../../src/common/database/db';
import { MessageCassandraRepository } from '../../src/modules/chat/adapters/cassandra/message.cassandra.repository';
import type { TargetEffects } from '../../src/modules/chat/adapters/postgres/message.postgres.repository';
import type { MessageDraft } from '../../src/modules/chat/domain/message';
import { ConversationRepository } from '../../src/modules/chat/ports/conversation.repository';
import { MessageRepository } from '../../src/modules/chat/ports/message.repository';
import { cassandraClient, cassandraContactPoints, cassandraSkipReason } from '../utils/cassandra';
import { signIn } from '../utils/clients';
import { startTestApp, type TestApp } from '../utils/test-app';

/**
 * The process dies after a send's rows reached Cassandra and before its PostgreSQL
 * transaction committed (ADR 0018): the retry with the same clientMsgId must leave exactly
 * one message, at the seq the conversation really gave it.
 */
class CrashBeforeCommit extends MessageCassandraRepository {
  protected override async applyTargetEffects(
    tx: SqlRunner,
    effects: TargetEffects,
    seqOf: ReadonlyMap<MessageDraft, number>,
    now: Date,
  ): Promise<void> {
    await super.applyTargetEffects(tx, effects, seqOf, now);
    throw new Error('crashed between the Cassandra write and the PostgreSQL commit');
  }
}

const onCassandra = cassandraContactPoints() ? describe : describe.skip;

onCassandra(
  `Cassandra message store: a crash between the two writes${cassandraSkipReason()}`,
  () => {
    let t: TestApp;
    let repo: MessageRepository;
    let crashing: CrashBeforeCommit;
    let conversations: ConversationRepository;

    beforeAll(async () => {
      t = await startTestApp({ env: { MESSAGE_STORE: 'cassandra' } });
      repo = t.app.get(MessageRepository, { strict: false });
      conversations = t.app.get(ConversationRepository, { strict: false });
      crashing = new CrashBeforeCommit(
        t.app.get(Db, { strict: false }),
        t.app.get(CassandraSession, { strict: false }),
        t.app.get(AppConfig, { strict: false }),
      );
    });
    afterAll(() => t.close());

    const pair = async () => {
      const alice = await signIn(t);
      const bob = await signIn(t);
      const { conversation } = await conversations.getOrCreateDirect(
        uuidv7(),
        alice.userId,
        bob.userId,
      );
      return { alice, bob, conversationId: conversation.id };
    };
    const draftOf = (
      conversationId: string,
      sender: { userId: string; deviceId: string },
      clientMsgId = uuidv7(),
    ): MessageDraft => ({
      id: uuidv7(),
      conversationId,
      senderId: sender.userId,
      senderDeviceId: sender.deviceId,
      clientMsgId,
      type: 'text',
      body: `hello ${clientMsgId}`,
      mediaId: null,
      replyToId: null,
      withheldFrom: null,
      createdAt: new Date(),
    });
    const everything = async (conversationId: string, viewerId: string) =>
      (
        await repo.history({
          conversationId,
          minSeqExclusive: 0,
          maxSeq: 100,
          limit: 50,
          viewerId,
        })
      ).messages;

    it('a retry with the same clientMsgId stores the message once, at the seq it was never given', async () => {
      const { alice, bob, conversationId } = await pair();
      const lost = draftOf(conversationId, alice);
      await expect(crashing.append([lost])).rejects.toThrow(/crashed between/);

      // The crash left rows in Cassandra, and PostgreSQL gave out no seq.
      const cql = await cassandraClient(t.config.cassandra.keyspace);
      try {
        const left = await cql.execute(
          'SELECT id, seq FROM message_client_ids WHERE sender_id = ? AND client_msg_id = ?',
          [alice.userId, lost.clientMsgId],
          { prepare: true },
        );
        expect(String(left.first().get('id'))).toBe(lost.id);
      } finally {
        await cql.shutdown();
      }
      expect((await conversations.findById(conversationId))!.lastSeq).toBe(0);
      expect(await repo.findBySenderAndClientId(alice.userId, lost.clientMsgId)).toBeNull();
      expect(await repo.findById(lost.id)).toBeNull();
      expect(await everything(conversationId, bob.userId)).toEqual([]);

      const retry = { ...draftOf(conversationId, alice, lost.clientMsgId), id: uuidv7() };
      const [first] = await repo.append([retry]);
      expect(first).toMatchObject({
        kind: 'stored',
        duplicate: false,
        message: { id: retry.id, seq: 1 },
      });
      const [again] = await repo.append([{ ...retry, id: uuidv7() }]);
      expect(again).toMatchObject({
        kind: 'stored',
        duplicate: true,
        message: { id: retry.id, seq: 1 },
      });

      const history = await everything(conversationId, bob.userId);
      expect(history.map((m) => [m.id, m.seq])).toEqual([[retry.id, 1]]);
      expect(await repo.findById(lost.id)).toBeNull();
      expect((await repo.findBySenderAndClientId(alice.userId, lost.clientMsgId))!.id).toBe(
        retry.id,
      );
      expect((await conversations.findById(conversationId))!.lastSeq).toBe(1);
    });

    it('another member taking the seq first leaves the crashed send one message, later', async () => {
      const { alice, bob, conversationId } = await pair();
      const lost = draftOf(conversationId, alice);
      await expect(crashing.append([lost])).rejects.toThrow(/crashed between/);
      const [bobs] = await repo.append([draftOf(conversationId, bob)]);
      expect(bobs).toMatchObject({ kind: 'stored', message: { seq: 1 } });

      const [retried] = await repo.append([draftOf(conversationId, alice, lost.clientMsgId)]);
      expect(retried).toMatchObject({ kind: 'stored', duplicate: false, message: { seq: 2 } });
      const history = await everything(conversationId, alice.userId);
      expect(history.map((m) => m.seq)).toEqual([1, 2]);
      expect(history.filter((m) => m.clientMsgId === lost.clientMsgId)).toHaveLength(1);
      expect(await repo.findById(lost.id)).toBeNull();
    });
  },
);
