/**
 * The wire contract of Parley's client protocol (docs/protocol.md), declared once for the
 * client SDK, the web client and the tests.
 */
export * from './errors';
export * from './events';
export * from './models';
export * from './rest';
