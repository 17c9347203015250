/** Most envelopes in one send (the socket frame limit bounds their total size too). */
export const MAX_ENVELOPES = 4096;

/** One device's copy of an end-to-end encrypted message: ciphertext only that device can read. */
export interface MessageEnvelope {
  deviceId: string;
  body: string;
}

/** How a send's envelope set differs from one member's current devices. */
export interface DeviceMismatch {
  /** Null for envelope devices that belong to no member of the conversation. */
  userId: string | null;
  missingDevices: string[];
  extraDevices: string[];
}

/**
 * Compares the envelope devices with the members' current devices, leaving out the
 * sending device: a sender addresses every other device of every member, its own user's
 * included. Devices are `{ id, userId, active }` of the members, revoked ones included,
 * so an envelope for a member's removed device is reported under that member.
 */
export function deviceMismatches(
  memberIds: readonly string[],
  devices: ReadonlyArray<{ id: string; userId: string; active: boolean }>,
  senderDeviceId: string,
  envelopeDeviceIds: readonly string[],
): DeviceMismatch[] {
  const members = new Set(memberIds);
  const ownerOf = new Map<string, string>();
  const expected = new Map<string, Set<string>>();
  for (const d of devices) {
    if (!members.has(d.userId)) continue;
    ownerOf.set(d.id, d.userId);
    if (d.active && d.id !== senderDeviceId) {
      let set = expected.get(d.userId);
      if (!set) expected.set(d.userId, (set = new Set()));
      set.add(d.id);
    }
  }
  const byUser = new Map<string | null, DeviceMismatch>();
  const entry = (userId: string | null): DeviceMismatch => {
    let m = byUser.get(userId);
    if (!m) byUser.set(userId, (m = { userId, missingDevices: [], extraDevices: [] }));
    return m;
  };
  const given = new Set(envelopeDeviceIds);
  for (const deviceId of given) {
    const owner = ownerOf.get(deviceId) ?? null;
    if (!owner || !expected.get(owner)?.has(deviceId)) entry(owner).extraDevices.push(deviceId);
  }
  for (const [userId, ids] of expected)
    for (const id of ids) if (!given.has(id)) entry(userId).missingDevices.push(id);
  return [...byUser.values()];
}
