import { KEMPublicKey, PublicKey } from '@signalapp/libsignal-client';
import { AppError } from '../../../common/errors';
import type { DeviceKeysUpload, SignedPreKey } from './keys';

/** Base64 (standard alphabet, padded as produced by Buffer) decoded exactly, or null. */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length ? new Uint8Array(bytes) : null;
}

function bytesOf(text: string, field: string): Uint8Array<ArrayBuffer> {
  const bytes = decodeBase64(text);
  if (!bytes) throw AppError.validation(`${field} must be base64`);
  return bytes;
}

/** The key's bytes, once libsignal accepts them as the kind of key the field names. */
function keyOf(
  text: string,
  field: string,
  deserialize: (bytes: Uint8Array<ArrayBuffer>) => unknown,
  kind: string,
): Uint8Array<ArrayBuffer> {
  const bytes = bytesOf(text, field);
  try {
    deserialize(bytes);
  } catch {
    throw AppError.validation(`${field} is not a serialized ${kind} public key`);
  }
  return bytes;
}

const ecKey = (text: string, field: string) =>
  keyOf(text, field, (b) => PublicKey.deserialize(b), 'Curve25519');
const kemKey = (text: string, field: string) =>
  keyOf(text, field, (b) => KEMPublicKey.deserialize(b), 'Kyber');

function checkSignature(
  identity: PublicKey,
  key: Uint8Array<ArrayBuffer>,
  signed: SignedPreKey,
  field: string,
): void {
  const signature = bytesOf(signed.signature, `${field}.signature`);
  let valid = false;
  try {
    valid = identity.verify(key, signature);
  } catch {
    valid = false;
  }
  if (!valid) throw AppError.validation(`${field}.signature does not verify against identityKey`);
}

/**
 * Checks an upload with libsignal itself: every key deserializes as the type it claims,
 * and every signed key's signature verifies against the identity key, so a bundle handed
 * out later never fails a client's own check. Throws VALIDATION_FAILED naming the field.
 */
export function verifyUpload(upload: DeviceKeysUpload): void {
  const identity = PublicKey.deserialize(ecKey(upload.identityKey, 'identityKey'));
  const signedKey = ecKey(upload.signedPreKey.publicKey, 'signedPreKey.publicKey');
  checkSignature(identity, signedKey, upload.signedPreKey, 'signedPreKey');
  upload.preKeys.forEach((k, i) => ecKey(k.publicKey, `preKeys[${i}].publicKey`));
  if (upload.pqLastResortPreKey) {
    const key = kemKey(upload.pqLastResortPreKey.publicKey, 'pqLastResortPreKey.publicKey');
    checkSignature(identity, key, upload.pqLastResortPreKey, 'pqLastResortPreKey');
  }
  upload.pqPreKeys.forEach((k, i) => {
    const key = kemKey(k.publicKey, `pqPreKeys[${i}].publicKey`);
    checkSignature(identity, key, k, `pqPreKeys[${i}]`);
  });
}
