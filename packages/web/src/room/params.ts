/**
 * Options of the room page from its URL: `/r/<room>?name=NAME&autojoin=1&audio=0&video=0`.
 * `autojoin=1` with a name skips the pre-join screen (embedders and tests); `audio=0` / `video=0`
 * join muted; `relay=1` forces TURN relay (diagnostics); `cam=WxH@FPS` sets the camera size.
 */
import { normalizeRoomName } from '@tfx/protocol/core';
import type { CameraConstraints } from '@tfx/sdk';

export interface RoomParams {
  readonly room: string | undefined;
  readonly rawRoom: string;
  readonly name: string | undefined;
  readonly autojoin: boolean;
  readonly audio: boolean;
  readonly video: boolean;
  readonly relay: boolean;
  readonly camera: CameraConstraints | undefined;
}

const off = (v: string | null): boolean => v === '0' || v === 'false' || v === 'off';
const on = (v: string | null): boolean => v === '1' || v === 'true' || v === 'on';

export function parseRoomParams(pathname: string, search: string): RoomParams {
  const q = new URLSearchParams(search);
  const raw = decodeURIComponent(pathname.replace(/^\/r\//, '').replace(/\/.*$/, ''));
  const name = q.get('name')?.trim().slice(0, 64) || undefined;
  const cam = /^(\d{2,4})x(\d{2,4})(?:@(\d{1,2}))?$/.exec(q.get('cam') ?? '');
  return {
    room: normalizeRoomName(raw),
    rawRoom: raw,
    name,
    autojoin: on(q.get('autojoin')) && name !== undefined,
    audio: !off(q.get('audio')),
    video: !off(q.get('video')),
    relay: on(q.get('relay')),
    camera: cam
      ? {
          width: Number(cam[1]),
          height: Number(cam[2]),
          ...(cam[3] ? { frameRate: Number(cam[3]) } : {}),
        }
      : undefined,
  };
}
