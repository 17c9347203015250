#!/usr/bin/env node
/*
 * Two people on four devices, against a running server:
 *   AUTH_TEST_OTP=123456 npm start          (in one terminal)
 *   node scripts/demo-two-people.js         (in another; PARLEY_URL, PARLEY_OTP to override)
 * Alice (phone + laptop) writes to Bob (phone + tablet). Bob's tablet is offline and
 * catches up with sync later; Alice sees the ticks move. While the tablet is offline,
 * Alice edits a message and deletes another, Bob reacts (and changes his reaction) and
 * forwards one; the tablet replays those events and ends with what history shows.
 * Then Bob stars a message (his tablet hears of it) and deletes one for himself only, and
 * Alice turns on disappearing messages: the next message carries its expiry.
 */
const { randomUUID } = require('node:crypto');
const { io } = require('socket.io-client');

const url = process.argv[2] || 'http://localhost:3000';
const otp = process.argv[3] || '123456';
const api = `${url}/api/v1`;
const phone = () => `+1555${String(Date.now()).slice(-7)}${Math.floor(Math.random() * 10)}`;

async function signIn(number, deviceName) {
  const res = await fetch(`${api}/auth/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ phone: number, code: otp, deviceName }),
  });
  if (!res.ok)
    throw new Error(
      `sign-in failed (${res.status}): is the server running with AUTH_TEST_OTP=${otp}?`,
    );
  return res.json();
}

function connect(session, label) {
  return new Promise((resolve, reject) => {
    const socket = io(url, { auth: { token: session.accessToken }, transports: ['websocket'] });
    socket.on('connect', () => resolve(socket));
    socket.on('connect_error', reject);
    socket.on('message:new', (m) => console.log(`  ${label} <- message:new ${describe(m)}`));
    socket.on('receipt', (r) =>
      console.log(`  ${label} <- receipt ${r.status} up to seq ${r.seq}`),
    );
  });
}

/** One line per message: events name their target. */
function describe(m) {
  const target = m.targetId ? ` of ${m.targetId.slice(-6)}` : '';
  const forwarded = m.forwardScore ? ` (forwarded ${m.forwardScore}x)` : '';
  return `seq ${m.seq} ${m.type}${target} [${m.id.slice(-6)}]: ${JSON.stringify(m.body)}${forwarded}`;
}

/** What a client shows once it has applied every edit, delete and reaction it received. */
function replay(messages) {
  const shown = new Map();
  for (const m of [...messages].sort((x, y) => x.seq - y.seq)) {
    const t = m.targetId && shown.get(m.targetId);
    if (m.type === 'edit' && t && !t.deleted) Object.assign(t, { body: m.body, edited: true });
    else if (m.type === 'delete' && t)
      Object.assign(t, { body: null, deleted: true, reactions: {} });
    else if (m.type === 'reaction' && t && !t.deleted) {
      if (m.body) t.reactions[m.senderId] = m.body;
      else delete t.reactions[m.senderId];
    } else if (!m.targetId)
      shown.set(m.id, { body: m.body, edited: false, deleted: false, reactions: {} });
  }
  return shown;
}

(async () => {
  const alicePhone = phone();
  const bobPhone = phone();
  const alice = {
    phone: await signIn(alicePhone, 'alice phone'),
    laptop: await signIn(alicePhone, 'alice laptop'),
  };
  const bob = {
    phone: await signIn(bobPhone, 'bob phone'),
    tablet: await signIn(bobPhone, 'bob tablet'),
  };
  const a1 = await connect(alice.phone, 'alice phone ');
  await connect(alice.laptop, 'alice laptop');
  const b1 = await connect(bob.phone, 'bob phone   ');
  console.log('Alice sends three messages (Bob’s tablet is offline):');
  let last;
  for (const body of ['hi Bob', 'are you there?', 'see you at 8']) {
    const ack = await a1.timeout(5000).emitWithAck('message:send', {
      clientMsgId: randomUUID(),
      recipientId: bob.phone.userId,
      type: 'text',
      body,
    });
    last = ack.message;
    console.log(`  alice phone  -> sent seq ${last.seq} (one tick)`);
  }
  await new Promise((r) => setTimeout(r, 300));
  console.log('Bob’s phone reads them:');
  await b1
    .timeout(5000)
    .emitWithAck('message:ack', {
      conversationId: last.conversationId,
      seq: last.seq,
      status: 'read',
    });
  await new Promise((r) => setTimeout(r, 300));
  const send = async (socket, who, payload) => {
    const ack = await socket.timeout(5000).emitWithAck('message:send', {
      clientMsgId: randomUUID(),
      conversationId: last.conversationId,
      ...payload,
    });
    if (!ack.ok) throw new Error(`${who}: ${JSON.stringify(ack.error)}`);
    console.log(`  ${who} -> sent ${describe(ack.message)}`);
    return ack.message;
  };
  console.log('Alice fixes the time, Bob reacts and changes his mind, Alice takes a message back:');
  await send(a1, 'alice phone ', { type: 'edit', targetId: last.id, body: 'see you at 9' });
  await send(b1, 'bob phone   ', { type: 'reaction', targetId: last.id, body: '👍' });
  await send(b1, 'bob phone   ', { type: 'reaction', targetId: last.id, body: '❤️' });
  const oops = await send(a1, 'alice phone ', { type: 'text', body: 'my PIN is 1234' });
  await send(a1, 'alice phone ', { type: 'delete', targetId: oops.id });
  console.log('Bob forwards the plan back (a forward copies the content and counts hops):');
  await send(b1, 'bob phone   ', { forwardOf: last.id });
  await new Promise((r) => setTimeout(r, 300));
  console.log('Bob’s tablet comes online and syncs:');
  const b2 = await connect(bob.tablet, 'bob tablet  ');
  const synced = [];
  for (;;) {
    const page = await b2.timeout(5000).emitWithAck('sync', { limit: 100 });
    for (const m of page.messages) console.log(`  bob tablet   <- synced ${describe(m)}`);
    synced.push(...page.messages);
    if (page.messages.length) {
      const end = page.messages[page.messages.length - 1];
      await b2
        .timeout(5000)
        .emitWithAck('message:ack', {
          conversationId: end.conversationId,
          seq: end.seq,
          status: 'delivered',
        });
    }
    if (!page.hasMore) break;
  }
  console.log('What the tablet shows after replaying the events:');
  for (const [id, m] of replay(synced)) {
    const reactions = Object.values(m.reactions).join(' ');
    console.log(
      `  [${id.slice(-6)}] ${m.deleted ? '(deleted)' : JSON.stringify(m.body)}${m.edited ? ' (edited)' : ''} ${reactions}`,
    );
  }
  const history = await fetch(`${api}/conversations/${last.conversationId}/messages`, {
    headers: { authorization: `Bearer ${bob.tablet.accessToken}` },
  }).then((r) => r.json());
  console.log('History (the server applied the same events):');
  for (const m of history.messages.filter((x) => !x.targetId)) {
    const reactions = m.reactions.map((r) => `${r.emoji}x${r.userIds.length}`).join(' ');
    console.log(
      `  [${m.id.slice(-6)}] ${m.deletedAt ? '(deleted)' : JSON.stringify(m.body)}${m.editedAt ? ' (edited)' : ''} ${reactions}`,
    );
  }
  const receipts = await fetch(`${api}/messages/${last.id}/receipts`, {
    headers: { authorization: `Bearer ${alice.phone.accessToken}` },
  });
  console.log(
    'Alice asks for the receipts of the last message:',
    JSON.stringify(await receipts.json()),
  );

  const rest = (session, method, path, body) =>
    fetch(`${api}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${session.accessToken}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
  b2.on('message:starred', (e) =>
    console.log(`  bob tablet   <- message:starred ${e.messageId.slice(-6)} ${e.starred}`),
  );
  b2.on('message:hidden', (e) =>
    console.log(`  bob tablet   <- message:hidden ${e.messageIds.map((x) => x.slice(-6))}`),
  );
  console.log('Bob stars the plan on his phone, and deletes the forward for himself only:');
  await rest(bob.phone, 'PUT', `/messages/${last.id}/star`);
  const forward = history.messages.find((m) => m.forwardScore > 0);
  if (forward) await rest(bob.phone, 'DELETE', `/messages/${forward.id}?scope=me`);
  await new Promise((r) => setTimeout(r, 300));
  const starred = await rest(bob.tablet, 'GET', '/starred').then((r) => r.json());
  console.log(`  bob tablet   -> GET /starred: ${starred.messages.map((m) => JSON.stringify(m.body))}`);

  console.log('Alice turns on disappearing messages (24 hours) for the chat:');
  const changed = await rest(alice.phone, 'PATCH', `/conversations/${last.conversationId}`, {
    disappearAfterSec: 86400,
  }).then((r) => r.json());
  console.log(`  alice phone  -> disappearAfterSec ${changed.disappearAfterSec}`);
  const fleeting = await send(a1, 'alice phone ', {
    conversationId: last.conversationId,
    type: 'text',
    body: 'this one disappears',
  });
  console.log(`  alice phone  -> expiresAt ${fleeting.expiresAt}`);
  process.exit(0);
})().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
