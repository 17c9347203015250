import type { Message } from '@parley/client';

const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const day = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

export function clock(iso: string): string {
  return time.format(new Date(iso));
}

/** "last seen today at 10:02" / "last seen Mar 3 at 10:02". */
export function lastSeen(iso: string): string {
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return `last seen ${today ? 'today' : day.format(d)} at ${time.format(d)}`;
}

const SYSTEM_TEXT: Record<string, string> = {
  group_created: 'created the group',
  members_added: 'added',
  member_removed: 'removed',
  member_left: 'left',
  role_changed: 'changed the role of',
  admin_assigned: 'made an admin:',
  group_renamed: 'renamed the group',
  description_changed: 'changed the description',
  icon_changed: 'changed the group icon',
  settings_changed: 'changed the group settings',
  disappearing_changed: 'changed disappearing messages',
  call: 'call',
};

/** A system message as a sentence, naming people through `nameOf`. */
export function systemText(message: Message, nameOf: (id: string) => string): string {
  try {
    const body = JSON.parse(message.body ?? '{}') as {
      event?: string;
      actorId?: string;
      userIds?: string[];
      name?: string;
      outcome?: string;
      media?: string;
    };
    if (body.event === 'call') return `${body.media ?? ''} call: ${body.outcome ?? ''}`.trim();
    const actor = body.actorId ? nameOf(body.actorId) : 'Someone';
    const whom = (body.userIds ?? []).filter((id) => id !== body.actorId).map(nameOf);
    const what = SYSTEM_TEXT[body.event ?? ''] ?? 'changed the chat';
    const extra = body.event === 'group_created' && body.name ? ` “${body.name}”` : '';
    return [actor, what + extra, whom.join(', ')].filter(Boolean).join(' ');
  } catch {
    return 'Chat updated';
  }
}

/** One line for the chat list. */
export function preview(message: Message | null, nameOf: (id: string) => string): string {
  if (!message) return 'No messages yet';
  if (message.deletedAt) return 'This message was deleted';
  switch (message.type) {
    case 'text':
      return message.body ?? '';
    case 'image':
      return 'Photo';
    case 'video':
      return 'Video';
    case 'audio':
      return 'Audio message';
    case 'document':
      return 'Document';
    case 'system':
      return systemText(message, nameOf);
    default:
      return '';
  }
}
