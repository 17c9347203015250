import { httpJson } from '../../bench/lib/http';
import { verifyDevice } from '../../bench/lib/users';
import type { DeviceEvents } from './device';
import { SoakDevice } from './device';
import type { Ledger, SoakConversation } from './ledger';

export interface SoakUser {
  userId: string;
  devices: SoakDevice[];
  conversations: SoakConversation[];
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

/**
 * Signs in every user's devices (1-3 each), then pairs everybody off in direct
 * conversations and adds small groups on top. Every device exists before any conversation
 * does, so each device must receive every message of its conversations.
 */
export async function buildPopulation(options: {
  url: string;
  clients: number;
  random: () => number;
  ledger: Ledger;
  events: DeviceEvents;
}): Promise<{ users: SoakUser[]; conversations: SoakConversation[] }> {
  const { url, clients, random, ledger, events } = options;
  const plans = Array.from({ length: clients }, (_, i) => {
    const r = random();
    return { index: i, devices: r < 0.5 ? 1 : r < 0.8 ? 2 : 3 };
  });
  const users: SoakUser[] = new Array<SoakUser>(clients);
  const tokens: string[] = new Array<string>(clients);
  await pool(plans, 16, async (plan) => {
    const phone = `+1999${String(plan.index).padStart(7, '0')}`;
    const devices: SoakDevice[] = [];
    let userId = '';
    for (let d = 0; d < plan.devices; d++) {
      const signedIn = await verifyDevice(url, phone, `soak device ${d + 1}`, 10);
      userId = signedIn.userId;
      if (d === 0) tokens[plan.index] = signedIn.accessToken;
      const identity = { key: `u${plan.index}d${d + 1}`, userId, deviceId: signedIn.deviceId };
      ledger.addDevice(identity);
      devices.push(new SoakDevice(identity, signedIn.accessToken, url, ledger, events));
    }
    users[plan.index] = { userId, devices, conversations: [] };
  });

  const conversations: SoakConversation[] = [];
  const order = shuffle(
    users.map((_, i) => i),
    random,
  );
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i + 1 < order.length; i += 2) pairs.push([order[i], order[i + 1]]);
  const groups: number[][] = [];
  // An odd one out joins the first group; about one group per six users besides.
  const groupCount = Math.max(1, Math.round(clients / 6));
  for (let g = 0; g < groupCount; g++) {
    const size = 3 + Math.floor(random() * 3);
    groups.push(shuffle(order, random).slice(0, Math.min(size, clients)));
  }
  if (order.length % 2 === 1 && !groups[0].includes(order[order.length - 1])) {
    groups[0].push(order[order.length - 1]);
  }
  await pool(pairs, 16, async ([a, b]) => {
    const res = await httpJson<{ id?: string }>(url, 'POST', '/api/v1/conversations/direct', {
      token: tokens[a],
      body: { userId: users[b].userId },
    });
    if (!res.body?.id) throw new Error(`POST /conversations/direct: ${res.status}`);
    conversations.push({
      id: res.body.id,
      kind: 'direct',
      memberUserIds: [users[a].userId, users[b].userId],
    });
  });
  await pool(groups, 8, async (members) => {
    const [creator, ...others] = members;
    const res = await httpJson<{ id?: string }>(url, 'POST', '/api/v1/groups', {
      token: tokens[creator],
      body: { name: 'soak group', memberIds: others.map((i) => users[i].userId) },
    });
    if (!res.body?.id) throw new Error(`POST /groups: ${res.status}`);
    conversations.push({
      id: res.body.id,
      kind: 'group',
      memberUserIds: members.map((i) => users[i].userId),
    });
  });
  const byUser = new Map(users.map((u) => [u.userId, u]));
  for (const c of conversations) {
    ledger.addConversation(c);
    for (const id of c.memberUserIds) byUser.get(id)?.conversations.push(c);
  }
  return { users, conversations };
}
