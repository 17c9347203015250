import { useState } from 'preact/hooks';
import { ChatView } from './chat';
import { TextField } from './field';
import { preview } from './format';
import { DevicesPanel, GroupInfoPanel, NewChatPanel, NewGroupPanel } from './panels';
import type { Store } from './store';
import { useStore } from './use-store';

export function App({ store }: { store: Store }) {
  useStore(store);
  if (!store.signedIn) return <SignIn store={store} />;
  if (!store.me) return <p class="loading">Loading…</p>;
  if (store.needsName) return <NameForm store={store} />;
  const view = store.openId || store.panel !== 'none' ? 'detail' : 'list';
  return (
    <div class="shell" data-view={view}>
      {!store.online && (
        <div class="banner" role="status">
          Offline: reconnecting… Messages you send now go out when the connection is back.
        </div>
      )}
      {store.error && (
        <div class="error" role="alert">
          {store.error}{' '}
          <button type="button" onClick={() => store.dismissError()}>
            Dismiss
          </button>
        </div>
      )}
      <aside class="sidebar" aria-label="Chats">
        <header class="bar">
          <strong class="me">{store.me.displayName}</strong>
          <nav aria-label="Actions" class="actions">
            <button type="button" onClick={() => store.show('new-chat')}>
              New chat
            </button>
            <button type="button" onClick={() => store.show('new-group')}>
              New group
            </button>
            <button type="button" onClick={() => store.show('devices')}>
              Devices
            </button>
            <button type="button" onClick={() => void store.signOut()}>
              Sign out
            </button>
          </nav>
        </header>
        <ChatList store={store} />
      </aside>
      <main class="detail">
        {store.panel === 'devices' && <DevicesPanel store={store} />}
        {store.panel === 'new-chat' && <NewChatPanel store={store} />}
        {store.panel === 'new-group' && <NewGroupPanel store={store} />}
        {store.panel === 'group-info' && <GroupInfoPanel store={store} />}
        {store.panel === 'none' && store.openId && <ChatView store={store} id={store.openId} />}
        {store.panel === 'none' && !store.openId && (
          <p class="empty">Pick a chat, or start one with “New chat”.</p>
        )}
      </main>
    </div>
  );
}

function ChatList({ store }: { store: Store }) {
  const list = store.conversationList;
  if (!list.length) return <p class="empty">No chats yet.</p>;
  return (
    <ul class="chat-list">
      {list.map((c) => {
        const presence = c.peerId ? store.presence.get(c.peerId) : undefined;
        const name = c.name ?? 'Chat';
        const typing = store.typingIn(c.id).length > 0;
        return (
          <li key={c.id}>
            <button
              type="button"
              class={`chat-item${c.id === store.openId ? ' active' : ''}`}
              aria-current={c.id === store.openId ? 'true' : undefined}
              aria-label={`${name}${c.unreadCount ? `, ${c.unreadCount} unread` : ''}${
                presence?.online ? ', online' : ''
              }`}
              onClick={() => void store.attempt(() => store.open(c.id))}
            >
              <span class="avatar" aria-hidden="true">
                {name.slice(0, 1).toUpperCase()}
                {presence?.online && <span class="dot" />}
              </span>
              <span class="chat-text">
                <span class="chat-name">{name}</span>
                <span class="chat-last">
                  {typing ? 'typing…' : preview(c.lastMessage, (id) => store.nameOf(id))}
                </span>
              </span>
              {c.unreadCount > 0 && (
                <span class="badge" data-testid="unread">
                  {c.unreadCount}
                </span>
              )}
            </button>
          </li>
        );
      })}
    </ul>
  );
}

function SignIn({ store }: { store: Store }) {
  useStore(store);
  const [phone, setPhone] = useState('');
  const [code, setCode] = useState('');
  const [step, setStep] = useState<'phone' | 'code'>('phone');
  const config = store.serverConfig;
  return (
    <main class="sign-in">
      <h1>Parley</h1>
      {config?.testOtp && (
        <p class="note" role="note">
          This server runs with a fixed test code (<code>AUTH_TEST_OTP</code>): that code signs in
          any phone number and no SMS is sent.
        </p>
      )}
      {config && !config.testOtp && config.smsDriver === 'log' && (
        <p class="note" role="note">
          This server writes sign-in codes to its log instead of sending SMS.
        </p>
      )}
      {step === 'phone' ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void store.attempt(async () => {
              await store.requestCode(phone.trim());
              setStep('code');
            });
          }}
        >
          <TextField
            id="phone"
            label="Phone number"
            inputMode="tel"
            autoComplete="tel"
            placeholder="+14155550101"
            required
            value={phone}
            onValue={setPhone}
          />
          <button type="submit">Send code</button>
        </form>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void store.attempt(() => store.signIn(phone.trim(), code.trim()));
          }}
        >
          <TextField
            id="code"
            label={`Code sent to ${phone}`}
            inputMode="numeric"
            autoComplete="one-time-code"
            required
            value={code}
            onValue={setCode}
          />
          <button type="submit">Sign in</button>
          <button type="button" class="link" onClick={() => setStep('phone')}>
            Use another number
          </button>
        </form>
      )}
      {store.error && <p role="alert">{store.error}</p>}
    </main>
  );
}

function NameForm({ store }: { store: Store }) {
  const [name, setName] = useState('');
  return (
    <main class="sign-in">
      <h1>Welcome to Parley</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void store.attempt(() => store.setDisplayName(name.trim()));
        }}
      >
        <TextField
          id="name"
          label="Your name"
          required
          maxLength={64}
          value={name}
          onValue={setName}
        />
        <button type="submit">Continue</button>
      </form>
      {store.error && <p role="alert">{store.error}</p>}
    </main>
  );
}
