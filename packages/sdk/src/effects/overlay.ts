/**
 * Overlays drawn into the outgoing video: the face-overlay processor's frame, sticker and name
 * badge, and the sanitized vector shapes widgets send (`media.overlay.set`). Every shape was
 * validated against the protocol's schema before it gets here; this file only draws.
 */
import type { BuiltinSticker, OverlayShape, VideoProcessorStep } from '@tfx/protocol/widgets';
import type { FaceBox } from './face-track.js';

type Ctx = OffscreenCanvasRenderingContext2D;
type FaceStep = Extract<VideoProcessorStep, { type: 'face-overlay' }>;

const DEFAULT_COLOUR = '#22e04b';

export function drawFaceOverlay(
  c: Ctx,
  step: FaceStep,
  b: FaceBox,
  w: number,
  h: number,
  name: string,
): void {
  const x = b.x * w;
  const y = b.y * h;
  const bw = b.w * w;
  const bh = b.h * h;
  const colour = step.color ?? DEFAULT_COLOUR;
  c.save();
  if (step.style === 'frame' || step.style === 'centre') {
    c.strokeStyle = colour;
    c.lineWidth = Math.max(3, Math.round(w / 110));
    roundRect(c, x - bw * 0.1, y - bh * 0.15, bw * 1.2, bh * 1.3, Math.min(bw, bh) * 0.15);
    c.stroke();
  } else if (step.style === 'sticker') {
    drawSticker(c, step.sticker ?? 'crown', x + bw * 0.15, y - bh * 0.55, bw * 0.7, bh * 0.5);
  } else if (step.style === 'badge') {
    const text = (step.label ?? name).slice(0, 64);
    if (text) {
      const size = Math.max(12, Math.round(h / 18));
      c.font = `600 ${size}px sans-serif`;
      const tw = c.measureText(text).width;
      const bx = Math.min(w - tw - size, Math.max(0, x + bw / 2 - tw / 2 - size / 2));
      const by = Math.min(h - size * 1.6, y + bh * 1.15);
      c.fillStyle = 'rgba(0,0,0,0.6)';
      roundRect(c, bx, by, tw + size, size * 1.5, size * 0.4);
      c.fill();
      c.fillStyle = colour;
      c.textBaseline = 'middle';
      c.fillText(text, bx + size / 2, by + size * 0.75);
    }
  }
  c.restore();
}

/** Draws widget shapes; "face" space maps through the tracked face box (skipped without one). */
export function drawShapes(
  c: Ctx,
  shapes: readonly OverlayShape[],
  face: FaceBox | null,
  w: number,
  h: number,
): void {
  for (const s of shapes) {
    const space = s.space ?? 'frame';
    if (space === 'face' && !face) continue;
    const ox = space === 'face' && face ? face.x * w : 0;
    const oy = space === 'face' && face ? face.y * h : 0;
    const sx = space === 'face' && face ? face.w * w : w;
    const sy = space === 'face' && face ? face.h * h : h;
    const px = (u: number): number => ox + u * sx;
    const py = (u: number): number => oy + u * sy;
    c.save();
    if (s.kind !== 'sticker') {
      c.strokeStyle = s.color ?? DEFAULT_COLOUR;
      c.fillStyle = s.color ?? DEFAULT_COLOUR;
    }
    switch (s.kind) {
      case 'rect':
      case 'ellipse': {
        c.beginPath();
        if (s.kind === 'rect') c.rect(px(s.x), py(s.y), s.w * sx, s.h * sy);
        else
          c.ellipse(
            px(s.x + s.w / 2),
            py(s.y + s.h / 2),
            (s.w * sx) / 2,
            (s.h * sy) / 2,
            0,
            0,
            Math.PI * 2,
          );
        if (s.fill) {
          c.fillStyle = s.fill;
          c.fill();
        }
        c.lineWidth = ((s.lineWidth ?? 3) * w) / 640;
        if (c.lineWidth > 0) c.stroke();
        break;
      }
      case 'polyline': {
        c.beginPath();
        s.points.forEach(([x, y], i) => (i ? c.lineTo(px(x), py(y)) : c.moveTo(px(x), py(y))));
        if (s.closed) c.closePath();
        c.lineWidth = ((s.lineWidth ?? 3) * w) / 640;
        c.stroke();
        break;
      }
      case 'text': {
        const size = Math.round((s.size ?? 0.06) * h);
        c.font = `600 ${size}px sans-serif`;
        c.textBaseline = 'top';
        c.fillText(s.text, px(s.x), py(s.y));
        break;
      }
      case 'sticker':
        drawSticker(c, s.sticker, px(s.x), py(s.y), s.w * sx, s.h * sy);
        break;
    }
    c.restore();
  }
}

/** Built-in stickers as vector paths (no image fetch, no emoji font needed). */
function drawSticker(c: Ctx, id: BuiltinSticker, x: number, y: number, w: number, h: number): void {
  c.save();
  c.translate(x, y);
  c.scale(w / 100, h / 100);
  c.beginPath();
  switch (id) {
    case 'star':
      for (let i = 0; i < 10; i++) {
        const r = i % 2 ? 20 : 50;
        const a = (Math.PI / 5) * i - Math.PI / 2;
        c.lineTo(50 + r * Math.cos(a), 50 + r * Math.sin(a));
      }
      c.closePath();
      c.fillStyle = '#ffd21f';
      break;
    case 'heart':
      c.moveTo(50, 90);
      c.bezierCurveTo(0, 55, 5, 10, 50, 30);
      c.bezierCurveTo(95, 10, 100, 55, 50, 90);
      c.fillStyle = '#ff3b6b';
      break;
    case 'crown':
      c.moveTo(5, 90);
      c.lineTo(5, 30);
      c.lineTo(30, 55);
      c.lineTo(50, 15);
      c.lineTo(70, 55);
      c.lineTo(95, 30);
      c.lineTo(95, 90);
      c.closePath();
      c.fillStyle = '#ffc400';
      break;
    case 'glasses':
      c.ellipse(28, 55, 22, 18, 0, 0, Math.PI * 2);
      c.moveTo(94, 55);
      c.ellipse(72, 55, 22, 18, 0, 0, Math.PI * 2);
      c.fillStyle = '#111';
      break;
    case 'party':
      c.moveTo(50, 0);
      c.lineTo(85, 95);
      c.lineTo(15, 95);
      c.closePath();
      c.fillStyle = '#9b5cff';
      break;
  }
  c.fill();
  c.restore();
}

function roundRect(c: Ctx, x: number, y: number, w: number, h: number, r: number): void {
  c.beginPath();
  c.roundRect(x, y, w, h, r);
}
