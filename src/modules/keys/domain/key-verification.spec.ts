import { KEMKeyPair, PrivateKey } from '@signalapp/libsignal-client';
import { AppError } from '../../../common/errors';
import { decodeBase64, verifyUpload } from './key-verification';
import type { DeviceKeysUpload } from './keys';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

function validUpload(): DeviceKeysUpload {
  const identity = PrivateKey.generate();
  const signed = PrivateKey.generate().getPublicKey().serialize();
  const kem = KEMKeyPair.generate().getPublicKey().serialize();
  return {
    userId: 'u',
    deviceId: 'd',
    identityKey: b64(identity.getPublicKey().serialize()),
    registrationId: 1,
    signedPreKey: { keyId: 1, publicKey: b64(signed), signature: b64(identity.sign(signed)) },
    preKeys: [{ keyId: 1, publicKey: b64(PrivateKey.generate().getPublicKey().serialize()) }],
    pqLastResortPreKey: { keyId: 2, publicKey: b64(kem), signature: b64(identity.sign(kem)) },
    pqPreKeys: [{ keyId: 3, publicKey: b64(kem), signature: b64(identity.sign(kem)) }],
  };
}

function refusal(upload: DeviceKeysUpload): string {
  try {
    verifyUpload(upload);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('VALIDATION_FAILED');
    return (error as AppError).message;
  }
  throw new Error('accepted');
}

describe('verifyUpload', () => {
  it('accepts keys signed by the identity key', () => {
    expect(() => verifyUpload(validUpload())).not.toThrow();
  });

  it('refuses a signed prekey signed by another key', () => {
    const upload = validUpload();
    const forger = PrivateKey.generate();
    const key = Buffer.from(upload.signedPreKey.publicKey, 'base64');
    upload.signedPreKey.signature = b64(forger.sign(new Uint8Array(key)));
    expect(refusal(upload)).toMatch(/signedPreKey\.signature/);
  });

  it('refuses a Kyber key whose signature is of another key', () => {
    const upload = validUpload();
    upload.pqPreKeys[0].signature = upload.signedPreKey.signature;
    expect(refusal(upload)).toMatch(/pqPreKeys\[0\]\.signature/);
  });

  it('refuses keys that are not what they claim to be', () => {
    const upload = validUpload();
    upload.preKeys[0].publicKey = b64(new Uint8Array(33));
    expect(refusal(upload)).toMatch(/preKeys\[0\]\.publicKey/);
    const swapped = validUpload();
    swapped.pqLastResortPreKey!.publicKey = swapped.signedPreKey.publicKey;
    expect(refusal(swapped)).toMatch(/pqLastResortPreKey\.publicKey/);
  });

  it('refuses base64 that does not decode exactly', () => {
    const upload = validUpload();
    upload.identityKey = `${upload.identityKey.slice(0, -2)}!`;
    expect(refusal(upload)).toMatch(/identityKey must be base64/);
    expect(decodeBase64('AAA')).toBeNull();
    expect(decodeBase64('')).toBeNull();
    expect(decodeBase64('AAE=')).toEqual(new Uint8Array([0, 1]));
  });
});
