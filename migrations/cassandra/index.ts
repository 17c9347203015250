/**
 * CQL schema of the Cassandra message store (MESSAGE_STORE=cassandra), applied in id order
 * by `npm run migration:run` and at start-up (DATABASE_RUN_MIGRATIONS). Every statement is
 * idempotent (IF NOT EXISTS), so a run interrupted half-way is simply run again. The
 * keyspace itself, with the replication from CASSANDRA_REPLICATION, is made by the runner.
 */
export interface CassandraMigration {
  id: number;
  name: string;
  statements: string[];
}

export const cassandraMigrations: CassandraMigration[] = [
  {
    id: 1796700000000,
    name: 'MessageStore1796700000000',
    statements: [
      // One partition per conversation and seq bucket (seq / CASSANDRA_SEQ_BUCKET_SIZE), so a
      // conversation's history spreads over bounded partitions; rows cluster by seq.
      `CREATE TABLE IF NOT EXISTS messages (
         conversation_id uuid, bucket bigint, seq bigint,
         id uuid, sender_id uuid, sender_device_id uuid, client_msg_id text, type text,
         body text, media_id uuid, target_id uuid, forward_score int, view_once boolean, e2e boolean,
         reply_to_id uuid, withheld_from uuid,
         created_at timestamp, edited_at timestamp, deleted_at timestamp, expires_at timestamp,
         PRIMARY KEY ((conversation_id, bucket), seq)
       ) WITH CLUSTERING ORDER BY (seq ASC)`,
      // Where a message id lives. A row here is trusted only while the message row at that
      // place carries the same id (ADR 0018: an uncommitted send leaves stale pointers).
      `CREATE TABLE IF NOT EXISTS message_ids (
         id uuid PRIMARY KEY, conversation_id uuid, seq bigint)`,
      // Idempotency of sends: (sender, clientMsgId) -> the stored message.
      `CREATE TABLE IF NOT EXISTS message_client_ids (
         sender_id uuid, client_msg_id text, id uuid, conversation_id uuid, seq bigint,
         PRIMARY KEY ((sender_id, client_msg_id)))`,
      // The edits and reactions pointing at a message, emptied when it is deleted.
      `CREATE TABLE IF NOT EXISTS message_events_by_target (
         target_id uuid, seq bigint, conversation_id uuid, type text,
         PRIMARY KEY (target_id, seq))`,
      `CREATE TABLE IF NOT EXISTS message_reactions (
         message_id uuid, user_id uuid, emoji text, reacted_seq bigint, withheld_from uuid,
         PRIMARY KEY (message_id, user_id))`,
      `CREATE TABLE IF NOT EXISTS message_hidden (
         user_id uuid, conversation_id uuid, message_id uuid,
         PRIMARY KEY ((user_id, conversation_id), message_id))`,
      `CREATE TABLE IF NOT EXISTS message_stars (
         user_id uuid, starred_at timestamp, message_id uuid,
         PRIMARY KEY (user_id, starred_at, message_id)
       ) WITH CLUSTERING ORDER BY (starred_at DESC, message_id DESC)`,
      `CREATE TABLE IF NOT EXISTS message_star_marks (
         user_id uuid, message_id uuid, starred_at timestamp,
         PRIMARY KEY ((user_id, message_id)))`,
      // What the retention and disappearing purges walk: messages by creation day and by
      // expiry day, and the days that have any (one small partition each).
      `CREATE TABLE IF NOT EXISTS messages_by_day (
         day int, created_at timestamp, id uuid, conversation_id uuid, seq bigint,
         PRIMARY KEY (day, created_at, id))`,
      `CREATE TABLE IF NOT EXISTS message_expiries (
         day int, expires_at timestamp, id uuid, conversation_id uuid, seq bigint, media_id uuid,
         PRIMARY KEY (day, expires_at, id))`,
      `CREATE TABLE IF NOT EXISTS message_days (
         kind text, day int, PRIMARY KEY (kind, day))`,
    ],
  },
];
