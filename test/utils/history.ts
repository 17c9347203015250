import { http } from './http';

/** Every message of a conversation the reader can see, id -> seq, read page by page. */
export async function allMessageSeqs(
  api: string,
  token: string,
  conversationId: string,
): Promise<Map<string, number>> {
  const stored = new Map<string, number>();
  let afterSeq = 0;
  for (;;) {
    const page = await http(
      api,
      'GET',
      `/conversations/${conversationId}/messages?afterSeq=${afterSeq}&limit=100`,
      { token },
    );
    if (page.status !== 200) throw new Error(`history read failed: ${page.status}`);
    for (const m of page.body.messages as Array<{ id: string; seq: number }>) {
      stored.set(m.id, m.seq);
      afterSeq = m.seq;
    }
    if (!page.body.hasMore) return stored;
  }
}
