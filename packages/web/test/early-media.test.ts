/**
 * The call page's early camera request (room/boot.ts, room/early-media.ts): boot.ts asks for what
 * the SDK's first getUserMedia will ask for, main.ts hands that request to the SDK, and a request
 * nobody takes is stopped.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MediaManager } from '@tfx/sdk';
import { bootConstraints } from '../src/room/boot.js';
import { EARLY_MEDIA, claimEarlyMedia } from '../src/room/early-media.js';
import { parseRoomParams } from '../src/room/params.js';

interface FakeTrack {
  kind: string;
  stopped: boolean;
  stop(): void;
}
function fakeStream(): MediaStream & { tracks: FakeTrack[] } {
  const tracks: FakeTrack[] = ['audio', 'video'].map((kind) => ({
    kind,
    stopped: false as boolean,
    stop() {
      this.stopped = true;
    },
  }));
  return {
    tracks,
    getTracks: () => tracks,
    getAudioTracks: () => tracks.filter((t) => t.kind === 'audio'),
    getVideoTracks: () => tracks.filter((t) => t.kind === 'video'),
  } as unknown as MediaStream & { tracks: FakeTrack[] };
}

/** A MediaDevices whose getUserMedia records its constraints and answers with a fresh stream. */
function fakeDevices() {
  const calls: MediaStreamConstraints[] = [];
  const devices = {
    getUserMedia: (c: MediaStreamConstraints) => {
      calls.push(c);
      return Promise.resolve(fakeStream());
    },
    enumerateDevices: () => Promise.resolve([]),
  };
  return { calls, devices: devices as unknown as MediaDevices };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
  delete (globalThis as Record<symbol, unknown>)[EARLY_MEDIA];
});

describe('bootConstraints', () => {
  it.each([
    '',
    '?cam=320x240@15',
    '?cam=1280x720',
    '?cam=99999x1',
    '?name=A&autojoin=1&cam=640x360@24',
  ])('asks for what the SDK asks for first (search %j)', async (search) => {
    const { calls, devices } = fakeDevices();
    const params = parseRoomParams('/r/some-room', search);
    // What main.ts's ensureMedia passes to createLocalMedia, which hands it to acquire().
    await new MediaManager(devices).acquire({
      camera: params.camera,
      audioEnabled: params.audio,
      videoEnabled: params.video,
    } as Parameters<MediaManager['acquire']>[0]);
    expect(JSON.stringify(bootConstraints(search))).toBe(JSON.stringify(calls[0]));
  });
});

describe('claimEarlyMedia', () => {
  it('serves the early stream to the first matching request, once', async () => {
    const { calls, devices } = fakeDevices();
    const early = fakeStream();
    const slot = {
      [EARLY_MEDIA]: { constraints: bootConstraints(''), stream: Promise.resolve(early) },
    };
    const claimed = claimEarlyMedia(devices, slot);
    expect(slot[EARLY_MEDIA]).toBe('claimed');
    expect(claimed).not.toBeNull();
    const got = await claimed?.devices.getUserMedia(bootConstraints(''));
    expect(got).toBe(early);
    expect(calls).toHaveLength(0);
    // A second request goes to the browser; the stream handed out is not stopped by release().
    await claimed?.devices.getUserMedia(bootConstraints(''));
    expect(calls).toHaveLength(1);
    claimed?.release();
    await flush();
    expect(early.tracks.every((t) => !t.stopped)).toBe(true);
    // Other members reach the real MediaDevices.
    await expect(claimed?.devices.enumerateDevices()).resolves.toEqual([]);
  });

  it('stops the early stream and asks the browser when the first request differs', async () => {
    const { calls, devices } = fakeDevices();
    const early = fakeStream();
    const slot = {
      [EARLY_MEDIA]: { constraints: bootConstraints(''), stream: Promise.resolve(early) },
    };
    const claimed = claimEarlyMedia(devices, slot);
    const other = { audio: false, video: true };
    await claimed?.devices.getUserMedia(other);
    expect(calls).toEqual([other]);
    await flush();
    expect(early.tracks.every((t) => t.stopped)).toBe(true);
  });

  it('stops an early stream nobody took on release (idempotent), and survives a refused one', async () => {
    const { devices } = fakeDevices();
    const early = fakeStream();
    const claimed = claimEarlyMedia(devices, {
      [EARLY_MEDIA]: { constraints: bootConstraints(''), stream: Promise.resolve(early) },
    });
    claimed?.release();
    claimed?.release();
    await flush();
    expect(early.tracks.every((t) => t.stopped)).toBe(true);
    const refused = Promise.reject(new DOMException('denied', 'NotAllowedError'));
    refused.catch(() => undefined);
    const c2 = claimEarlyMedia(devices, {
      [EARLY_MEDIA]: { constraints: bootConstraints(''), stream: refused },
    });
    // The refusal reaches the SDK (its fallbacks), as the browser's own would.
    await expect(c2?.devices.getUserMedia(bootConstraints(''))).rejects.toThrow('denied');
  });

  it('is null without an early request, and claims the slot so a later boot asks for nothing', () => {
    const { devices } = fakeDevices();
    const slot: Record<symbol, unknown> = {};
    expect(claimEarlyMedia(devices, slot)).toBeNull();
    expect(slot[EARLY_MEDIA]).toBe('claimed');
    expect(claimEarlyMedia(undefined, {})).toBeNull();
  });
});

describe('boot.ts', () => {
  it('asks for the camera at once and leaves the request in the slot', async () => {
    const { calls, devices } = fakeDevices();
    vi.stubGlobal('navigator', { mediaDevices: devices });
    vi.stubGlobal('location', { search: '?cam=320x240@15' });
    await import('../src/room/boot.js');
    expect(calls).toEqual([bootConstraints('?cam=320x240@15')]);
    const slot = (globalThis as Record<symbol, unknown>)[EARLY_MEDIA] as { stream: unknown };
    expect(slot.stream).toBeInstanceOf(Promise);
  });

  it('asks for nothing when the page script has claimed the slot first', async () => {
    const { calls, devices } = fakeDevices();
    vi.stubGlobal('navigator', { mediaDevices: devices });
    vi.stubGlobal('location', { search: '' });
    (globalThis as Record<symbol, unknown>)[EARLY_MEDIA] = 'claimed';
    await import('../src/room/boot.js');
    expect(calls).toEqual([]);
  });
});
