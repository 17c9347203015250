#!/usr/bin/env node
/*
 * Two people on four devices, against a running server:
 *   AUTH_TEST_OTP=123456 npm start          (in one terminal)
 *   node scripts/demo-two-people.js         (in another; PARLEY_URL, PARLEY_OTP to override)
 * Alice (phone + laptop) writes to Bob (phone + tablet). Bob's tablet is offline and
 * catches up with sync later; Alice sees the ticks move.
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
  if (!res.ok) throw new Error(`sign-in failed (${res.status}): is the server running with AUTH_TEST_OTP=${otp}?`);
  return res.json();
}

function connect(session, label) {
  return new Promise((resolve, reject) => {
    const socket = io(url, { auth: { token: session.accessToken }, transports: ['websocket'] });
    socket.on('connect', () => resolve(socket));
    socket.on('connect_error', reject);
    socket.on('message:new', (m) => console.log(`  ${label} <- message:new seq ${m.seq}: ${m.body}`));
    socket.on('receipt', (r) => console.log(`  ${label} <- receipt ${r.status} up to seq ${r.seq}`));
  });
}

(async () => {
  const alicePhone = phone();
  const bobPhone = phone();
  const alice = { phone: await signIn(alicePhone, 'alice phone'), laptop: await signIn(alicePhone, 'alice laptop') };
  const bob = { phone: await signIn(bobPhone, 'bob phone'), tablet: await signIn(bobPhone, 'bob tablet') };
  const a1 = await connect(alice.phone, 'alice phone ');
  await connect(alice.laptop, 'alice laptop');
  const b1 = await connect(bob.phone, 'bob phone   ');
  console.log('Alice sends three messages (Bob’s tablet is offline):');
  let last;
  for (const body of ['hi Bob', 'are you there?', 'see you at 8']) {
    const ack = await a1.timeout(5000).emitWithAck('message:send', {
      clientMsgId: randomUUID(), recipientId: bob.phone.userId, type: 'text', body,
    });
    last = ack.message;
    console.log(`  alice phone  -> sent seq ${last.seq} (one tick)`);
  }
  await new Promise((r) => setTimeout(r, 300));
  console.log('Bob’s phone reads them:');
  await b1.timeout(5000).emitWithAck('message:ack', { conversationId: last.conversationId, seq: last.seq, status: 'read' });
  await new Promise((r) => setTimeout(r, 300));
  console.log('Bob’s tablet comes online and syncs:');
  const b2 = await connect(bob.tablet, 'bob tablet  ');
  for (;;) {
    const page = await b2.timeout(5000).emitWithAck('sync', { limit: 100 });
    for (const m of page.messages) console.log(`  bob tablet   <- synced seq ${m.seq}: ${m.body}`);
    if (page.messages.length) {
      const end = page.messages[page.messages.length - 1];
      await b2.timeout(5000).emitWithAck('message:ack', { conversationId: end.conversationId, seq: end.seq, status: 'delivered' });
    }
    if (!page.hasMore) break;
  }
  const receipts = await fetch(`${api}/messages/${last.id}/receipts`, { headers: { authorization: `Bearer ${alice.phone.accessToken}` } });
  console.log('Alice asks for the receipts of the last message:', JSON.stringify(await receipts.json()));
  process.exit(0);
})().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
