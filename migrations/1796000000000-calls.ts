import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Call history: one row per call, and who it concerns (the caller and every callee rung). */
export class Calls1796000000000 implements MigrationInterface {
  name = 'Calls1796000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE calls (
        id uuid PRIMARY KEY,
        conversation_id uuid NOT NULL,
        caller_id uuid NOT NULL,
        media text NOT NULL CHECK (media IN ('audio', 'video')),
        outcome text NOT NULL
          CHECK (outcome IN ('completed', 'rejected', 'cancelled', 'missed', 'busy', 'failed')),
        started_at timestamptz NOT NULL,
        answered_at timestamptz,
        ended_at timestamptz NOT NULL,
        duration_sec int NOT NULL DEFAULT 0
      )`);
    await q.query(`
      CREATE TABLE call_participants (
        user_id uuid NOT NULL,
        call_id uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        PRIMARY KEY (user_id, call_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE call_participants`);
    await q.query(`DROP TABLE calls`);
  }
}
