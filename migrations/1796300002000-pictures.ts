import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Profile photos and group icons: each points at an uploaded image. */
export class Pictures1796300002000 implements MigrationInterface {
  name = 'Pictures1796300002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN photo_media_id uuid`);
    await q.query(`ALTER TABLE conversations ADD COLUMN icon_media_id uuid`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE conversations DROP COLUMN icon_media_id`);
    await q.query(`ALTER TABLE users DROP COLUMN photo_media_id`);
  }
}
