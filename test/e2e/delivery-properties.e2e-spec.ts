import fc from 'fast-check';
import type { Socket } from 'socket.io-client';
import { type Session } from '../utils/clients';
import { clientsOf, eventually, type Message } from '../utils/chat-clients';
import { http } from '../utils/http';
import { startTestApp, type TestApp } from '../utils/test-app';

/**
 * The delivery promise as a property: whatever the interleaving of sends (alone or
 * concurrent), acks, disconnects, reconnects and devices added, every device ends up
 * holding every message it is owed exactly once, and each conversation's seqs are
 * gapless. A device is owed the messages stored after it joined, except its own.
 */

interface Device {
  user: number;
  session: Session;
  /** The conversation's last seq when the device registered. */
  startSeq: number;
  socket: Socket | null;
  /** Every message it received, live or through sync, in arrival order. */
  received: Message[];
  /** Seqs of live `message:new` events per socket, to check their order. */
  liveSeqs: number[][];
}

interface World {
  conversationId: string;
  baseSeq: number;
  users: Session[];
  devices: Device[];
  acked: Message[];
}

const USERS = 3;
const MAX_DEVICES = 7;

describe('delivery properties (e2e, fast-check)', () => {
  let t: TestApp;
  const c = clientsOf(() => t);

  beforeAll(async () => {
    t = await startTestApp();
  });

  afterAll(async () => {
    c.closeAll();
    await t?.close();
  });

  const lastSeq = (world: World) =>
    world.acked.reduce((max, m) => Math.max(max, m.seq), world.baseSeq);

  const attach = async (device: Device) => {
    const socket = await c.open(device.session);
    const live: number[] = [];
    device.liveSeqs.push(live);
    socket.on('message:new', (m: Message) => {
      live.push(m.seq);
      device.received.push(m);
    });
    device.socket = socket;
  };

  /** A client's sync loop: take pages, ack the highest seq of each, until nothing is left. */
  const syncAll = async (device: Device) => {
    const socket = device.socket!;
    for (let round = 0; round < 50; round++) {
      const page = await c.sync(socket);
      expect(page.ok).toBe(true);
      const seqs = page.messages.map((m) => m.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      device.received.push(...page.messages);
      if (page.messages.length)
        await c.ack(socket, page.messages[0].conversationId, Math.max(...seqs), 'delivered');
      if (!page.hasMore) return;
    }
    throw new Error('sync never finished');
  };

  /** Acks the highest seq below which the device holds everything it is owed. */
  const ackContiguous = async (world: World, device: Device) => {
    const held = new Set(device.received.map((m) => m.seq));
    const own = new Set(
      world.acked.filter((m) => m.senderDeviceId === device.session.deviceId).map((m) => m.seq),
    );
    let seq = device.startSeq;
    while (held.has(seq + 1) || own.has(seq + 1)) seq += 1;
    if (seq > device.startSeq)
      expect(await c.ack(device.socket!, world.conversationId, seq, 'delivered')).toEqual({
        ok: true,
      });
  };

  type Command =
    | { kind: 'send'; device: number }
    | { kind: 'burst'; devices: number[] }
    | { kind: 'ack'; device: number }
    | { kind: 'disconnect'; device: number }
    | { kind: 'reconnect'; device: number }
    | { kind: 'addDevice'; user: number };

  const command: fc.Arbitrary<Command> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({ kind: fc.constant('send' as const), device: fc.nat(MAX_DEVICES - 1) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('burst' as const),
        devices: fc.array(fc.nat(MAX_DEVICES - 1), { minLength: 2, maxLength: 6 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('ack' as const), device: fc.nat(MAX_DEVICES - 1) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('disconnect' as const),
        device: fc.nat(MAX_DEVICES - 1),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('reconnect' as const),
        device: fc.nat(MAX_DEVICES - 1),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('addDevice' as const), user: fc.nat(USERS - 1) }),
    },
  );

  const connectedDevice = (world: World, index: number): Device | undefined => {
    const device = world.devices[index % world.devices.length];
    return device.socket ? device : undefined;
  };

  const sendFrom = async (world: World, device: Device, n: number) => {
    const message = await c.send(device.socket!, {
      conversationId: world.conversationId,
      body: `m${n}`,
    });
    world.acked.push(message);
  };

  const run = async (world: World, cmd: Command) => {
    switch (cmd.kind) {
      case 'send': {
        const device = connectedDevice(world, cmd.device);
        if (device) await sendFrom(world, device, world.acked.length);
        return;
      }
      case 'burst': {
        const senders = cmd.devices
          .map((i) => connectedDevice(world, i))
          .filter((d): d is Device => !!d);
        await Promise.all(senders.map((d, i) => sendFrom(world, d, world.acked.length + i)));
        return;
      }
      case 'ack': {
        const device = connectedDevice(world, cmd.device);
        if (device) await ackContiguous(world, device);
        return;
      }
      case 'disconnect': {
        const device = connectedDevice(world, cmd.device);
        if (!device) return;
        device.socket!.close();
        device.socket = null;
        return;
      }
      case 'reconnect': {
        const device = world.devices[cmd.device % world.devices.length];
        if (device.socket) return;
        await attach(device);
        await syncAll(device);
        return;
      }
      case 'addDevice': {
        if (world.devices.length >= MAX_DEVICES) return;
        const user = world.users[cmd.user];
        const device: Device = {
          user: cmd.user,
          session: await c.device(user),
          startSeq: lastSeq(world),
          socket: null,
          received: [],
          liveSeqs: [],
        };
        world.devices.push(device);
        await attach(device);
        return;
      }
    }
  };

  const newWorld = async (): Promise<World> => {
    const users = await Promise.all(Array.from({ length: USERS }, () => c.user()));
    const res = await http<{ id: string }>(t.api, 'POST', '/groups', {
      token: users[0].accessToken,
      body: { name: 'Property', memberIds: users.slice(1).map((u) => u.userId) },
    });
    expect(res.status).toBe(201);
    const conversationId = res.body.id;
    // Group creation stores system messages of its own: the run starts after them.
    const baseSeq = (await c.conversation(users[0], conversationId)).lastSeq as number;
    const world: World = { conversationId, baseSeq, users, devices: [], acked: [] };
    for (const [user, session] of users.entries()) {
      const device: Device = {
        user,
        session,
        startSeq: baseSeq,
        socket: null,
        received: [],
        liveSeqs: [],
      };
      world.devices.push(device);
      await attach(device);
      await syncAll(device);
      device.received = [];
    }
    return world;
  };

  const owed = (world: World, device: Device) =>
    world.acked
      .filter((m) => m.seq > device.startSeq && m.senderDeviceId !== device.session.deviceId)
      .map((m) => m.id)
      .sort();

  it('every device ends with every message it is owed, once, over gapless seqs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 5, maxLength: 30 }), async (commands) => {
        const world = await newWorld();
        try {
          for (const cmd of commands) await run(world, cmd);

          // The seqs the server handed out are one gapless run, each used once.
          const seqs = world.acked.map((m) => m.seq).sort((a, b) => a - b);
          expect(seqs).toEqual(seqs.map((_, i) => world.baseSeq + i + 1));

          // Live events in flight may still land; then every device comes back and syncs.
          for (const device of world.devices) {
            if (!device.socket) await attach(device);
          }
          await eventually(async () => {
            for (const device of world.devices) await syncAll(device);
            for (const device of world.devices) {
              const held = [...new Set(device.received.map((m) => m.id))].sort();
              expect(held).toEqual(owed(world, device));
            }
          });

          for (const device of world.devices) {
            // Nothing outside what the device is owed, whatever arrived twice.
            const ownIds = new Set(owed(world, device));
            expect(device.received.every((m) => ownIds.has(m.id))).toBe(true);
            // Live delivery on each socket follows seq order.
            for (const live of device.liveSeqs)
              expect(live).toEqual([...live].sort((a, b) => a - b));
          }
        } finally {
          for (const device of world.devices) device.socket?.close();
        }
      }),
      { numRuns: 25, endOnFailure: true },
    );
  }, 300_000);
});
