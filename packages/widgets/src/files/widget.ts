/**
 * File transfer: send files to everyone in the call or to one person, peer to peer over the
 * widget channel, with progress (what the receivers acknowledge), speed, time left and cancel on
 * both sides. Files are read in 256 KiB chunks and sent with a small window of sends in flight,
 * so the SDK's back-pressure paces the loop and the call's other traffic (chat, other widgets)
 * keeps flowing. The receiver hashes what it receives itself (SHA-256, as it arrives), compares
 * with the sender's hash, and only then offers "Save" (the browser's download; the manifest grants
 * `downloads`). Wire format and state machines: `model.ts`.
 */
import { connect, TfxWidgetError, type WidgetPeer } from '@tfx/widget-sdk';
import {
  CHUNK_BYTES,
  HEADER_BYTES,
  Incoming,
  MAX_FILE_BYTES,
  Outgoing,
  Rate,
  chunkRanges,
  decodeChunk,
  encodeChunk,
  formatBytes,
  formatEta,
  newHasher,
  newTransferId,
  parseControl,
  safeName,
  type Control,
} from './model.js';

/** Chunk sends in flight per transfer (each ≤ 256 KiB; the SDK bounds what waits unacknowledged). */
const WINDOW = 6;
/** Fold received bytes into the Blob every this many bytes (keeps the JS heap small). */
const FOLD_BYTES = 16 * 1024 * 1024;
/** Active incoming transfers one sender may have with us; more offers are declined. */
const MAX_INCOMING_PER_SENDER = 8;
/** Rows kept in the list (finished ones beyond this are forgotten, oldest first). */
const MAX_ROWS = 100;
const UI_MS = 100;

const zone = document.getElementById('zone') as HTMLElement;
const toSel = document.getElementById('to') as HTMLSelectElement;
const pick = document.getElementById('pick') as HTMLButtonElement;
const fileInput = document.getElementById('file') as HTMLInputElement;
const list = document.getElementById('list') as HTMLOListElement;
const status = document.getElementById('status') as HTMLParagraphElement;
const drop = document.getElementById('drop') as HTMLDivElement;

/** Counted drops of what peers send (hostile or broken input never throws). */
const dropped: Record<string, number> = {};
function countDrop(reason: string): void {
  dropped[reason] = (dropped[reason] ?? 0) + 1;
  document.body.dataset.dropped = String(Object.values(dropped).reduce((a, b) => a + b, 0));
}

// ---- rows ------------------------------------------------------------------------------------

interface InRow {
  readonly kind: 'in';
  readonly t: Incoming;
  readonly fromName: string;
  blob: Blob | undefined;
  readonly rate: Rate;
  readonly el: RowEls;
}
interface OutRow {
  readonly kind: 'out';
  readonly t: Outgoing;
  readonly toLabel: string;
  readonly rate: Rate;
  readonly el: RowEls;
}
type Row = InRow | OutRow;

interface RowEls {
  readonly li: HTMLLIElement;
  readonly progress: HTMLProgressElement;
  readonly meta: HTMLDivElement;
  readonly detail: HTMLDivElement;
  readonly actions: HTMLDivElement;
  readonly chips: HTMLDivElement;
}

const rows: Row[] = [];
const incoming = new Map<string, InRow>(); // key: sender id + ':' + transfer id
const outgoing = new Map<string, OutRow>(); // key: transfer id
const key = (from: string, id: string): string => `${from}:${id}`;

let peers: readonly WidgetPeer[] = [];
const nameOf = (id: string): string => peers.find((p) => p.id === id)?.name ?? 'someone who left';

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls: string,
  text = '',
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  return e;
}

function makeRow(dir: 'in' | 'out', id: string, name: string, size: number): RowEls {
  const li = el('li', 'transfer');
  li.dataset.id = id;
  li.dataset.dir = dir;
  li.dataset.size = String(size);
  const arrow = el('span', 'dir', dir === 'in' ? '↓' : '↑');
  arrow.setAttribute('aria-hidden', 'true');
  const title = el('div', 'name', name);
  title.title = name;
  const actions = el('div', 'actions');
  const progress = el('progress', '');
  progress.max = Math.max(1, size);
  progress.value = 0;
  progress.setAttribute('aria-label', `Progress of ${name}`);
  const meta = el('div', 'meta');
  const detail = el('div', 'detail');
  const chips = el('div', 'chips');
  li.append(arrow, title, actions, progress, meta, detail, chips);
  list.prepend(li);
  return { li, progress, meta, detail, actions, chips };
}

function button(label: string, cls: string, onClick: () => void, title = ''): HTMLButtonElement {
  const b = el('button', cls, label);
  b.type = 'button';
  if (title) b.title = title;
  b.addEventListener('click', onClick);
  return b;
}

function addRow(r: Row): void {
  rows.push(r);
  // Forget the oldest finished rows beyond the cap.
  while (rows.length > MAX_ROWS) {
    const i = rows.findIndex((x) => !x.t.active);
    if (i < 0) break;
    removeRow(rows[i]!);
  }
  update(r);
}

function removeRow(r: Row): void {
  const i = rows.indexOf(r);
  if (i >= 0) rows.splice(i, 1);
  r.el.li.remove();
  if (r.kind === 'in') {
    incoming.delete(key(r.t.from, r.t.id));
    r.blob = undefined;
    r.t.takeParts();
  } else outgoing.delete(r.t.id);
  refreshCounts();
}

const IN_LABEL = {
  receiving: 'Receiving…',
  done: 'SHA-256 verified',
  corrupt: 'Damaged: the SHA-256 differs from the sender’s — not saved',
  cancelled: 'Cancelled',
  failed: 'Failed',
} as const;
const FAIL_LABEL = {
  'out-of-order': 'a chunk arrived out of order',
  'too-long': 'more bytes than announced',
  'too-short': 'fewer bytes than announced',
  'sender-left': 'the sender left',
  'sender-cancelled': 'the sender cancelled',
} as const;
const CHIP_LABEL = {
  sending: '',
  verified: '✓',
  corrupt: 'damaged',
  declined: 'declined',
  left: 'left',
  failed: 'failed',
} as const;

function update(r: Row): void {
  const { li, progress, meta, detail, actions, chips } = r.el;
  const now = performance.now();
  if (r.kind === 'in') {
    const t = r.t;
    r.rate.sample(now, t.received);
    li.dataset.state = t.state;
    li.dataset.bytes = String(t.received);
    if (t.sha256) li.dataset.sha256 = t.sha256;
    progress.value = t.received;
    const speed = r.rate.perSecond();
    meta.textContent =
      `from ${r.fromName} · ${formatBytes(t.received)} of ${formatBytes(t.size)}` +
      (t.active && speed > 0
        ? ` · ${formatBytes(speed)}/s · ${formatEta(t.size - t.received, speed)} left`
        : '');
    detail.textContent =
      t.state === 'failed'
        ? `Failed: ${FAIL_LABEL[t.failReason ?? 'sender-left']}`
        : t.state === 'done'
          ? `${IN_LABEL.done} · ${t.sha256!.slice(0, 16)}…`
          : IN_LABEL[t.state];
    detail.title = t.sha256 ? `SHA-256 ${t.sha256}` : '';
    const want = t.state === 'receiving' ? 'cancel' : t.state === 'done' ? 'save' : 'dismiss';
    if (actions.dataset.mode !== want) {
      actions.dataset.mode = want;
      actions.replaceChildren(
        ...(want === 'cancel'
          ? [button('Cancel', 'cancel', () => cancelIncoming(r), 'Stop receiving this file')]
          : want === 'save'
            ? [
                button('Save', 'save', () => save(r), 'Save with the browser’s download'),
                button('×', 'dismiss', () => removeRow(r), 'Remove from the list'),
              ]
            : [button('×', 'dismiss', () => removeRow(r), 'Remove from the list')]),
      );
    }
  } else {
    const t = r.t;
    const acked = t.acked();
    r.rate.sample(now, acked);
    li.dataset.state = t.state;
    li.dataset.bytes = String(acked);
    li.dataset.sent = String(t.sent);
    progress.value = t.state === 'done' ? t.size : acked;
    const speed = r.rate.perSecond();
    meta.textContent =
      `to ${r.toLabel} · ${formatBytes(acked)} of ${formatBytes(t.size)}` +
      (t.active && speed > 0
        ? ` · ${formatBytes(speed)}/s · ${formatEta(t.size - acked, speed)} left`
        : '');
    const rs = [...t.recipients.values()];
    const verified = rs.filter((x) => x.state === 'verified').length;
    detail.textContent =
      t.state === 'sending'
        ? 'Sending…'
        : t.state === 'sent'
          ? 'Sent; waiting for the receivers to check it…'
          : t.state === 'cancelled'
            ? 'Cancelled'
            : t.state === 'done'
              ? `Delivered: ${verified} of ${rs.length} verified the SHA-256`
              : 'Not delivered';
    chips.replaceChildren(
      ...rs.map((x) => {
        const c = el('span', 'chip');
        c.dataset.peer = x.id;
        c.dataset.state = x.state;
        const pct = t.size ? Math.floor((x.acked / t.size) * 100) : 100;
        c.textContent = `${nameOf(x.id)} ${x.state === 'sending' ? `${pct} %` : CHIP_LABEL[x.state]}`;
        return c;
      }),
    );
    const want = t.active ? 'cancel' : 'dismiss';
    if (actions.dataset.mode !== want) {
      actions.dataset.mode = want;
      actions.replaceChildren(
        want === 'cancel'
          ? button('Cancel', 'cancel', () => cancelOutgoing(r), 'Stop sending this file')
          : button('×', 'dismiss', () => removeRow(r), 'Remove from the list'),
      );
    }
  }
  refreshCounts();
}

function refreshCounts(): void {
  const activeIn = rows.filter((r) => r.kind === 'in' && r.t.active).length;
  const activeOut = rows.filter((r) => r.kind === 'out' && r.t.active).length;
  document.body.dataset.active = String(activeIn + activeOut);
  status.textContent =
    activeIn + activeOut === 0
      ? peers.length === 0
        ? 'Nobody else is here yet'
        : `${peers.length} other${peers.length === 1 ? '' : 's'} in the call`
      : [activeOut ? `sending ${activeOut}` : '', activeIn ? `receiving ${activeIn}` : '']
          .filter(Boolean)
          .join(' · ');
}

// Progress updates are batched: at most one DOM pass every UI_MS per row.
const dirty = new Set<Row>();
let timer: ReturnType<typeof setTimeout> | undefined;
function touch(r: Row): void {
  dirty.add(r);
  timer ??= setTimeout(() => {
    timer = undefined;
    for (const d of dirty) update(d);
    dirty.clear();
  }, UI_MS);
}

// ---- connect -----------------------------------------------------------------------------------

const tfx = await connect();
peers = tfx.peers();
/** Largest chunk payload this deployment's maxMessageBytes allows. */
const chunkBytes = Math.max(1024, Math.min(CHUNK_BYTES, tfx.maxMessageBytes - HEADER_BYTES));

function refreshTargets(): void {
  const current = toSel.value;
  const opts = [new Option('Everyone', '')];
  for (const p of peers) opts.push(new Option(p.name || p.id, p.id));
  toSel.replaceChildren(...opts);
  toSel.value = peers.some((p) => p.id === current) ? current : '';
}

tfx.onPeers((list) => {
  peers = list;
  refreshTargets();
  const here = new Set(list.map((p) => p.id));
  for (const r of rows) {
    if (r.kind === 'in' && r.t.active && !here.has(r.t.from)) {
      r.t.fail('sender-left');
      r.blob = undefined;
      update(r);
    }
    if (r.kind === 'out' && r.t.active)
      for (const id of r.t.live()) if (!here.has(id)) r.t.lost(id);
    if (r.kind === 'out') update(r);
  }
  refreshCounts();
});
refreshTargets();
refreshCounts();

// ---- sending -----------------------------------------------------------------------------------

/** Sends to the live recipients: one broadcast when they are exactly the room, else one each. */
async function deliver(t: Outgoing, data: Control | Uint8Array, to = t.live()): Promise<void> {
  if (to.length === 0) return;
  const room = peers.map((p) => p.id);
  if (!t.directed && to.length === room.length && room.every((id) => to.includes(id))) {
    await tfx.sendMessage(data);
    return;
  }
  await Promise.all(
    to.map((p) =>
      tfx.sendMessage(data, { to: p }).catch((e: unknown) => {
        if (e instanceof TfxWidgetError && e.code === 'peer-unavailable') t.lost(p);
        else throw e;
      }),
    ),
  );
}

async function sendFile(file: File, to: string): Promise<void> {
  const recipients = to ? [to] : peers.map((p) => p.id);
  if (recipients.length === 0) {
    status.textContent = 'Nobody else is in the call to receive it';
    return;
  }
  if (file.size > MAX_FILE_BYTES) {
    status.textContent = `${file.name} is larger than ${formatBytes(MAX_FILE_BYTES)}`;
    return;
  }
  const t = new Outgoing(newTransferId(), safeName(file.name), file.size, recipients, !!to);
  const r: OutRow = {
    kind: 'out',
    t,
    toLabel: to ? nameOf(to) : `everyone (${recipients.length})`,
    rate: new Rate(),
    el: makeRow('out', t.id, t.name, t.size),
  };
  outgoing.set(t.id, r);
  addRow(r);
  try {
    await deliver(t, { t: 'offer', id: t.id, name: t.name, size: t.size, mime: file.type });
    const hasher = newHasher();
    const inflight: Promise<void>[] = [];
    const ranges = chunkRanges(file.size, chunkBytes);
    for (let seq = 0; seq < ranges.length; seq++) {
      if (t.state !== 'sending' || t.live().length === 0) break;
      const [a, b] = ranges[seq]!;
      const bytes = new Uint8Array(await file.slice(a, b).arrayBuffer());
      hasher.update(bytes);
      inflight.push(
        deliver(t, encodeChunk(t.id, seq, bytes)).then(() => {
          t.handed(b - a);
          touch(r);
        }),
      );
      if (inflight.length >= WINDOW) await inflight.shift();
    }
    await Promise.all(inflight);
    if (t.state === 'sending' && t.live().length > 0) {
      await deliver(t, { t: 'end', id: t.id, sha256: hasher.hex() });
      t.finished();
    } else if (t.state === 'sending') t.finished(); // everyone declined or left
  } catch (e) {
    // `closed` (the widget is going away) or a bug: tell whoever is still listening.
    t.cancel();
    await deliver(t, { t: 'cancel', id: t.id }).catch(() => undefined);
    status.textContent = `Sending ${t.name} failed: ${(e as Error).message}`;
  }
  update(r);
}

function cancelOutgoing(r: OutRow): void {
  const live = r.t.live();
  if (!r.t.cancel()) return;
  void deliver(r.t, { t: 'cancel', id: r.t.id }, live).catch(() => undefined);
  update(r);
}

/** Files are sent one after another (each already uses the whole channel). */
let queue: Promise<void> = Promise.resolve();
function sendFiles(files: Iterable<File>): void {
  const to = toSel.value;
  for (const f of files) queue = queue.then(() => sendFile(f, to));
}

pick.addEventListener('click', () => fileInput.click());
fileInput.addEventListener('change', () => {
  if (fileInput.files?.length) sendFiles([...fileInput.files]);
  fileInput.value = '';
});

let dragDepth = 0;
zone.addEventListener('dragenter', (e) => {
  if (!e.dataTransfer?.types.includes('Files')) return;
  e.preventDefault();
  dragDepth++;
  drop.hidden = false;
});
zone.addEventListener('dragover', (e) => {
  if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
});
zone.addEventListener('dragleave', () => {
  if (--dragDepth <= 0) {
    dragDepth = 0;
    drop.hidden = true;
  }
});
zone.addEventListener('drop', (e) => {
  e.preventDefault();
  dragDepth = 0;
  drop.hidden = true;
  if (e.dataTransfer?.files.length) sendFiles([...e.dataTransfer.files]);
});

// ---- receiving ---------------------------------------------------------------------------------

function reply(to: string, m: Control): void {
  tfx.sendMessage(m, { to }).catch(() => undefined); // the sender may have left: nothing to do
}

function fold(r: InRow): void {
  const parts = r.t.takeParts();
  if (parts.length) r.blob = new Blob(r.blob ? [r.blob, ...parts] : parts, { type: r.t.mime });
}

function cancelIncoming(r: InRow): void {
  if (!r.t.cancel()) return;
  r.blob = undefined;
  reply(r.t.from, { t: 'cancel', id: r.t.id });
  update(r);
}

function save(r: InRow): void {
  if (r.t.state !== 'done') return;
  fold(r);
  const blob = r.blob ?? new Blob([], { type: r.t.mime });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = r.t.name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function onOffer(m: Extract<Control, { t: 'offer' }>, from: WidgetPeer): void {
  const k = key(from.id, m.id);
  if (incoming.has(k)) return countDrop('duplicate-offer');
  const active = rows.filter((r) => r.kind === 'in' && r.t.active && r.t.from === from.id);
  if (active.length >= MAX_INCOMING_PER_SENDER) {
    countDrop('too-many-offers');
    reply(from.id, { t: 'cancel', id: m.id });
    return;
  }
  const r: InRow = {
    kind: 'in',
    t: new Incoming(m.id, from.id, m.name, m.size, m.mime),
    fromName: from.name || 'someone',
    blob: undefined,
    rate: new Rate(),
    el: makeRow('in', m.id, m.name, m.size),
  };
  incoming.set(k, r);
  addRow(r);
}

function onChunk(buf: ArrayBuffer, from: WidgetPeer): void {
  const c = decodeChunk(buf);
  if (!c) return countDrop('malformed-chunk');
  const r = incoming.get(key(from.id, c.id));
  if (!r) return countDrop('unknown-transfer');
  const res = r.t.chunk(c.seq, c.data);
  if (res === 'failed') {
    countDrop('bad-chunk');
    r.blob = undefined;
    reply(from.id, { t: 'cancel', id: r.t.id });
    update(r);
    return;
  }
  if (res === 'ignored') return; // after our cancel: chunks already in flight
  if (res === 'ack') reply(from.id, { t: 'ack', id: r.t.id, bytes: r.t.received });
  if (r.t.heldBytes >= FOLD_BYTES) fold(r);
  touch(r);
}

function onControl(m: Control, from: WidgetPeer): void {
  if (m.t === 'offer') return onOffer(m, from);
  const inc = incoming.get(key(from.id, m.id));
  if (inc && (m.t === 'end' || m.t === 'cancel')) {
    if (m.t === 'end') {
      const wasActive = inc.t.active;
      const state = inc.t.end(m.sha256);
      if (state === 'done') fold(inc);
      else inc.blob = undefined;
      // The verdict, with our own hash (nothing to say after our cancel, or if bytes were missing).
      if (wasActive && inc.t.sha256)
        reply(from.id, { t: 'result', id: inc.t.id, ok: state === 'done', sha256: inc.t.sha256 });
      else if (wasActive) reply(from.id, { t: 'cancel', id: inc.t.id });
    } else {
      inc.t.fail('sender-cancelled');
      inc.blob = undefined;
    }
    update(inc);
    return;
  }
  const out = outgoing.get(m.id);
  if (out && out.t.fromRecipient(from.id, m)) return touch(out);
  // A late word on a settled transfer (e.g. a cancel crossing our end), or nonsense.
  countDrop(out || inc ? 'unexpected' : 'unknown-transfer');
}

tfx.onMessage((data, from) => {
  if (data instanceof ArrayBuffer) onChunk(data, from);
  else {
    const m = parseControl(data);
    if (m) onControl(m, from);
    else countDrop('malformed');
  }
});

document.body.dataset.ready = 'true';
