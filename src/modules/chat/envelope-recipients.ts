import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '../../common/errors';
import { AuthService } from '../auth/auth.service';
import { deviceMismatches, type MessageEnvelope } from './domain/envelopes';

/**
 * Checks a per-device envelope send against the members' current devices before anything
 * is stored, so a sender who missed a device (or still addresses a removed one) learns it
 * and re-encrypts: a set that does not match is DEVICES_CHANGED with the differences.
 */
@Injectable()
export class EnvelopeRecipients {
  constructor(private readonly auth: AuthService) {}

  /** The owner of each envelope's device; throws DEVICES_CHANGED on any mismatch. */
  async check(
    memberIds: readonly string[],
    senderDeviceId: string,
    envelopes: readonly MessageEnvelope[],
  ): Promise<Map<string, string>> {
    const devices = await this.auth.devicesOf(memberIds);
    const mismatches = deviceMismatches(
      memberIds,
      devices,
      senderDeviceId,
      envelopes.map((e) => e.deviceId),
    );
    if (mismatches.length) {
      throw new AppError(
        ErrorCode.DEVICES_CHANGED,
        "The envelopes do not match the members' current devices",
        { details: mismatches.map((m) => ({ ...m })) },
      );
    }
    const owners = new Map<string, string>();
    for (const d of devices) owners.set(d.id, d.userId);
    return owners;
  }
}
