export { ParleyClient } from './client';
export type {
  ClientEvents,
  ConnectionState,
  MessageSource,
  ParleyClientOptions,
  PendingSend,
} from './client';
export { ParleyError } from './errors';
export { MemorySessionStore, RestApi } from './rest';
export type { SessionStore, UploadOptions } from './rest';
export { SeqTracker } from './seq-tracker';
export type { Gap } from './seq-tracker';
export { newUuid } from './uuid';
export * from '@parley/protocol';
