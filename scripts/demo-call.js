#!/usr/bin/env node
/*
 * A call between two people through Parley's signalling and a real TURN server, against a
 * running server. Three terminals (all on one machine; see docs/operations.md for a real
 * coturn setup):
 *   turnserver -n --use-auth-secret --static-auth-secret=demo-turn-secret-0123 \
 *     --realm=parley.local --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 \
 *     --listening-port=3478 --allow-loopback-peers --no-cli --no-tls --no-dtls
 *   AUTH_TEST_OTP=123456 TURN_URLS=turn:127.0.0.1:3478 TURN_SECRET=demo-turn-secret-0123 npm start
 *   node scripts/demo-call.js [url] [otp]
 * Alice calls Bob, Bob answers, both fetch TURN credentials from Parley, their WebRTC peers
 * (werift) exchange SDP and ICE candidates through call:signal with iceTransportPolicy
 * 'relay', and a few messages cross the data channel through coturn. Then Alice hangs up
 * and both see the call in their history.
 */
const { io } = require('socket.io-client');
const { RTCPeerConnection } = require('werift');

const url = process.argv[2] || 'http://localhost:3000';
const otp = process.argv[3] || '123456';
const api = `${url}/api/v1`;
const phone = () => `+1555${String(Date.now()).slice(-7)}${Math.floor(Math.random() * 10)}`;

async function rest(session, method, path, body) {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(session ? { authorization: `Bearer ${session.accessToken}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => undefined);
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function signIn(deviceName) {
  try {
    return await rest(undefined, 'POST', '/auth/verify', { phone: phone(), code: otp, deviceName });
  } catch (error) {
    throw new Error(`sign-in failed: is the server running with AUTH_TEST_OTP=${otp}? (${error.message})`);
  }
}

function connect(session) {
  return new Promise((resolve, reject) => {
    const socket = io(url, { auth: { token: session.accessToken }, transports: ['websocket'] });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

const emit = (socket, event, payload) => socket.timeout(5000).emitWithAck(event, payload);
const once = (socket, event) => new Promise((resolve) => socket.once(event, resolve));

/** One side's WebRTC peer, signalling to the other device through Parley. */
async function peer(name, session, socket, callId, otherDeviceId) {
  const { iceServers } = await rest(session, 'GET', '/calls/ice-servers');
  const relays = iceServers.filter((s) => s.credential);
  if (!relays.length) throw new Error('the server hands out no TURN server: set TURN_URLS and TURN_SECRET');
  console.log(`  ${name} got TURN credentials for ${relays[0].username.split(':')[1].slice(0, 8)}…, valid until ${new Date(Number(relays[0].username.split(':')[0]) * 1000).toISOString()}`);
  const pc = new RTCPeerConnection({ iceServers: relays, iceTransportPolicy: 'relay' });
  const signal = (data) => emit(socket, 'call:signal', { callId, toDeviceId: otherDeviceId, data }).catch(() => undefined);
  pc.onIceCandidate.subscribe((candidate) => {
    if (candidate) signal({ type: 'candidate', candidate: candidate.toJSON() });
  });
  socket.on('call:signal', async ({ data }) => {
    if (data.type === 'candidate') await pc.addIceCandidate(data.candidate);
    else if (data.type === 'offer') {
      await pc.setRemoteDescription(data);
      await pc.setLocalDescription(await pc.createAnswer());
      signal({ type: 'answer', sdp: pc.localDescription.sdp });
    } else await pc.setRemoteDescription(data);
  });
  return { pc, signal };
}

(async () => {
  const alice = await signIn('alice phone');
  const bob = await signIn('bob phone');
  const conversation = await rest(alice, 'POST', '/conversations/direct', { userId: bob.userId });
  const [sa, sb] = await Promise.all([connect(alice), connect(bob)]);

  console.log('Alice calls Bob:');
  const ringing = once(sb, 'call:incoming');
  const { callId } = await emit(sa, 'call:invite', { calleeId: bob.userId, media: 'audio' });
  console.log(`  Bob's phone rings: ${JSON.stringify(await ringing)}`);
  const accepted = once(sa, 'call:accepted');
  await emit(sb, 'call:accept', { callId });
  console.log(`  Alice sees: call:accepted ${JSON.stringify(await accepted)}`);

  console.log('Both peers connect through the TURN relay:');
  const a = await peer('Alice', alice, sa, callId, bob.deviceId);
  const b = await peer('Bob  ', bob, sb, callId, alice.deviceId);
  b.pc.onDataChannel.subscribe((channel) =>
    channel.onMessage.subscribe((m) => {
      console.log(`  Bob   <- ${m.toString()}`);
      channel.send(m.toString() === 'ping' ? 'pong' : `got "${m}"`);
    }),
  );
  const channel = a.pc.createDataChannel('demo');
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no data channel through the relay within 15 s')), 15000);
    let replies = 0;
    channel.stateChanged.subscribe((state) => {
      if (state !== 'open') return;
      channel.send('ping');
      channel.send('hello through coturn');
    });
    channel.onMessage.subscribe((m) => {
      console.log(`  Alice <- ${m.toString()}`);
      if (++replies === 2) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  await a.pc.setLocalDescription(await a.pc.createOffer());
  a.signal({ type: 'offer', sdp: a.pc.localDescription.sdp });
  await done;
  const pair = a.pc.iceTransports?.[0]?.connection?.nominated;
  if (pair) console.log(`  selected pair: local ${pair.localCandidate.type} ${pair.localCandidate.host}:${pair.localCandidate.port}`);

  console.log('Alice hangs up:');
  const ended = once(sb, 'call:ended');
  await emit(sa, 'call:hangup', { callId });
  console.log(`  Bob sees: call:ended ${JSON.stringify(await ended)}`);
  await new Promise((r) => setTimeout(r, 300));
  const { calls } = await rest(bob, 'GET', '/calls?limit=1');
  console.log(`  Bob's call history: ${JSON.stringify(calls[0])}`);
  const { messages } = await rest(bob, 'GET', `/conversations/${conversation.id}/messages`);
  console.log(`  in the chat: ${messages.filter((m) => m.type === 'system').map((m) => m.body).join(', ')}`);

  await Promise.all([a.pc.close(), b.pc.close()]);
  sa.close();
  sb.close();
  process.exit(0);
})().catch((error) => {
  console.error(error.message || error);
  process.exit(1);
});
