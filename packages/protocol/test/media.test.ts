import { describe, expect, it } from 'vitest';
import {
  MEDIA_LIMITS,
  MEDIA_REQUEST_PERMISSION,
  MEDIA_REQUEST_SCHEMAS,
  MEDIA_REQUEST_TYPES,
  checkManifest,
  checkVideoProcessorSpec,
  isLocalImageUrl,
  mediaRequestAllowed,
  parseHostToWidget,
  parseMediaRequest,
  peekMediaEnvelope,
  widgetMediaPermissionsSchema,
} from '../src/index.js';

const env = { tfx: 'tfx-widget', v: 1, widget: 'filters', id: 7 } as const;

describe('video processor specs', () => {
  it('accepts one step and returns a chain of one', () => {
    const r = checkVideoProcessorSpec({ type: 'blur', strength: 8 });
    expect(r).toEqual({ ok: true, chain: [{ type: 'blur', strength: 8 }] });
  });
  it('accepts a chain of different steps in the order given', () => {
    const r = checkVideoProcessorSpec([
      { type: 'background-image', background: 'office' },
      { type: 'filter', name: 'sepia', intensity: 0.5 },
      { type: 'face-overlay', style: 'badge', label: 'Ann' },
    ]);
    expect(r.ok && r.chain.map((s) => s.type)).toEqual([
      'background-image',
      'filter',
      'face-overlay',
    ]);
  });
  it('treats null as the empty chain (off)', () => {
    expect(checkVideoProcessorSpec(null)).toEqual({ ok: true, chain: [] });
  });
  it.each([
    [{ type: 'blur', strength: 0 }, 'strength'],
    [{ type: 'blur', strength: 1e9 }, 'strength'],
    [{ type: 'blur', radius: 3 }, 'radius'],
    [{ type: 'filter', name: 'rainbow' }, 'name'],
    [{ type: 'teleport' }, 'type'],
    [{ type: 'background-image' }, 'exactly one'],
    [{ type: 'background-image', background: 'office', url: '/x.png' }, 'exactly one'],
    [{ type: 'background-image', url: 'https://evil.example/x.png' }, 'url'],
    [{ type: 'background-image', url: '//evil.example/x.png' }, 'url'],
    [{ type: 'background-image', url: 'javascript:alert(1)' }, 'url'],
    [
      [
        { type: 'filter', name: 'sepia' },
        { type: 'filter', name: 'cool' },
      ],
      'twice',
    ],
    [[{ type: 'blur' }, { type: 'background-image', background: 'plain' }], 'exclude'],
    [Array.from({ length: MEDIA_LIMITS.chainMax + 1 }, () => ({ type: 'blur' })), ''],
    [{ type: 'face-overlay', style: 'badge', label: 'a\u202eb' }, 'bidi'],
    ['blur', ''],
    [42, ''],
  ])('refuses %j with a clear error', (spec, hint) => {
    const r = checkVideoProcessorSpec(spec);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(hint);
  });
  it('only local images: data:image, blob: and paths on this origin', () => {
    expect(isLocalImageUrl('data:image/png;base64,iVBORw0KGgo=')).toBe(true);
    expect(isLocalImageUrl('blob:http://127.0.0.1:3000/1b2c')).toBe(true);
    expect(isLocalImageUrl('/effects/backgrounds/office.jpg')).toBe(true);
    expect(isLocalImageUrl('data:text/html;base64,PGI+')).toBe(false);
    expect(isLocalImageUrl('http://127.0.0.1/x.png')).toBe(false);
  });
});

describe('manifest permissions.media', () => {
  const entry = {
    plugintype: 'media',
    id: 'filters',
    type: 'filters',
    title: 'Video filters',
    icon: 'media',
    url: '/widgets/filters/',
  };
  it('accepts processor, frames "self" and overlay', () => {
    const r = checkManifest([
      { ...entry, permissions: { media: { processor: true, frames: 'self', overlay: true } } },
    ]);
    expect(r.ok).toBe(true);
  });
  it('refuses unknown media keys and frames of other peers, naming the field', () => {
    const a = checkManifest([{ ...entry, permissions: { media: { screen: true } } }]);
    expect(a.ok).toBe(false);
    if (!a.ok) expect(a.error).toMatch(/permissions\.media.*screen/);
    const b = checkManifest([{ ...entry, permissions: { media: { frames: 'peers' } } }]);
    expect(b.ok).toBe(false);
  });
  it('grants each request by exactly its key', () => {
    expect(mediaRequestAllowed(undefined, 'media.processor.set')).toBe(false);
    expect(mediaRequestAllowed({ overlay: true }, 'media.processor.set')).toBe(false);
    expect(mediaRequestAllowed({ processor: true }, 'media.processor.set')).toBe(true);
    expect(mediaRequestAllowed({ processor: false }, 'media.processor.set')).toBe(false);
    expect(mediaRequestAllowed({ frames: 'self' }, 'media.frames.subscribe')).toBe(true);
    expect(mediaRequestAllowed({ frames: 'self' }, 'media.overlay.set')).toBe(false);
  });
  it('declares every request type once: a schema, a permission key that the manifest knows', () => {
    const keys = Object.keys(widgetMediaPermissionsSchema.shape);
    for (const t of MEDIA_REQUEST_TYPES) {
      expect(MEDIA_REQUEST_SCHEMAS[t]).toBeDefined();
      expect(keys).toContain(MEDIA_REQUEST_PERMISSION[t]);
    }
    expect(Object.keys(MEDIA_REQUEST_SCHEMAS).sort()).toEqual([...MEDIA_REQUEST_TYPES].sort());
  });
});

describe('widget → host media requests', () => {
  it('parses processor.set and normalises the spec to a chain', () => {
    const r = parseMediaRequest({
      ...env,
      type: 'media.processor.set',
      spec: { type: 'filter', name: 'grayscale' },
    });
    expect(r).toEqual({
      ok: true,
      request: {
        ...env,
        type: 'media.processor.set',
        spec: [{ type: 'filter', name: 'grayscale' }],
      },
    });
    expect(parseMediaRequest({ ...env, type: 'media.processor.set', spec: null })).toMatchObject({
      ok: true,
      request: { spec: [] },
    });
  });
  it('bounds frame subscriptions to 5 fps, 640 wide and self', () => {
    const ok = parseMediaRequest({
      ...env,
      type: 'media.frames.subscribe',
      peer: 'self',
      fps: 5,
      maxWidth: 640,
    });
    expect(ok.ok).toBe(true);
    for (const bad of [
      { fps: 6 },
      { fps: 0 },
      { maxWidth: 641 },
      { peer: 'abc' },
      { fps: Number.NaN },
    ]) {
      const r = parseMediaRequest({
        ...env,
        type: 'media.frames.subscribe',
        peer: 'self',
        fps: 2,
        ...bad,
      });
      expect(r.ok, JSON.stringify(bad)).toBe(false);
      expect(!r.ok && r.id).toBe(7);
    }
  });
  it('accepts sanitized overlay shapes and refuses anything else', () => {
    const shapes = [
      { kind: 'rect', x: 0.1, y: 0.1, w: 0.3, h: 0.4, color: '#ff0000', lineWidth: 3 },
      { kind: 'ellipse', x: 0, y: 0, w: 1, h: 1, space: 'face' },
      {
        kind: 'polyline',
        points: [
          [0, 0],
          [1, 1],
        ],
        closed: true,
      },
      { kind: 'text', x: 0.5, y: 0.9, text: 'hello', size: 0.05 },
      { kind: 'sticker', x: 0.2, y: -0.3, w: 1, h: 0.5, sticker: 'crown', space: 'face' },
    ];
    expect(parseMediaRequest({ ...env, type: 'media.overlay.set', peer: 'self', shapes }).ok).toBe(
      true,
    );
    const hostile = [
      { kind: 'image', x: 0, y: 0, src: 'https://evil.example/a.png' },
      { kind: 'rect', x: 0, y: 0, w: 1, h: 1, color: 'url(https://evil.example)' },
      { kind: 'rect', x: Infinity, y: 0, w: 1, h: 1 },
      { kind: 'rect', x: 1e9, y: 0, w: 1, h: 1 },
      { kind: 'text', x: 0, y: 0, text: 'x'.repeat(MEDIA_LIMITS.textMax + 1) },
      { kind: 'text', x: 0, y: 0, text: 'a\nb' },
      { kind: 'sticker', x: 0, y: 0, w: 1, h: 1, sticker: '../../etc/passwd' },
      { kind: 'polyline', points: Array.from({ length: 65 }, () => [0, 0]) },
      { kind: 'rect', x: 0, y: 0, w: 1, h: 1, onclick: 'x' },
    ];
    for (const s of hostile) {
      const r = parseMediaRequest({ ...env, type: 'media.overlay.set', peer: 'self', shapes: [s] });
      expect(r.ok, JSON.stringify(s)).toBe(false);
    }
    const many = Array.from({ length: MEDIA_LIMITS.overlayMaxShapes + 1 }, () => shapes[0]);
    expect(
      parseMediaRequest({ ...env, type: 'media.overlay.set', peer: 'self', shapes: many }).ok,
    ).toBe(false);
  });
  it('refuses unknown types, forged fields and non-objects without throwing', () => {
    for (const v of [
      null,
      42,
      'media.processor.set',
      [],
      { ...env, type: 'media.levels.hack' },
      { ...env, type: 'media.frames.unsubscribe', extra: 1 },
      { ...env, widget: '../x', type: 'media.frames.unsubscribe' },
      { ...env, id: -1, type: 'media.frames.unsubscribe' },
    ]) {
      expect(parseMediaRequest(v).ok).toBe(false);
    }
  });
});

describe('media envelopes without zod', () => {
  it('peeks a media request for routing and ignores everything else', () => {
    const m = peekMediaEnvelope({ ...env, type: 'media.overlay.set', shapes: 'junk' });
    expect(m).toMatchObject({ type: 'media.overlay.set', widget: 'filters', id: 7 });
    expect(peekMediaEnvelope({ ...env, type: 'send' })).toBeNull();
    expect(peekMediaEnvelope({ ...env, type: 'media.overlay.set', id: 'x' })).toBeNull();
    expect(peekMediaEnvelope({ ...env, tfx: 'other', type: 'media.overlay.set' })).toBeNull();
  });
  it('parses the host’s media.ack, media.frame and media.processor', () => {
    const base = { tfx: 'tfx-widget', v: 1 };
    expect(parseHostToWidget({ ...base, type: 'media.ack', id: 3 })).toMatchObject({ id: 3 });
    const bitmap = { width: 320, height: 180, close: () => undefined };
    expect(
      parseHostToWidget({
        ...base,
        type: 'media.frame',
        peer: 'self',
        bitmap,
        width: 320,
        height: 180,
        at: 12.5,
      }),
    ).toMatchObject({ type: 'media.frame', width: 320 });
    expect(
      parseHostToWidget({ ...base, type: 'media.frame', peer: 'self', bitmap: {}, width: 1 }),
    ).toBeNull();
    expect(
      parseHostToWidget({
        ...base,
        type: 'media.processor',
        chain: [{ type: 'blur' }],
        by: 'widget',
        widget: 'filters',
        notice: 'x',
      }),
    ).toMatchObject({ by: 'widget', widget: 'filters', notice: 'x' });
    expect(
      parseHostToWidget({ ...base, type: 'media.processor', chain: [{ type: 'evil' }] }),
    ).toBeNull();
  });
});
