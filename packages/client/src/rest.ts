import {
  API_BASE,
  type ClientConfig,
  type ContactMatch,
  type Conversation,
  type CreateGroupRequest,
  type Device,
  type Group,
  type GroupAddResult,
  type GroupMembersPage,
  type HistoryPage,
  type HistoryQuery,
  type KeyBundle,
  type KeyCounts,
  type UploadKeysRequest,
  type MediaInfo,
  type MemberRole,
  type MessageReceipt,
  type OtpResponse,
  type OwnProfile,
  type Presence,
  type PublicProfile,
  type TokenPair,
  type UpdateGroupRequest,
  type UpdateProfileRequest,
  type VerifyRequest,
} from '@parley/protocol';
import { ParleyError } from './errors';

/** Where the session lives between page loads or process runs; memory by default. */
export interface SessionStore {
  load(): TokenPair | null;
  save(session: TokenPair | null): void;
}

export class MemorySessionStore implements SessionStore {
  private session: TokenPair | null = null;
  load(): TokenPair | null {
    return this.session;
  }
  save(session: TokenPair | null): void {
    this.session = session;
  }
}

export interface UploadOptions {
  fileName?: string;
  /** Called with the fraction sent, 0..1 (browsers only report steps between). */
  onProgress?: (fraction: number) => void;
}

/** The part of XMLHttpRequest the upload uses (browsers have it; Node does not). */
interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: unknown): void;
  upload: { onprogress: ((e: { loaded: number; total: number }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  status: number;
  responseText: string;
}

const query = (params: object): string => {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null);
  if (!entries.length) return '';
  return (
    '?' + new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString()
  );
};

/**
 * The REST API under /api/v1. Authenticated calls carry the session's access token and,
 * on UNAUTHORIZED, refresh it once and retry.
 */
export class RestApi {
  private refreshing?: Promise<TokenPair>;

  constructor(
    private readonly baseUrl: string,
    private readonly store: SessionStore,
    private readonly onSession: (session: TokenPair | null) => void,
  ) {}

  get session(): TokenPair | null {
    return this.store.load();
  }

  // ---- sign-in ------------------------------------------------------------------------

  clientConfig(): Promise<ClientConfig> {
    return this.call('GET', '/client-config', { anonymous: true });
  }

  requestCode(phone: string): Promise<OtpResponse> {
    return this.call('POST', '/auth/otp', { body: { phone }, anonymous: true });
  }

  async verify(request: VerifyRequest): Promise<TokenPair> {
    const pair = await this.call<TokenPair>('POST', '/auth/verify', {
      body: request,
      anonymous: true,
    });
    this.setSession(pair);
    return pair;
  }

  /** Swaps the refresh token for a new pair; concurrent callers share one request. */
  refresh(): Promise<TokenPair> {
    this.refreshing ??= (async () => {
      const current = this.session;
      if (!current) throw new ParleyError({ code: 'UNAUTHORIZED', message: 'not signed in' }, 401);
      try {
        const pair = await this.call<TokenPair>('POST', '/auth/refresh', {
          body: { refreshToken: current.refreshToken },
          anonymous: true,
        });
        this.setSession(pair);
        return pair;
      } catch (error) {
        if (error instanceof ParleyError && error.code === 'UNAUTHORIZED') this.setSession(null);
        throw error;
      }
    })().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  async logout(): Promise<void> {
    try {
      if (this.session) await this.call<void>('POST', '/auth/logout');
    } finally {
      this.setSession(null);
    }
  }

  // ---- users and devices --------------------------------------------------------------

  me(): Promise<OwnProfile> {
    return this.call('GET', '/users/me');
  }
  updateMe(patch: UpdateProfileRequest): Promise<OwnProfile> {
    return this.call('PATCH', '/users/me', { body: patch });
  }
  user(id: string): Promise<PublicProfile> {
    return this.call('GET', `/users/${id}`);
  }
  presence(userId: string): Promise<Presence> {
    return this.call('GET', `/users/${userId}/presence`);
  }
  /**
   * Replaces the user's contacts with these phone numbers and answers the registered
   * ones (contact discovery). Send the whole address book: numbers left out are dropped.
   */
  replaceContacts(phones: string[]): Promise<ContactMatch[]> {
    return this.call('PUT', '/contacts', { body: { phones } });
  }
  contacts(): Promise<ContactMatch[]> {
    return this.call('GET', '/contacts');
  }
  devices(): Promise<Device[]> {
    return this.call('GET', '/devices');
  }
  removeDevice(deviceId: string): Promise<void> {
    return this.call('DELETE', `/devices/${deviceId}`);
  }

  // ---- conversations and messages ------------------------------------------------------

  conversations(): Promise<Conversation[]> {
    return this.call('GET', '/conversations');
  }
  conversation(id: string): Promise<Conversation> {
    return this.call('GET', `/conversations/${id}`);
  }
  directConversation(userId: string): Promise<Conversation> {
    return this.call('POST', '/conversations/direct', { body: { userId } });
  }
  /** One page of history in ascending seq; without cursors the latest page. */
  history(conversationId: string, page: HistoryQuery = {}): Promise<HistoryPage> {
    return this.call('GET', `/conversations/${conversationId}/messages${query(page)}`);
  }
  receipts(messageId: string): Promise<MessageReceipt[]> {
    return this.call('GET', `/messages/${messageId}/receipts`);
  }

  // ---- groups --------------------------------------------------------------------------

  createGroup(request: CreateGroupRequest): Promise<GroupAddResult> {
    return this.call('POST', '/groups', { body: request });
  }
  group(id: string): Promise<Group> {
    return this.call('GET', `/groups/${id}`);
  }
  updateGroup(id: string, patch: UpdateGroupRequest): Promise<Group> {
    return this.call('PATCH', `/groups/${id}`, { body: patch });
  }
  groupMembers(
    id: string,
    page: { cursor?: string; limit?: number } = {},
  ): Promise<GroupMembersPage> {
    return this.call('GET', `/groups/${id}/members${query(page)}`);
  }
  addMembers(id: string, userIds: string[]): Promise<GroupAddResult> {
    return this.call('POST', `/groups/${id}/members`, { body: { userIds } });
  }
  /** Removes a member (admins), or leaves when `userId` is your own. */
  removeMember(id: string, userId: string): Promise<void> {
    return this.call('DELETE', `/groups/${id}/members/${userId}`);
  }
  setRole(id: string, userId: string, role: Exclude<MemberRole, 'creator'>): Promise<void> {
    return this.call('PUT', `/groups/${id}/members/${userId}/role`, { body: { role } });
  }

  // ---- end-to-end encryption keys ------------------------------------------------------

  /** Stores this device's public keys (signatures are checked by the server). */
  uploadKeys(request: UploadKeysRequest): Promise<void> {
    return this.call('PUT', '/keys', { body: request });
  }
  keyCount(): Promise<KeyCounts> {
    return this.call('GET', '/keys/count');
  }
  /** A prekey bundle of one device of the user, or of all of them (`*`); rate limited. */
  keyBundle(userId: string, deviceId: string): Promise<KeyBundle> {
    return this.call('GET', `/keys/${userId}/${deviceId}`);
  }

  // ---- media ---------------------------------------------------------------------------

  mediaInfo(mediaId: string): Promise<MediaInfo> {
    return this.call('GET', `/media/${mediaId}/info`);
  }

  /** Fetches an authenticated path under the API (e.g. a thumbnailUrl) as a Blob. */
  async blob(path: string): Promise<Blob> {
    const relative = path.startsWith(API_BASE) ? path.slice(API_BASE.length) : path;
    const response = await this.authorized((token) =>
      fetch(this.url(relative), { headers: { authorization: `Bearer ${token}` } }),
    );
    if (!response.ok) throw ParleyError.from(await readBody(response), response.status);
    return response.blob();
  }

  /** Uploads a file (multipart); the server reads its type from the bytes. */
  async upload(file: Blob, options: UploadOptions = {}): Promise<MediaInfo> {
    const form = new FormData();
    form.append('file', file, options.fileName ?? fileNameOf(file));
    const Xhr = (globalThis as { XMLHttpRequest?: new () => XhrLike }).XMLHttpRequest;
    if (!Xhr || !options.onProgress) {
      const response = await this.authorized((token) =>
        fetch(this.url('/media'), {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
          body: form,
        }),
      );
      const body = await readBody(response);
      if (!response.ok) throw ParleyError.from(body, response.status);
      options.onProgress?.(1);
      return body as MediaInfo;
    }
    const onProgress = options.onProgress;
    const send = (token: string) =>
      new Promise<{ status: number; body: unknown }>((resolve, reject) => {
        const xhr = new Xhr();
        xhr.open('POST', this.url('/media'));
        xhr.setRequestHeader('authorization', `Bearer ${token}`);
        xhr.upload.onprogress = (e) => e.total && onProgress(e.loaded / e.total);
        xhr.onload = () => resolve({ status: xhr.status, body: parseJson(xhr.responseText) });
        xhr.onerror = () => reject(new ParleyError({ code: 'INTERNAL', message: 'upload failed' }));
        xhr.send(form);
      });
    let result = await send(this.token());
    if (result.status === 401) result = await send((await this.refresh()).accessToken);
    if (result.status >= 400) throw ParleyError.from(result.body, result.status);
    onProgress(1);
    return result.body as MediaInfo;
  }

  // ---- plumbing ------------------------------------------------------------------------

  setSession(session: TokenPair | null): void {
    this.store.save(session);
    this.onSession(session);
  }

  private token(): string {
    const session = this.session;
    if (!session) throw new ParleyError({ code: 'UNAUTHORIZED', message: 'not signed in' }, 401);
    return session.accessToken;
  }

  private url(path: string): string {
    return `${this.baseUrl}${API_BASE}${path}`;
  }

  private async authorized(request: (token: string) => Promise<Response>): Promise<Response> {
    const response = await request(this.token());
    if (response.status !== 401) return response;
    return request((await this.refresh()).accessToken);
  }

  async call<T>(
    method: string,
    path: string,
    options: { body?: unknown; anonymous?: boolean } = {},
  ): Promise<T> {
    const send = (token?: string) => {
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      return fetch(this.url(path), {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
    };
    const response = options.anonymous ? await send() : await this.authorized(send);
    const body = await readBody(response);
    if (!response.ok) throw ParleyError.from(body, response.status);
    return body as T;
  }
}

async function readBody(response: Response): Promise<unknown> {
  return parseJson(await response.text());
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function fileNameOf(file: Blob): string {
  const name = (file as { name?: unknown }).name;
  return typeof name === 'string' && name ? name : 'file';
}
