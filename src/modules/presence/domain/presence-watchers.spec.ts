import { PresenceWatchers } from './presence-watchers';

const view = (userId: string, online: boolean | null) => ({ userId, online, lastSeen: null });

describe('PresenceWatchers', () => {
  it('registers watches inactive, and activates them with the view that was acked', () => {
    const w = new PresenceWatchers();
    w.add('c1', 'viewer', ['t1', 't2']);
    expect(w.watchedBy('c1')).toBe(2);
    expect(w.isWatching('c1', 't1')).toBe(true);
    expect(w.activeWatchesOf('t1')).toEqual([]);
    w.activate('c1', 't1', view('t1', true));
    expect(w.activeWatchesOf('t1')).toEqual([
      {
        connectionId: 'c1',
        viewerId: 'viewer',
        targetId: 't1',
        active: true,
        sent: view('t1', true),
      },
    ]);
  });

  it('keeps the newest state whatever the order it arrives in', () => {
    const w = new PresenceWatchers();
    w.add('c1', 'viewer', ['t']);
    expect(w.applyState('t', true, 20)).toBe(true);
    w.applyState('t', false, 10); // older, heard late
    expect(w.raw('t')?.online).toBe(true);
    w.applyState('t', false, 30);
    expect(w.raw('t')?.online).toBe(false);
    expect(w.applyState('unwatched', true, 1)).toBe(false);
  });

  it('only moves last seen forward', () => {
    const w = new PresenceWatchers();
    w.add('c1', 'viewer', ['t']);
    const early = new Date(1000);
    const late = new Date(2000);
    w.noteLastSeen('t', late);
    w.noteLastSeen('t', early);
    w.noteLastSeen('t', null);
    expect(w.raw('t')?.lastSeen).toBe(late);
  });

  it('forgets a target once nobody watches it, and a connection once it watches nobody', () => {
    const w = new PresenceWatchers();
    w.add('c1', 'v1', ['t']);
    w.add('c2', 'v2', ['t', 'u']);
    w.remove('c1', ['t', 'never-watched']);
    expect(w.isWatched('t')).toBe(true);
    expect(w.watchedBy('c1')).toBe(0);
    w.removeConnection('c2');
    expect(w.isWatched('t')).toBe(false);
    expect(w.isWatched('u')).toBe(false);
    expect(w.watchedByViewer('v2')).toEqual([]);
  });

  it('does not reset a watch that is added again', () => {
    const w = new PresenceWatchers();
    w.add('c1', 'viewer', ['t']);
    w.activate('c1', 't', view('t', false));
    w.add('c1', 'viewer', ['t']);
    expect(w.activeWatchesOf('t')).toHaveLength(1);
    expect(w.watchedBy('c1')).toBe(1);
  });

  it('lists what each viewer watches across their connections', () => {
    const w = new PresenceWatchers();
    w.add('phone', 'viewer', ['a', 'b']);
    w.add('laptop', 'viewer', ['b', 'c']);
    w.add('other', 'someone-else', ['d']);
    expect(w.watchedByViewer('viewer').sort()).toEqual(['a', 'b', 'c']);
  });

  it('ignores activation of a watch removed meanwhile', () => {
    const w = new PresenceWatchers();
    w.add('c1', 'viewer', ['t']);
    w.removeConnection('c1');
    w.activate('c1', 't', view('t', true));
    w.markSent('c1', 't', view('t', true));
    expect(w.activeWatchesOf('t')).toEqual([]);
  });
});
