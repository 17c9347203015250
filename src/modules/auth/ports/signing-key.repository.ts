export interface SigningKey {
  kid: string;
  secret: string;
  createdAt: Date;
}

/** Secrets every instance on one database shares: token signing keys and named secrets. */
export abstract class SigningKeyRepository {
  /** Every stored signing key, newest first. */
  abstract list(): Promise<SigningKey[]>;
  /**
   * Stores `key` unless a key created after `unlessNewerThan` exists, so instances that
   * rotate at the same moment add one key, not one each. Returns whether it was stored.
   */
  abstract addUnlessNewerExists(
    key: { kid: string; secret: string },
    unlessNewerThan: Date,
  ): Promise<boolean>;
  /** Deletes keys created before `before`, never the newest one. Returns how many. */
  abstract deleteCreatedBefore(before: Date): Promise<number>;
  /** The named secret, created from `candidate` by whichever instance asks first. */
  abstract namedSecret(name: string, candidate: string): Promise<string>;
}
