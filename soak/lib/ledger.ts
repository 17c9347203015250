import { summarizeSamples, type LatencySummary } from '../../bench/lib/hist';
import type { MessageView } from '../../src/common/realtime/socket-events';

/** The fields of a server message the soak checks (docs/protocol.md "Messages"). */
export type WireMessage = Pick<
  MessageView,
  'id' | 'conversationId' | 'seq' | 'senderId' | 'senderDeviceId' | 'clientMsgId' | 'type'
>;

export interface SoakConversation {
  id: string;
  kind: 'direct' | 'group';
  memberUserIds: string[];
}

/** What the harness knows about one device: enough to say which messages it must get. */
export interface DeviceIdentity {
  key: string;
  userId: string;
  deviceId: string;
}

interface SendRecord {
  senderId: string;
  senderDeviceKey: string;
  conversationId: string;
  firstSendAt: number;
  phase: string;
  attempts: number;
  acked?: WireMessage;
  ackedAt?: number;
}

interface DeviceRecord {
  identity: DeviceIdentity;
  /** Distinct message ids held, with when each first arrived. */
  held: Map<string, WireMessage>;
  /** The highest seq held per conversation. */
  heldMax: Map<string, number>;
  deliveries: number;
  redeliveries: number;
  /** Live order within one connection: the highest seq seen per conversation. */
  liveMax: Map<string, number>;
  liveSession: number;
  reorderedLive: number;
  reorderedSync: number;
  /** Arrivals below an already-held seq of the conversation (live/sync interleaving: legal). */
  lateArrivals: number;
  /** Since when the device has been online, or undefined while offline. */
  onlineSince?: number;
  lastVoluntaryOffline: number;
}

export interface PhaseLatency extends LatencySummary {
  phase: string;
}

export interface LossExample {
  messageId: string;
  conversationId: string;
  seq: number;
  deviceKey: string;
  phase: string;
}

export interface ReorderExample {
  deviceKey: string;
  conversationId: string;
  kind: string;
  seq: number;
  afterSeq: number;
  /** The phase at arrival, and how long the device had been connected. */
  phase: string;
  connectedMs: number;
  senderDeviceId: string;
}

export interface SoakCounts {
  sent: number;
  sendAttempts: number;
  retriedSends: number;
  acked: number;
  unacked: number;
  expectedDeliveries: number;
  delivered: number;
  redelivered: number;
  lost: number;
  lostExamples: LossExample[];
  reorderExamples: ReorderExample[];
  duplicates: number;
  /** Failures of order: sync pages out of seq order, gaps left, a sender's order broken, one id with two seqs. */
  outOfOrder: number;
  /**
   * Live arrivals below a seq already received live on the same connection. Not a failure:
   * events from other instances travel through Redis and may overtake or trail local ones
   * (most during a Redis outage); clients order by seq and fill gaps by sync.
   */
  liveOutOfSeq: number;
  outOfOrderSync: number;
  gaps: number;
  /** Sends of one device in one conversation, each after the previous was acked, whose seqs went backwards. */
  senderOrderBroken: number;
  /** Message ids seen with two different seqs. */
  seqConflicts: number;
  lateArrivals: number;
  deliveredButNeverAcked: number;
  sendErrors: Record<string, number>;
  latency: PhaseLatency[];
}

/**
 * The soak's books: every send, every ack, every arrival on every device. It is the only
 * judge of loss, duplication and order, and it trusts nothing but what the sockets said.
 */
export class Ledger {
  private readonly sends = new Map<string, SendRecord>();
  private readonly devices = new Map<string, DeviceRecord>();
  private readonly conversations = new Map<string, SoakConversation>();
  private readonly devicesByUser = new Map<string, DeviceIdentity[]>();
  /** Every message id seen for one (sender, clientMsgId): more than one is a duplicate. */
  private readonly idsByClientMsg = new Map<string, Set<string>>();
  private readonly sendErrors = new Map<string, number>();
  private readonly latency = new Map<string, number[]>();
  private readonly reorderExamples: ReorderExample[] = [];

  constructor(private readonly phaseAt: (t: number) => string) {}

  addConversation(c: SoakConversation): void {
    this.conversations.set(c.id, c);
  }

  addDevice(identity: DeviceIdentity): void {
    this.devices.set(identity.key, {
      identity,
      held: new Map(),
      heldMax: new Map(),
      deliveries: 0,
      redeliveries: 0,
      liveMax: new Map(),
      liveSession: 0,
      reorderedLive: 0,
      reorderedSync: 0,
      lateArrivals: 0,
      lastVoluntaryOffline: 0,
    });
    const list = this.devicesByUser.get(identity.userId) ?? [];
    list.push(identity);
    this.devicesByUser.set(identity.userId, list);
  }

  private device(key: string): DeviceRecord {
    const d = this.devices.get(key);
    if (!d) throw new Error(`unknown device ${key}`);
    return d;
  }

  online(key: string, now: number): void {
    const d = this.device(key);
    d.onlineSince = now;
    d.liveSession++;
    d.liveMax.clear();
  }

  offline(key: string, voluntary: boolean, now: number): void {
    const d = this.device(key);
    d.onlineSince = undefined;
    if (voluntary) d.lastVoluntaryOffline = now;
  }

  sendStarted(clientMsgId: string, device: DeviceIdentity, conversationId: string, now: number) {
    this.sends.set(clientMsgId, {
      senderId: device.userId,
      senderDeviceKey: device.key,
      conversationId,
      firstSendAt: now,
      phase: this.phaseAt(now),
      attempts: 0,
    });
  }

  sendAttempted(clientMsgId: string): void {
    const s = this.sends.get(clientMsgId);
    if (s) s.attempts++;
  }

  sendFailed(code: string): void {
    this.sendErrors.set(code, (this.sendErrors.get(code) ?? 0) + 1);
  }

  acked(clientMsgId: string, message: WireMessage, now: number): void {
    const s = this.sends.get(clientMsgId);
    if (!s) return;
    this.noteId(message);
    if (!s.acked) {
      s.acked = message;
      s.ackedAt = now;
    }
  }

  private noteId(m: WireMessage): void {
    const key = `${m.senderId}|${m.clientMsgId.toLowerCase()}`;
    const ids = this.idsByClientMsg.get(key) ?? new Set<string>();
    ids.add(m.id);
    this.idsByClientMsg.set(key, ids);
  }

  /** One arrival on a device, live (`message:new`) or in a sync page. */
  received(key: string, m: WireMessage, via: 'live' | 'sync', now: number): void {
    const d = this.device(key);
    d.deliveries++;
    if (m.type === 'system') return;
    this.noteId(m);
    if (d.held.has(m.id)) {
      d.redeliveries++;
      return;
    }
    const highestHeld = d.heldMax.get(m.conversationId) ?? 0;
    if (m.seq < highestHeld) d.lateArrivals++;
    else d.heldMax.set(m.conversationId, m.seq);
    d.held.set(m.id, m);
    if (via === 'live') {
      const max = d.liveMax.get(m.conversationId) ?? 0;
      if (m.seq < max) {
        d.reorderedLive++;
        if (this.reorderExamples.length < 10) {
          this.reorderExamples.push({
            deviceKey: key,
            conversationId: m.conversationId,
            kind: this.conversations.get(m.conversationId)?.kind ?? '?',
            seq: m.seq,
            afterSeq: max,
            phase: this.phaseAt(now),
            connectedMs: now - (d.onlineSince ?? now),
            senderDeviceId: m.senderDeviceId,
          });
        }
      } else d.liveMax.set(m.conversationId, m.seq);
    }
    const s = this.sends.get(m.clientMsgId);
    if (
      s &&
      d.onlineSince !== undefined &&
      d.onlineSince <= s.firstSendAt &&
      d.lastVoluntaryOffline < s.firstSendAt
    ) {
      // Only devices that were online when the message was first sent and did not leave by
      // choice since: their latency is the system's, not the user's absence.
      const list = this.latency.get(s.phase) ?? [];
      list.push(now - s.firstSendAt);
      this.latency.set(s.phase, list);
    }
  }

  /** A sync run's messages must come in seq order within each conversation. */
  syncOrderViolation(key: string): void {
    this.device(key).reorderedSync++;
  }

  counts(): SoakCounts {
    let acked = 0;
    let expected = 0;
    let delivered = 0;
    let lost = 0;
    const lostExamples: LossExample[] = [];
    const ackedIds = new Set<string>();
    for (const s of this.sends.values()) {
      if (!s.acked) continue;
      acked++;
      ackedIds.add(s.acked.id);
      const conversation = this.conversations.get(s.acked.conversationId);
      if (!conversation) continue;
      for (const userId of conversation.memberUserIds) {
        for (const device of this.devicesByUser.get(userId) ?? []) {
          if (device.deviceId === s.acked.senderDeviceId) continue;
          expected++;
          if (this.device(device.key).held.has(s.acked.id)) delivered++;
          else {
            lost++;
            if (lostExamples.length < 10) {
              lostExamples.push({
                messageId: s.acked.id,
                conversationId: s.acked.conversationId,
                seq: s.acked.seq,
                deviceKey: device.key,
                phase: s.phase,
              });
            }
          }
        }
      }
    }
    // Seqs known to exist (acked or seen anywhere), per conversation.
    const known = new Map<string, Map<number, WireMessage>>();
    const remember = (m: WireMessage) => {
      const bySeq = known.get(m.conversationId) ?? new Map<number, WireMessage>();
      bySeq.set(m.seq, m);
      known.set(m.conversationId, bySeq);
    };
    for (const s of this.sends.values()) if (s.acked) remember(s.acked);
    let redelivered = 0;
    let reorderedLive = 0;
    let reorderedSync = 0;
    let lateArrivals = 0;
    let neverAcked = 0;
    const neverAckedIds = new Set<string>();
    for (const d of this.devices.values()) {
      redelivered += d.redeliveries;
      reorderedLive += d.reorderedLive;
      reorderedSync += d.reorderedSync;
      lateArrivals += d.lateArrivals;
      for (const m of d.held.values()) {
        remember(m);
        if (!ackedIds.has(m.id) && !neverAckedIds.has(m.id)) {
          neverAckedIds.add(m.id);
          neverAcked++;
        }
      }
    }
    // A gap: a seq below the highest a device holds in a conversation, known to exist,
    // meant for that device, and never arrived (whether its sender saw an ack or not).
    let gaps = 0;
    for (const d of this.devices.values()) {
      const highest = new Map<string, number>();
      const heldSeqs = new Map<string, Set<number>>();
      for (const m of d.held.values()) {
        highest.set(m.conversationId, Math.max(highest.get(m.conversationId) ?? 0, m.seq));
        const set = heldSeqs.get(m.conversationId) ?? new Set<number>();
        set.add(m.seq);
        heldSeqs.set(m.conversationId, set);
      }
      for (const [conversationId, top] of highest) {
        const bySeq = known.get(conversationId);
        for (let seq = 1; seq < top; seq++) {
          const m = bySeq?.get(seq);
          if (!m || m.senderDeviceId === d.identity.deviceId) continue;
          if (!heldSeqs.get(conversationId)?.has(seq)) gaps++;
        }
      }
    }
    // The order the server promises: a device's sends to one conversation, each sent after
    // the one before was acked, get increasing seqs; and a message has one seq everywhere.
    let senderOrderBroken = 0;
    const bySender = new Map<string, SendRecord[]>();
    for (const s of this.sends.values()) {
      if (!s.acked) continue;
      const k = `${s.senderDeviceKey}|${s.conversationId}`;
      const list = bySender.get(k) ?? [];
      list.push(s);
      bySender.set(k, list);
    }
    for (const list of bySender.values()) {
      list.sort((a, b) => a.firstSendAt - b.firstSendAt);
      for (let i = 1; i < list.length; i++) {
        const prev = list[i - 1];
        const cur = list[i];
        if (prev.ackedAt! <= cur.firstSendAt && cur.acked!.seq <= prev.acked!.seq)
          senderOrderBroken++;
      }
    }
    let seqConflicts = 0;
    const seqOf = new Map<string, number>();
    for (const s of this.sends.values()) if (s.acked) seqOf.set(s.acked.id, s.acked.seq);
    for (const d of this.devices.values()) {
      for (const m of d.held.values()) {
        const seen = seqOf.get(m.id);
        if (seen === undefined) seqOf.set(m.id, m.seq);
        else if (seen !== m.seq) seqConflicts++;
      }
    }
    let duplicates = 0;
    for (const ids of this.idsByClientMsg.values()) duplicates += ids.size - 1;
    const latency: PhaseLatency[] = [...this.latency.entries()].map(([phase, samples]) => ({
      phase,
      ...summarizeSamples(samples),
    }));
    let sendAttempts = 0;
    let retried = 0;
    for (const s of this.sends.values()) {
      sendAttempts += s.attempts;
      if (s.attempts > 1) retried++;
    }
    return {
      sent: this.sends.size,
      sendAttempts,
      retriedSends: retried,
      acked,
      unacked: this.sends.size - acked,
      expectedDeliveries: expected,
      delivered,
      redelivered,
      lost,
      lostExamples,
      reorderExamples: this.reorderExamples,
      duplicates,
      outOfOrder: reorderedSync + gaps + senderOrderBroken + seqConflicts,
      liveOutOfSeq: reorderedLive,
      outOfOrderSync: reorderedSync,
      gaps,
      senderOrderBroken,
      seqConflicts,
      lateArrivals,
      deliveredButNeverAcked: neverAcked,
      sendErrors: Object.fromEntries(this.sendErrors),
      latency,
    };
  }
}
