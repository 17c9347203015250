import type { CallState } from '../../domain/call';
import { CallStateStore, slotHolders, type ReplaceResult } from '../../ports/call-state.store';

interface Expiring<T> {
  value: T;
  expiresAt: number;
}

/**
 * The embedded shape: one process, so each method runs to completion without interleaving
 * and the compare-and-set needs no lock. Entries expire like the Redis ones do.
 */
export class CallStateMemoryStore extends CallStateStore {
  private readonly calls = new Map<string, Expiring<CallState>>();
  private readonly slots = new Map<string, Expiring<string>>();

  constructor(private readonly now: () => number = Date.now) {
    super();
  }

  create(call: CallState, ttlMs: number): Promise<boolean> {
    const holder = this.live(this.slots, call.callerId);
    if (holder && holder !== call.id) return Promise.resolve(false);
    const expiresAt = this.now() + ttlMs;
    this.calls.set(call.id, { value: structuredClone(call), expiresAt });
    this.slots.set(call.callerId, { value: call.id, expiresAt });
    return Promise.resolve(true);
  }

  get(callId: string): Promise<CallState | null> {
    const call = this.live(this.calls, callId);
    return Promise.resolve(call ? structuredClone(call) : null);
  }

  currentCallOf(userId: string): Promise<string | null> {
    return Promise.resolve(this.live(this.slots, userId) ?? null);
  }

  replace(previous: CallState, next: CallState, ttlMs: number): Promise<ReplaceResult> {
    const stored = this.live(this.calls, previous.id);
    if (!stored) return Promise.resolve('gone');
    if (stored.version !== previous.version) return Promise.resolve('conflict');
    const claims = slotHolders(next);
    for (const userId of claims) {
      const holder = this.live(this.slots, userId);
      if (holder && holder !== next.id) return Promise.resolve('busy');
    }
    const expiresAt = this.now() + ttlMs;
    this.calls.set(next.id, { value: structuredClone(next), expiresAt });
    for (const userId of claims) this.slots.set(userId, { value: next.id, expiresAt });
    for (const userId of slotHolders(previous)) {
      if (!claims.includes(userId) && this.live(this.slots, userId) === next.id) {
        this.slots.delete(userId);
      }
    }
    return Promise.resolve('ok');
  }

  touch(callId: string, ttlMs: number): Promise<boolean> {
    const entry = this.calls.get(callId);
    if (!entry || entry.expiresAt <= this.now()) return Promise.resolve(false);
    entry.expiresAt = this.now() + ttlMs;
    for (const userId of slotHolders(entry.value)) {
      const slot = this.slots.get(userId);
      if (slot?.value === callId) slot.expiresAt = entry.expiresAt;
    }
    return Promise.resolve(true);
  }

  private live<T>(map: Map<string, Expiring<T>>, key: string): T | undefined {
    const entry = map.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      map.delete(key);
      return undefined;
    }
    return entry.value;
  }
}
