/**
 * End-to-end encryption for @parley/client, in Node: libsignal-client has no browser
 * build, so it is a separate entry point (`@parley/client/e2e`) that browsers never load.
 */
export { E2eClient } from './e2e-client';
export type { E2eEvents, E2eMessage, E2eOptions } from './e2e-client';
export { IdentityKeyPair } from '@signalapp/libsignal-client';
