import { Injectable, OnModuleInit } from '@nestjs/common';
import type { AuthContext } from '../../common/auth/auth-context';
import { AppConfig } from '../../common/config/app-config';
import { AppError } from '../../common/errors';
import { DomainEvents } from '../../common/events/domain-events';
import { RateLimiter } from '../../common/rate-limit/rate-limiter';
import { RealtimeEmitter } from '../../common/realtime/realtime.emitter';
import { ChatService } from '../chat/chat.service';
import { verifyUpload } from './domain/key-verification';
import type { DeviceBundle, KeyCounts, PreKey } from './domain/keys';
import type { UploadKeysDto } from './dto/keys.dto';
import { KeyRepository } from './ports/key.repository';

export interface KeyBundle {
  identityKey: string;
  devices: DeviceBundle[];
}

/** Key distribution for end-to-end encryption: the server stores and hands out public keys. */
@Injectable()
export class KeysService implements OnModuleInit {
  constructor(
    private readonly keys: KeyRepository,
    private readonly chat: ChatService,
    private readonly realtime: RealtimeEmitter,
    private readonly limiter: RateLimiter,
    private readonly events: DomainEvents,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    // A removed or logged-out device must not be handed out as a recipient any more.
    this.events.on('device.revoked', ({ deviceId }) => this.keys.deleteDevice(deviceId));
  }

  async upload(caller: AuthContext, dto: UploadKeysDto): Promise<void> {
    const upload = {
      userId: caller.userId,
      deviceId: caller.deviceId,
      identityKey: dto.identityKey,
      registrationId: dto.registrationId,
      signedPreKey: dto.signedPreKey,
      preKeys: dto.preKeys ?? [],
      pqLastResortPreKey: dto.pqLastResortPreKey ?? null,
      pqPreKeys: dto.pqPreKeys ?? [],
    };
    uniqueIds(upload.preKeys, 'preKeys');
    uniqueIds(upload.pqPreKeys, 'pqPreKeys');
    verifyUpload(upload);
    const { identityChanged } = await this.keys.store(upload);
    if (identityChanged) {
      const partners = await this.chat.conversationPartners(caller.userId);
      this.realtime.toUsers(partners, 'identity:changed', { userId: caller.userId });
    }
  }

  counts(caller: AuthContext): Promise<KeyCounts> {
    return this.keys.counts(caller.deviceId);
  }

  /**
   * A prekey bundle of one device of the user, or of all its devices with keys (`*`),
   * each one-time key handed out once. Rate limited per requester and target device.
   */
  async fetch(caller: AuthContext, userId: string, deviceId: string): Promise<KeyBundle> {
    const wanted = deviceId === '*' ? null : [deviceId];
    const limited = await this.consumeFetches(
      caller,
      wanted ?? (await this.keys.deviceIdsWithKeys(userId)),
    );
    const taken = await this.keys.take(userId, wanted);
    if (!taken || (wanted && !taken.devices.length)) {
      await this.refund(limited);
      throw AppError.notFound(wanted ? 'Device keys' : 'Keys');
    }
    const threshold = this.config.keys.lowThreshold;
    for (const d of taken.devices) {
      if (d.remaining.count < threshold || d.remaining.pqCount < threshold)
        this.realtime.toDevice(d.deviceId, 'keys:low', d.remaining);
    }
    return {
      identityKey: taken.identityKey,
      devices: taken.devices.map(({ remaining: _remaining, ...bundle }) => bundle),
    };
  }

  /**
   * One fetch per target device against KEYS_FETCH_BURST in BURST × REFILL seconds, the
   * long-run rate of a token bucket refilling one fetch per KEYS_FETCH_REFILL_SEC. A
   * request refused for one device counts against none.
   */
  private async consumeFetches(
    caller: AuthContext,
    deviceIds: readonly string[],
  ): Promise<string[]> {
    const { fetchBurst, fetchRefillSec } = this.config.keys;
    if (fetchBurst <= 0) return [];
    const windowMs = fetchBurst * fetchRefillSec * 1000;
    const consumed: string[] = [];
    for (const target of deviceIds) {
      const key = `keys:fetch:${caller.userId}:${target}`;
      const decision = await this.limiter.consume(key, fetchBurst, windowMs);
      if (!decision.allowed) {
        await this.refund(consumed);
        throw AppError.rateLimited(decision.retryAfterMs, 'Too many key fetches for this device');
      }
      consumed.push(key);
    }
    return consumed;
  }

  private async refund(keys: readonly string[]): Promise<void> {
    for (const key of keys) await this.limiter.refund(key);
  }
}

function uniqueIds(keys: readonly PreKey[], field: string): void {
  const seen = new Set<number>();
  for (const k of keys) {
    if (seen.has(k.keyId)) throw AppError.validation(`${field}: keyId ${k.keyId} appears twice`);
    seen.add(k.keyId);
  }
}
