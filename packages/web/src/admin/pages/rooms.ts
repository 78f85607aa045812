/**
 * Rooms: live sessions (participants, how long each has been in; end the room, kick one) and
 * ended sessions (participants and durations), with a search over room and participant names.
 * Ending and kicking are two clicks (the first arms the button for a few seconds).
 */
import type { Participant, Session, SessionPage } from '@tfx/protocol';
import type { ConsolePage } from '../page.js';
import { ApiError } from '../rest.js';
import { badge, count, duration, empty, errorText, fill, h, section, table } from '../ui.js';
import { when } from './common.js';

const ARM_MS = 5000;

function matches(s: Session, q: string): boolean {
  if (!q) return true;
  const needle = q.toLowerCase();
  return (
    s.room.includes(needle) ||
    s.id.toLowerCase().includes(needle) ||
    s.participants.some((p) => p.name.toLowerCase().includes(needle))
  );
}

function stay(p: Participant, now: number): string {
  const end = p.leftAt ? Date.parse(p.leftAt) : now;
  return duration(end - Date.parse(p.joinedAt));
}

export const roomsPage: ConsolePage = {
  id: 'rooms',
  title: 'Rooms',
  icon: 'rooms',
  group: 'Platform',
  mount(ctx) {
    const search = h('input', {
      type: 'search',
      placeholder: 'Room, participant or session id',
      'aria-label': 'Search rooms',
    });
    const liveBox = h('div');
    const endedBox = h('div');
    ctx.root.append(
      h(
        'div',
        { class: 'stack' },
        h('div', { class: 'toolbar' }, search),
        section('Live rooms', liveBox),
        section('Ended sessions', endedBox),
      ),
    );
    const armed = new Map<string, number>();
    let last: { live: Session[]; ended: Session[] } = { live: [], ended: [] };

    const twoStep = (
      key: string,
      label: string,
      confirm: string,
      act: () => Promise<void>,
      attrs: Record<string, string> = {},
    ): HTMLButtonElement => {
      const isArmed = (armed.get(key) ?? 0) > Date.now();
      const b = h(
        'button',
        { type: 'button', class: `btn btn-danger${isArmed ? ' armed' : ''}`, ...attrs },
        isArmed ? confirm : label,
      );
      b.addEventListener('click', () => {
        if ((armed.get(key) ?? 0) <= Date.now()) {
          armed.set(key, Date.now() + ARM_MS);
          draw();
          return;
        }
        armed.delete(key);
        b.disabled = true;
        void act()
          .catch((err: unknown) => ctx.notify(errorText(err), 'error'))
          .finally(() => void view.update().catch(() => undefined));
      });
      return b;
    };

    const endRoom = async (s: Session): Promise<void> => {
      try {
        await ctx.rest.delete(`/api/v1/sessions/${encodeURIComponent(s.id)}`);
        ctx.notify(`Room ${s.room} ended: everyone in it was disconnected.`);
      } catch (err) {
        if (err instanceof ApiError && err.status === 409)
          ctx.notify(`Room ${s.room} had already ended.`);
        else throw err;
      }
    };
    const kick = async (s: Session, p: Participant): Promise<void> => {
      await ctx.rest.delete(
        `/api/v1/sessions/${encodeURIComponent(s.id)}/participants/${encodeURIComponent(p.id)}`,
      );
      ctx.notify(`${p.name} was removed from ${s.room}.`);
    };

    const draw = (): void => {
      const q = search.value.trim();
      const now = Date.now();
      const live = last.live.filter((s) => matches(s, q));
      const ended = last.ended.filter((s) => matches(s, q));
      fill(
        liveBox,
        live.length === 0
          ? empty(q ? 'No live room matches.' : 'No live room.')
          : table(
              ['Room', 'Started', 'Running', 'Participants', ''],
              live.map((s) => {
                const here = s.participants.filter((p) => !p.leftAt);
                return [
                  h('strong', {}, s.room),
                  when(s.startedAt),
                  duration(now - Date.parse(s.startedAt)),
                  here.length === 0
                    ? h('span', { class: 'muted' }, 'empty (within grace)')
                    : h(
                        'ul',
                        { class: 'people', 'aria-label': `Participants of ${s.room}` },
                        ...here.map((p) =>
                          h(
                            'li',
                            {},
                            h('span', { class: 'person' }, p.name),
                            h('span', { class: 'muted' }, ` ${stay(p, now)}`),
                            twoStep(
                              `kick:${s.id}:${p.id}`,
                              'Kick',
                              'Really kick?',
                              () => kick(s, p),
                              {
                                'aria-label': `Kick ${p.name}`,
                              },
                            ),
                          ),
                        ),
                      ),
                  twoStep(`end:${s.id}`, 'End room', 'Really end?', () => endRoom(s), {
                    'aria-label': `End room ${s.room}`,
                  }),
                ];
              }),
            ),
      );
      fill(
        endedBox,
        ended.length === 0
          ? empty(q ? 'No ended session matches.' : 'No ended session yet.')
          : table(
              ['Room', 'Started', 'Ended', 'Duration', 'Peak', 'Participants'],
              ended.map((s) => [
                s.room,
                when(s.startedAt),
                s.endedAt ? when(s.endedAt) : '',
                duration(s.durationMs ?? 0),
                count(s.peakParticipants),
                h(
                  'ul',
                  { class: 'people' },
                  ...s.participants.map((p) =>
                    h('li', {}, h('span', { class: 'person' }, p.name), ' ', badge(stay(p, now))),
                  ),
                ),
              ]),
            ),
      );
    };
    search.addEventListener('input', draw);

    const view = {
      async update() {
        const [live, ended] = await Promise.all([
          ctx.rest.get<SessionPage>('/api/v1/sessions?state=live&limit=200'),
          ctx.rest.get<SessionPage>('/api/v1/sessions?state=ended&limit=200'),
        ]);
        last = { live: live.items, ended: ended.items };
        // While a button waits for its confirming click, keep it where it is: a redraw now
        // would swap the element under the operator's pointer.
        if ([...armed.values()].some((until) => until > Date.now())) return;
        draw();
      },
    };
    return view;
  },
};
