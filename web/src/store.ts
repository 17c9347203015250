import {
  ParleyClient,
  ParleyError,
  type ClientConfig,
  type Conversation,
  type Device,
  type Group,
  type MediaInfo,
  type Message,
  type OwnProfile,
  type PendingSend,
  type Presence,
  type SessionStore,
  type TokenPair,
} from '@parley/client';

const SESSION_KEY = 'parley.session';

/** Keeps the session in localStorage, so a reload stays signed in on the same device. */
const localSessionStore: SessionStore = {
  load() {
    const raw = localStorage.getItem(SESSION_KEY);
    if (!raw) return null;
    try {
      return JSON.parse(raw) as TokenPair;
    } catch {
      return null;
    }
  },
  save(session) {
    if (session) localStorage.setItem(SESSION_KEY, JSON.stringify(session));
    else localStorage.removeItem(SESSION_KEY);
  },
};

export type Tick = 'pending' | 'sent' | 'delivered' | 'read';
export type Panel = 'none' | 'devices' | 'new-chat' | 'new-group' | 'group-info' | 'profile';

interface ChatState {
  messages: Message[];
  hasOlder: boolean;
  loading: boolean;
}

export interface Upload {
  fileName: string;
  fraction: number;
}

/** The events a message stream carries besides visible messages. */
const EVENT_TYPES = new Set(['edit', 'delete', 'reaction']);

/**
 * Everything the page shows, kept up to date from the SDK's events. Components read it
 * and re-render on `subscribe`; every change goes through a method here.
 */
export class Store {
  readonly client = new ParleyClient({ url: location.origin, sessionStore: localSessionStore });
  serverConfig: ClientConfig | null = null;
  me: OwnProfile | null = null;
  conversations = new Map<string, Conversation>();
  chats = new Map<string, ChatState>();
  openId: string | null = null;
  panel: Panel = 'none';
  presence = new Map<string, Presence>();
  names = new Map<string, string>();
  typing = new Map<string, Map<string, number>>();
  thumbnails = new Map<string, string>();
  devices: Device[] = [];
  group: Group | null = null;
  upload: Upload | null = null;
  error: string | null = null;
  needsName = false;
  private listeners = new Set<() => void>();
  private receiptRefresh = new Map<string, ReturnType<typeof setTimeout>>();
  private thumbnailLoads = new Set<string>();

  constructor() {
    const c = this.client;
    c.on('session', (s) => {
      if (!s) this.reset();
      this.changed();
    });
    c.on('connection', () => this.changed());
    c.on('outbox', () => this.changed());
    c.on('message', ({ message }) => this.onMessage(message));
    c.on('synced', () => void this.loadConversations());
    c.on('receipt', (r) => this.refreshConversationSoon(r.conversationId));
    c.on('conversation:updated', (e) => this.refreshConversationSoon(e.conversationId));
    c.on('presence', (p) => {
      this.presence.set(p.userId, p);
      this.changed();
    });
    c.on('typing', (t) => this.onTyping(t.conversationId, t.userId, t.isTyping, t.expiresInMs));
    c.on('media:ready', (m) => {
      if (m.thumbnailUrl) void this.loadThumbnail(m.mediaId, m.thumbnailUrl);
    });
  }

  // ---- subscription ------------------------------------------------------------------

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  get signedIn(): boolean {
    return this.client.session !== null;
  }

  get online(): boolean {
    return this.client.connectionState === 'connected';
  }

  private reset(): void {
    this.me = null;
    this.conversations.clear();
    this.chats.clear();
    this.openId = null;
    this.panel = 'none';
    this.presence.clear();
    for (const url of this.thumbnails.values()) URL.revokeObjectURL(url);
    this.thumbnails.clear();
    this.thumbnailLoads.clear();
  }

  /** Runs an action and shows its error (the protocol's message) instead of throwing. */
  async attempt<T>(action: () => Promise<T>): Promise<T | undefined> {
    try {
      this.error = null;
      return await action();
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
      this.changed();
      return undefined;
    }
  }

  dismissError(): void {
    this.error = null;
    this.changed();
  }

  // ---- sign-in -------------------------------------------------------------------------

  async start(): Promise<void> {
    this.serverConfig = await this.client.api.clientConfig().catch(() => null);
    this.changed();
    if (this.signedIn) await this.enter();
  }

  async requestCode(phone: string): Promise<void> {
    await this.client.requestCode(phone);
  }

  async signIn(phone: string, code: string): Promise<void> {
    const pair = await this.client.signIn(phone, code, {
      deviceName: browserName(),
      platform: 'web',
    });
    this.needsName = pair.isNewUser;
    await this.enter();
  }

  private async enter(): Promise<void> {
    this.me = await this.client.api.me();
    if (!this.me.displayName) this.needsName = true;
    this.names.set(this.me.id, this.me.displayName || 'You');
    this.changed();
    await this.loadConversations();
    await this.client.connect().catch(() => undefined);
    this.changed();
  }

  async setDisplayName(displayName: string): Promise<void> {
    this.me = await this.client.api.updateMe({ displayName });
    this.needsName = false;
    this.changed();
  }

  async signOut(): Promise<void> {
    await this.client.signOut().catch(() => undefined);
    this.reset();
    this.changed();
  }

  // ---- panels ------------------------------------------------------------------------

  show(panel: Panel): void {
    this.panel = panel;
    this.error = null;
    if (panel === 'devices') void this.attempt(() => this.loadDevices());
    if (panel === 'group-info' && this.openId)
      void this.attempt(() => this.loadGroup(this.openId!));
    this.changed();
  }

  async loadDevices(): Promise<void> {
    this.devices = await this.client.api.devices();
    this.changed();
  }

  async removeDevice(id: string): Promise<void> {
    await this.client.api.removeDevice(id);
    await this.loadDevices();
  }

  // ---- conversations -----------------------------------------------------------------

  get conversationList(): Conversation[] {
    return [...this.conversations.values()].sort((a, b) =>
      activityOf(b).localeCompare(activityOf(a)),
    );
  }

  async loadConversations(): Promise<void> {
    const list = await this.client.api.conversations();
    this.conversations = new Map(list.map((c) => [c.id, c]));
    const peers = list.filter((c) => c.peerId).map((c) => c.peerId!);
    this.changed();
    if (peers.length && this.online) {
      const states = await this.client.watchPresence(peers).catch(() => []);
      for (const p of states) this.presence.set(p.userId, p);
      this.changed();
    } else if (peers.length) {
      await this.client.watchPresence(peers);
    }
  }

  private refreshConversationSoon(id: string): void {
    if (this.receiptRefresh.has(id)) return;
    this.receiptRefresh.set(
      id,
      setTimeout(() => {
        this.receiptRefresh.delete(id);
        void this.refreshConversation(id);
      }, 100),
    );
  }

  private async refreshConversation(id: string): Promise<void> {
    const conversation = await this.client.api.conversation(id).catch(() => undefined);
    if (!conversation) return;
    if (id === this.openId) conversation.unreadCount = 0;
    this.conversations.set(id, conversation);
    if (conversation.peerId && !this.presence.has(conversation.peerId)) {
      const [p] = await this.client.watchPresence([conversation.peerId]).catch(() => []);
      if (p) this.presence.set(p.userId, p);
    }
    this.changed();
  }

  /** Opens a chat: its latest history page, then everything in it is read. */
  async open(id: string | null): Promise<void> {
    this.openId = id;
    this.panel = 'none';
    this.group = null;
    this.changed();
    if (!id) return;
    if (!this.chats.has(id)) {
      this.chats.set(id, { messages: [], hasOlder: false, loading: true });
      const page = await this.client.api.history(id);
      const chat = { messages: [] as Message[], hasOlder: page.hasMore, loading: false };
      this.chats.set(id, chat);
      for (const m of page.messages) this.apply(chat, m);
      const last = page.messages.at(-1);
      if (last) this.client.markKnown(id, last.seq);
      void this.loadNames(page.messages.map((m) => m.senderId));
    }
    this.markOpenRead();
    this.changed();
  }

  async loadOlder(): Promise<void> {
    const id = this.openId;
    const chat = id ? this.chats.get(id) : undefined;
    if (!id || !chat || chat.loading || !chat.hasOlder) return;
    const first = chat.messages[0]?.seq;
    chat.loading = true;
    this.changed();
    const page = await this.client.api.history(id, { beforeSeq: first });
    for (const m of page.messages) this.apply(chat, m);
    chat.hasOlder = page.hasMore;
    chat.loading = false;
    void this.loadNames(page.messages.map((m) => m.senderId));
    this.changed();
  }

  /** Acks read up to the last message of the open chat, when the page is visible. */
  markOpenRead(): void {
    const id = this.openId;
    const conversation = id ? this.conversations.get(id) : undefined;
    if (!id || !conversation || document.visibilityState !== 'visible') return;
    const last = this.chats.get(id)?.messages.at(-1)?.seq ?? conversation.lastSeq;
    if (conversation.unreadCount || last > conversation.readSeq) {
      conversation.unreadCount = 0;
      conversation.readSeq = Math.max(conversation.readSeq, last);
      if (this.online && last > 0) void this.client.markRead(id, last).catch(() => undefined);
      this.changed();
    }
  }

  private onMessage(message: Message): void {
    const id = message.conversationId;
    const conversation = this.conversations.get(id);
    const chat = this.chats.get(id);
    if (chat && !chat.loading) this.apply(chat, message);
    if (!conversation) {
      void this.refreshConversation(id);
    } else if (!EVENT_TYPES.has(message.type)) {
      conversation.lastMessage = message;
      conversation.lastSeq = Math.max(conversation.lastSeq, message.seq);
      if (message.senderId !== this.me?.id && id !== this.openId) conversation.unreadCount += 1;
    }
    if (message.type === 'system') {
      // Membership, name or settings changed: the conversation's own view says how.
      this.refreshConversationSoon(id);
      if (id === this.openId && this.panel === 'group-info') {
        void this.loadGroup(id).catch(() => undefined);
      }
    }
    this.typing.get(id)?.delete(message.senderId);
    void this.loadNames([message.senderId]);
    if (id === this.openId) this.markOpenRead();
    this.changed();
  }

  /** Puts a message in seq order, or applies an edit, delete or reaction to its target. */
  private apply(chat: ChatState, message: Message): void {
    const list = chat.messages;
    if (EVENT_TYPES.has(message.type)) {
      const target = list.find((m) => m.id === message.targetId);
      if (!target) return;
      if (message.type === 'edit' && message.body !== null) {
        target.body = message.body;
        target.editedAt = message.createdAt;
      } else if (message.type === 'delete') {
        target.body = null;
        target.mediaId = null;
        target.deletedAt = message.createdAt;
      } else if (message.type === 'reaction') {
        const reactions = (target.reactions ?? []).map((r) => ({
          emoji: r.emoji,
          userIds: r.userIds.filter((u) => u !== message.senderId),
        }));
        if (message.body) {
          const existing = reactions.find((r) => r.emoji === message.body);
          if (existing) existing.userIds.push(message.senderId);
          else reactions.push({ emoji: message.body, userIds: [message.senderId] });
        }
        target.reactions = reactions.filter((r) => r.userIds.length);
      }
      return;
    }
    if (list.some((m) => m.id === message.id)) return;
    let i = list.length;
    while (i > 0 && list[i - 1].seq > message.seq) i -= 1;
    list.splice(i, 0, message);
  }

  /** A message's tick as its sender sees it, from the other members' lowest watermarks. */
  tickOf(message: Message): Tick {
    const conversation = this.conversations.get(message.conversationId);
    if (!conversation) return 'sent';
    if (conversation.peerReadSeq >= message.seq) return 'read';
    if (conversation.peerDeliveredSeq >= message.seq) return 'delivered';
    return 'sent';
  }

  pendingIn(conversationId: string): PendingSend[] {
    const peer = this.conversations.get(conversationId)?.peerId;
    return this.client.pending.filter(
      (p) =>
        p.payload.conversationId === conversationId ||
        (peer !== null && peer !== undefined && p.payload.recipientId === peer),
    );
  }

  // ---- names, presence, typing -------------------------------------------------------

  nameOf(userId: string): string {
    return this.names.get(userId) ?? 'Someone';
  }

  private async loadNames(userIds: string[]): Promise<void> {
    const missing = [...new Set(userIds)].filter((id) => !this.names.has(id));
    if (!missing.length) return;
    for (const id of missing) this.names.set(id, '…');
    await Promise.all(
      missing.map(async (id) => {
        const user = await this.client.api.user(id).catch(() => undefined);
        this.names.set(id, user?.displayName || 'Unknown');
      }),
    );
    this.changed();
  }

  private onTyping(conversationId: string, userId: string, isTyping: boolean, ms: number): void {
    let map = this.typing.get(conversationId);
    if (!map) this.typing.set(conversationId, (map = new Map<string, number>()));
    if (isTyping) {
      map.set(userId, Date.now() + ms);
      void this.loadNames([userId]);
      setTimeout(() => this.changed(), ms + 50);
    } else map.delete(userId);
    this.changed();
  }

  typingIn(conversationId: string): string[] {
    const now = Date.now();
    return [...(this.typing.get(conversationId) ?? [])]
      .filter(([, until]) => until > now)
      .map(([userId]) => userId);
  }

  private lastTypingSent = 0;

  /** Tells the others this user is typing, at most every two seconds. */
  typed(conversationId: string, text: string): void {
    if (!this.online) return;
    const now = Date.now();
    if (!text) {
      this.lastTypingSent = 0;
      void this.client.typing(conversationId, false).catch(() => undefined);
    } else if (now - this.lastTypingSent > 2000) {
      this.lastTypingSent = now;
      void this.client.typing(conversationId, true).catch(() => undefined);
    }
  }

  // ---- sending -----------------------------------------------------------------------

  sendText(conversationId: string, body: string): void {
    void this.client.typing(conversationId, false).catch(() => undefined);
    this.lastTypingSent = 0;
    this.client.send({ conversationId, type: 'text', body }).catch((e: unknown) => this.fail(e));
    this.changed();
  }

  async sendFile(conversationId: string, file: File): Promise<void> {
    this.upload = { fileName: file.name, fraction: 0 };
    this.changed();
    try {
      const media: MediaInfo = await this.client.api.upload(file, {
        fileName: file.name,
        onProgress: (fraction) => {
          this.upload = { fileName: file.name, fraction };
          this.changed();
        },
      });
      if (media.thumbnailUrl) void this.loadThumbnail(media.mediaId, media.thumbnailUrl);
      await this.client.send({ conversationId, type: media.kind, mediaId: media.mediaId });
    } catch (e) {
      this.fail(e);
    } finally {
      this.upload = null;
      this.changed();
    }
  }

  private fail(e: unknown): void {
    this.error = e instanceof ParleyError || e instanceof Error ? e.message : String(e);
    this.changed();
  }

  // ---- media -------------------------------------------------------------------------

  /** The thumbnail's object URL once loaded; starts loading it the first time it is asked. */
  thumbnail(mediaId: string): string | undefined {
    const url = this.thumbnails.get(mediaId);
    if (url || this.thumbnailLoads.has(mediaId)) return url;
    this.thumbnailLoads.add(mediaId);
    void this.client.api
      .mediaInfo(mediaId)
      .then((info) =>
        info.thumbnailUrl ? this.loadThumbnail(mediaId, info.thumbnailUrl) : undefined,
      )
      .catch(() => undefined);
    return undefined;
  }

  private async loadThumbnail(mediaId: string, path: string): Promise<void> {
    if (this.thumbnails.has(mediaId)) return;
    this.thumbnailLoads.add(mediaId);
    const blob = await this.client.api.blob(path).catch(() => undefined);
    if (!blob) return;
    this.thumbnails.set(mediaId, URL.createObjectURL(blob));
    this.changed();
  }

  /** Downloads a message's media and hands it to the browser. */
  async download(mediaId: string, fileName: string): Promise<void> {
    const blob = await this.client.api.blob(`/media/${mediaId}`);
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = fileName;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  async mediaName(mediaId: string): Promise<string> {
    const info = await this.client.api.mediaInfo(mediaId);
    return info.fileName ?? `${info.kind}`;
  }

  // ---- new chats and groups ----------------------------------------------------------

  /**
   * The users with these numbers, added to the user's contacts (PUT /contacts replaces
   * the list, so it is sent whole: the numbers already there and the new ones).
   */
  private async usersByPhone(phones: string[]): Promise<string[]> {
    const wanted = phones.map((p) => p.trim()).filter(Boolean);
    const known = await this.client.api.contacts();
    const all = [...new Set([...known.map((c) => c.phone), ...wanted])];
    const matches = await this.client.api.replaceContacts(all);
    return wanted.map((phone) => {
      const match = matches.find((m) => m.phone === phone);
      if (!match) throw new Error(`No Parley user has the number ${phone}`);
      this.names.set(match.userId, match.displayName || match.phone);
      return match.userId;
    });
  }

  async startChat(phone: string): Promise<void> {
    const [userId] = await this.usersByPhone([phone]);
    const conversation = await this.client.api.directConversation(userId);
    this.conversations.set(conversation.id, conversation);
    if (conversation.peerId) await this.client.watchPresence([conversation.peerId]).catch(() => []);
    await this.open(conversation.id);
  }

  async createGroup(name: string, phones: string[]): Promise<void> {
    const memberIds = await this.usersByPhone(phones);
    const group = await this.client.api.createGroup({ name, memberIds });
    if (group.notAdded.length) this.error = notAddedText(group.notAdded.length);
    await this.refreshConversation(group.id);
    await this.open(group.id);
  }

  async loadGroup(id: string): Promise<void> {
    this.group = await this.client.api.group(id);
    await this.loadNames(this.group.members.map((m) => m.userId));
    this.changed();
  }

  async addMember(phone: string): Promise<void> {
    if (!this.group) return;
    const userIds = await this.usersByPhone([phone]);
    const result = await this.client.api.addMembers(this.group.id, userIds);
    if (result.notAdded.length) throw new Error(notAddedText(result.notAdded.length));
    await this.loadGroup(this.group.id);
  }

  async updateGroupSettings(patch: {
    onlyAdminsCanSend?: boolean;
    onlyAdminsCanEditInfo?: boolean;
  }): Promise<void> {
    if (!this.group) return;
    this.group = await this.client.api.updateGroup(this.group.id, patch);
    this.changed();
  }

  async removeMember(userId: string): Promise<void> {
    if (!this.group) return;
    await this.client.api.removeMember(this.group.id, userId);
    if (userId === this.me?.id) {
      this.panel = 'none';
      await this.refreshConversation(this.group.id);
      this.group = null;
      this.changed();
      return;
    }
    await this.loadGroup(this.group.id);
  }
}

function notAddedText(count: number): string {
  return count === 1
    ? 'One person could not be added: their privacy settings do not allow it'
    : `${count} people could not be added: their privacy settings do not allow it`;
}

function activityOf(c: Conversation): string {
  return c.lastMessage?.createdAt ?? c.createdAt;
}

function browserName(): string {
  const ua = navigator.userAgent;
  const browser = /Firefox\//.test(ua)
    ? 'Firefox'
    : /Edg\//.test(ua)
      ? 'Edge'
      : /Chrom(e|ium)\//.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : 'Browser';
  return `${browser} (web)`;
}
