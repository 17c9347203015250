import type { GroupSettings } from '@parley/client';
import { useState } from 'preact/hooks';
import { TextField } from './field';
import { clock } from './format';
import type { Store } from './store';

function PanelHead({ store, title }: { store: Store; title: string }) {
  return (
    <header class="bar">
      <button type="button" class="back" aria-label="Close" onClick={() => store.show('none')}>
        ←
      </button>
      <h2>{title}</h2>
    </header>
  );
}

export function DevicesPanel({ store }: { store: Store }) {
  return (
    <section class="panel" aria-label="Devices">
      <PanelHead store={store} title="Devices" />
      <ul class="rows">
        {store.devices.map((d) => (
          <li key={d.id}>
            <span>
              <strong>{d.name || d.platform}</strong> {d.current && <em>(this device)</em>}
              <br />
              <small>
                {d.platform} · active {new Date(d.lastActiveAt).toLocaleDateString()}{' '}
                {clock(d.lastActiveAt)}
              </small>
            </span>
            {!d.current && (
              <button
                type="button"
                aria-label={`Remove ${d.name || d.platform}`}
                onClick={() => void store.attempt(() => store.removeDevice(d.id))}
              >
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function NewChatPanel({ store }: { store: Store }) {
  const [phone, setPhone] = useState('');
  return (
    <section class="panel" aria-label="New chat">
      <PanelHead store={store} title="New chat" />
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void store.attempt(() => store.startChat(phone));
        }}
      >
        <TextField
          id="new-chat-phone"
          label="Their phone number"
          inputMode="tel"
          required
          placeholder="+14155550102"
          value={phone}
          onValue={setPhone}
        />
        <button type="submit">Start chat</button>
      </form>
    </section>
  );
}

export function NewGroupPanel({ store }: { store: Store }) {
  const [name, setName] = useState('');
  const [phones, setPhones] = useState('');
  return (
    <section class="panel" aria-label="New group">
      <PanelHead store={store} title="New group" />
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          const list = phones
            .split(/[\s,;]+/)
            .map((p) => p.trim())
            .filter(Boolean);
          void store.attempt(() => store.createGroup(name.trim(), list));
        }}
      >
        <TextField
          id="group-name"
          label="Group name"
          required
          maxLength={100}
          value={name}
          onValue={setName}
        />
        <label for="group-phones">Members’ phone numbers (comma-separated)</label>
        <textarea
          id="group-phones"
          rows={3}
          value={phones}
          onInput={(e) => setPhones(e.currentTarget.value)}
        />
        <button type="submit">Create group</button>
      </form>
    </section>
  );
}

const SETTINGS: Array<[keyof GroupSettings, string]> = [
  ['onlyAdminsCanSend', 'Only admins can send messages'],
  ['onlyAdminsCanEditInfo', "Only admins can edit the group's name and icon"],
];

export function GroupInfoPanel({ store }: { store: Store }) {
  const [phone, setPhone] = useState('');
  const group = store.group;
  if (!group) return <p class="empty">Loading…</p>;
  const myRole = group.members.find((m) => m.userId === store.me?.id)?.role;
  const admin = myRole === 'admin' || myRole === 'creator';
  return (
    <section class="panel" aria-label="Group info">
      <header class="bar">
        <button
          type="button"
          class="back"
          aria-label="Back to chat"
          onClick={() => void store.open(group.id)}
        >
          ←
        </button>
        <h2>{group.name}</h2>
      </header>
      <p class="muted">{group.memberCount} members</p>
      <ul class="rows" aria-label="Members">
        {group.members.map((m) => (
          <li key={m.userId}>
            <span>
              {m.userId === store.me?.id ? 'You' : store.nameOf(m.userId)}{' '}
              {m.role !== 'member' && <small>({m.role})</small>}
            </span>
            {admin && m.userId !== store.me?.id && m.role !== 'creator' && (
              <button
                type="button"
                aria-label={`Remove ${store.nameOf(m.userId)}`}
                onClick={() => void store.attempt(() => store.removeMember(m.userId))}
              >
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      {admin && (
        <fieldset class="stack settings">
          <legend>Admin settings</legend>
          {SETTINGS.map(([key, label]) => (
            <label key={key}>
              <input
                type="checkbox"
                checked={group.settings[key]}
                onChange={(e) =>
                  void store.attempt(() =>
                    store.updateGroupSettings({ [key]: e.currentTarget.checked }),
                  )
                }
              />{' '}
              {label}
            </label>
          ))}
        </fieldset>
      )}
      {admin && (
        <form
          class="stack"
          onSubmit={(e) => {
            e.preventDefault();
            void store.attempt(async () => {
              await store.addMember(phone);
              setPhone('');
            });
          }}
        >
          <TextField
            id="add-member-phone"
            label="Add a member by phone number"
            inputMode="tel"
            required
            value={phone}
            onValue={setPhone}
          />
          <button type="submit">Add member</button>
        </form>
      )}
      {myRole !== 'creator' && (
        <button
          type="button"
          class="danger"
          onClick={() => void store.attempt(() => store.removeMember(store.me!.id))}
        >
          Leave group
        </button>
      )}
    </section>
  );
}
