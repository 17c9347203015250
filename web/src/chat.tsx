import type { Message, PendingSend } from '@parley/client';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { clock, lastSeen, systemText } from './format';
import type { Store, Tick } from './store';

const TICK_LABEL: Record<Tick, string> = {
  pending: 'Waiting to send',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
};
// Glyphs every system font has (no emoji font is needed).
const TICK_MARK: Record<Tick, string> = { pending: '○', sent: '✓', delivered: '✓✓', read: '✓✓' };

export function ChatView({ store, id }: { store: Store; id: string }) {
  const conversation = store.conversations.get(id);
  const chat = store.chats.get(id);
  const list = useRef<HTMLOListElement>(null);
  const stick = useRef(true);
  const olderFrom = useRef<number | null>(null);
  const pending = store.pendingIn(id);
  const count = (chat?.messages.length ?? 0) + pending.length;
  const firstSeq = chat?.messages[0]?.seq;

  // New messages keep the view at the bottom if it was there; older pages keep the place.
  useLayoutEffect(() => {
    const el = list.current;
    if (!el) return;
    if (olderFrom.current !== null) {
      el.scrollTop = el.scrollHeight - olderFrom.current;
      olderFrom.current = null;
    } else if (stick.current) el.scrollTop = el.scrollHeight;
  }, [count, firstSeq, id]);
  useEffect(() => {
    stick.current = true;
  }, [id]);

  if (!conversation) return <p class="empty">Loading…</p>;
  const isGroup = conversation.type === 'group';
  const loadOlder = () => {
    if (list.current) olderFrom.current = list.current.scrollHeight - list.current.scrollTop;
    void store.attempt(() => store.loadOlder());
  };

  return (
    <section class="chat" aria-label={`Chat with ${conversation.name ?? 'group'}`}>
      <header class="bar chat-head">
        <button
          type="button"
          class="back"
          aria-label="Back to chats"
          onClick={() => void store.open(null)}
        >
          ←
        </button>
        <div class="chat-title">
          <h2>{conversation.name}</h2>
          <p class="status" aria-live="polite" data-testid="chat-status">
            {statusLine(store, id)}
          </p>
        </div>
        {isGroup && !conversation.left && (
          <button type="button" onClick={() => store.show('group-info')}>
            Group info
          </button>
        )}
      </header>
      <ol
        class="messages"
        ref={list}
        aria-label="Messages"
        aria-live="polite"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
          if (el.scrollTop < 40 && chat?.hasOlder && !chat.loading) loadOlder();
        }}
      >
        {chat?.hasOlder && (
          <li class="older">
            <button type="button" onClick={loadOlder} disabled={chat.loading}>
              {chat.loading ? 'Loading…' : 'Load older messages'}
            </button>
          </li>
        )}
        {chat?.messages.map((m) => (
          <MessageItem key={m.id} store={store} message={m} isGroup={isGroup} />
        ))}
        {pending.map((p) => (
          <PendingItem key={p.payload.clientMsgId} pending={p} />
        ))}
      </ol>
      {conversation.left ? (
        <p class="empty">You are no longer a member of this group.</p>
      ) : (
        <Composer store={store} id={id} />
      )}
    </section>
  );
}

function statusLine(store: Store, id: string): string {
  const conversation = store.conversations.get(id)!;
  const typing = store.typingIn(id);
  if (typing.length) {
    return conversation.type === 'group'
      ? `${typing.map((u) => store.nameOf(u)).join(', ')} typing…`
      : 'typing…';
  }
  if (conversation.type === 'group') return `${conversation.memberCount} members`;
  // Presence is not known while offline: better nothing than a stale "online".
  if (!store.online) return '';
  const presence = conversation.peerId ? store.presence.get(conversation.peerId) : undefined;
  if (presence?.online) return 'online';
  if (presence?.lastSeen) return lastSeen(presence.lastSeen);
  return '';
}

function MessageItem({
  store,
  message,
  isGroup,
}: {
  store: Store;
  message: Message;
  isGroup: boolean;
}) {
  if (message.type === 'system') {
    return <li class="system">{systemText(message, (u) => store.nameOf(u))}</li>;
  }
  const mine = message.senderId === store.me?.id;
  const tick = mine ? store.tickOf(message) : undefined;
  return (
    <li class={`message ${mine ? 'mine' : 'theirs'}`} data-seq={message.seq}>
      {isGroup && !mine && <span class="sender">{store.nameOf(message.senderId)}</span>}
      <Content store={store} message={message} />
      {message.reactions?.length ? (
        <span class="reactions">
          {message.reactions.map((r) => `${r.emoji} ${r.userIds.length}`).join('  ')}
        </span>
      ) : null}
      <span class="meta">
        {message.editedAt && !message.deletedAt && 'edited · '}
        <time dateTime={message.createdAt}>{clock(message.createdAt)}</time>
        {tick && (
          <span
            class={`tick ${tick}`}
            data-tick={tick}
            aria-label={TICK_LABEL[tick]}
            title={TICK_LABEL[tick]}
          >
            {TICK_MARK[tick]}
          </span>
        )}
      </span>
    </li>
  );
}

function Content({ store, message }: { store: Store; message: Message }) {
  if (message.deletedAt) return <p class="deleted">This message was deleted</p>;
  if (message.type === 'text') return <p class="text">{message.body}</p>;
  if (!message.mediaId) return <p class="text">{message.body}</p>;
  if (message.type === 'image' || message.type === 'video') {
    const src = store.thumbnail(message.mediaId);
    const label = message.type === 'image' ? 'Photo' : 'Video';
    return (
      <button
        type="button"
        class="media"
        aria-label={`Open ${label.toLowerCase()}`}
        onClick={() =>
          void store.attempt(() => store.download(message.mediaId!, label.toLowerCase()))
        }
      >
        {src ? <img src={src} alt={label} /> : <span class="placeholder">{label}…</span>}
      </button>
    );
  }
  return <DocumentLink store={store} mediaId={message.mediaId} />;
}

function DocumentLink({ store, mediaId }: { store: Store; mediaId: string }) {
  const [name, setName] = useState('Document');
  useEffect(() => {
    void store.mediaName(mediaId).then(setName, () => undefined);
  }, [store, mediaId]);
  return (
    <button
      type="button"
      class="document"
      aria-label={`Download ${name}`}
      onClick={() => void store.attempt(() => store.download(mediaId, name))}
    >
      {name}
    </button>
  );
}

function PendingItem({ pending }: { pending: PendingSend }) {
  return (
    <li class="message mine pending">
      <p class="text">{pending.payload.body}</p>
      <span class="meta">
        <span
          class="tick pending"
          data-tick="pending"
          aria-label={TICK_LABEL.pending}
          title={TICK_LABEL.pending}
        >
          {TICK_MARK.pending}
        </span>
      </span>
    </li>
  );
}

function Composer({ store, id }: { store: Store; id: string }) {
  const [text, setText] = useState('');
  const file = useRef<HTMLInputElement>(null);
  const send = () => {
    const body = text.trim();
    if (!body) return;
    store.sendText(id, body);
    setText('');
  };
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      {store.upload && (
        <div class="upload">
          <label for="upload-progress">Uploading {store.upload.fileName}</label>
          <progress id="upload-progress" max={1} value={store.upload.fraction} />
        </div>
      )}
      <button
        type="button"
        class="attach"
        aria-label="Attach a file"
        onClick={() => file.current?.click()}
      >
        +
      </button>
      <input
        ref={file}
        type="file"
        class="hidden"
        aria-label="File to send"
        tabIndex={-1}
        onChange={(e) => {
          const chosen = e.currentTarget.files?.[0];
          e.currentTarget.value = '';
          if (chosen) void store.sendFile(id, chosen);
        }}
      />
      <textarea
        aria-label="Message"
        placeholder="Message"
        rows={1}
        value={text}
        onInput={(e) => {
          setText(e.currentTarget.value);
          store.typed(id, e.currentTarget.value);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey) {
            e.preventDefault();
            send();
          }
        }}
      />
      <button type="submit" class="send">
        Send
      </button>
    </form>
  );
}
