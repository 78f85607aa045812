/**
 * The audio visualizer: frequency bars per participant (own microphone included), drawn at up to
 * 30 fps from the host's audio levels (`permissions.media.levels`). Drawing pauses while the
 * widget is hidden (requestAnimationFrame stops, and the host sends nothing while the call page
 * is hidden); the last levels are kept in `document.body.dataset` for tests and assistive tech.
 */
import { connect, type PeerLevel, type WidgetPeer } from '@tfx/widget-sdk';

const BINS = 16;
const canvas = document.getElementById('bars') as HTMLCanvasElement;
const status = document.getElementById('status') as HTMLParagraphElement;
const ctx = canvas.getContext('2d');

let latest: readonly PeerLevel[] = [];
let drawn = true;
const maxSeen = new Map<string, number>();

const tfx = await connect();
let me: WidgetPeer = tfx.self();
let peers = new Map(tfx.peers().map((p) => [p.id, p.name]));
tfx.onSelf((s) => (me = s));
tfx.onPeers((ps) => (peers = new Map(ps.map((p) => [p.id, p.name]))));

const nameOf = (id: string): string => (id === me.id ? 'You' : (peers.get(id) ?? '…'));

try {
  await tfx.audio.subscribeLevels(
    30,
    (levels) => {
      latest = levels;
      drawn = false;
      for (const l of levels) maxSeen.set(l.peer, Math.max(maxSeen.get(l.peer) ?? 0, l.level));
      document.body.dataset.levels = JSON.stringify(
        levels.map((l) => ({
          peer: l.peer,
          self: l.peer === me.id,
          level: l.level,
          max: Math.max(...l.bins, 0),
        })),
      );
    },
    { bins: BINS },
  );
  status.textContent = '';
  document.body.dataset.ready = 'true';
} catch (err) {
  status.textContent = `Audio levels are not available: ${(err as Error).message}`;
}

function draw(): void {
  requestAnimationFrame(draw);
  if (drawn || !ctx) return;
  drawn = true;
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const rows = [...latest].sort((a, b) =>
    a.peer === me.id ? -1 : b.peer === me.id ? 1 : a.peer.localeCompare(b.peer),
  );
  if (rows.length === 0) return;
  const rowH = h / rows.length;
  const label = 90;
  ctx.font = '12px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  rows.forEach((r, i) => {
    const y = i * rowH;
    ctx.fillStyle = '#aab3c5';
    ctx.fillText(nameOf(r.peer).slice(0, 14), 6, y + rowH / 2);
    const n = r.bins.length || 1;
    const bw = (w - label - 8) / n;
    r.bins.forEach((b, j) => {
      const bh = Math.max(1, (b / 255) * (rowH - 6));
      ctx.fillStyle = r.peer === me.id ? '#40e0c0' : '#7c9cff';
      ctx.fillRect(label + j * bw, y + rowH - 3 - bh, Math.max(1, bw - 2), bh);
    });
  });
}
requestAnimationFrame(draw);
