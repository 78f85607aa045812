/**
 * Call-progress tones and announcements toward the caller (issue #20 item 4), per the caller's
 * zone (`ZoneSpec.tones`; off when unset):
 *
 *   far side 180 without SDP        → ringback (ITU-T E.180: 425 Hz, 1 s on 4 s off) until the
 *                                     far side's early media (183 + SDP) or its answer
 *   far side 486 / 600              → busy tone for `busySeconds`, then the failure is relayed
 *   503 / 504 (no trunk left)       → congestion tone for `congestionSeconds`, then relayed
 *   404 / 484 (unknown number)      → the `announcements.unknownNumber` WAV once, then relayed
 *   480 / 408 (unreachable)         → the `announcements.unreachable` WAV once, then relayed
 *
 * The caller hears a tone only over an early media path: the SBC answers the caller's offer in a
 * 183 Session Progress with SDP before the far side has (as Asterisk's `Progress()` does), the
 * engine's session completed with a stand-in for the far side's answer (its offered codecs,
 * `sendrecv`, port 9: the discard port, so nothing of the caller's reaches anyone). The far side's
 * real answer (183 or 200 with SDP) replaces the stand-in in the engine; the engine's egress toward
 * the caller keeps one SSRC and a continuous sequence and timestamp across the switch from the
 * tone to the relayed stream (egress.ts). Refusals before a call is bridged (no route, limits,
 * digest) get no tone: there is no media session yet. Only streams that are all audio get tones
 * (a rejected video line in the stand-in would close that stream for the real answer).
 */
import { TfxError } from '@tfx/protocol';
import { readWav, type MediaEngine, type PlaySource } from '@tfx/media';
import type { Clock } from '@tfx/sip';

/** A zone's tones toward callers entering through it; every field off by default. */
export interface ZoneTones {
  /** Ringback over early media when the far side rings without SDP. */
  readonly ringback?: boolean;
  /** Seconds of busy tone before 486/600 is relayed (0: none). */
  readonly busySeconds?: number;
  /** Seconds of congestion tone before 503/504 is relayed (0: none). */
  readonly congestionSeconds?: number;
  /** WAV files (PCM 8/16-bit, A-law or μ-law, any rate) played once before the failure. */
  readonly announcements?: {
    /** 404 Not Found, 484 Address Incomplete. */
    readonly unknownNumber?: string;
    /** 480 Temporarily Unavailable, 408 Request Timeout. */
    readonly unreachable?: string;
  };
}

/** Longest announcement played (a longer file is refused as a config error). */
export const MAX_ANNOUNCEMENT_MS = 60_000;

/** What is played before a failure `status` is relayed, and for how long. */
export interface FailureTone {
  readonly source: PlaySource;
  readonly ms: number;
}

/**
 * The length of a WAV announcement in ms (8 kHz after resampling), or a TfxError `config-invalid`
 * naming the file: unreadable, not a WAV the engine plays, empty, or over a minute.
 */
export function announcementMs(path: string): number {
  let pcm: Int16Array;
  try {
    pcm = readWav(path); // the media package reads the file (this package does no I/O)
  } catch (err) {
    throw new TfxError(
      'config-invalid',
      `announcement ${path}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const ms = Math.round(pcm.length / 8);
  if (ms < 20 || ms > MAX_ANNOUNCEMENT_MS)
    throw new TfxError(
      'config-invalid',
      `announcement ${path}: ${ms} ms long (20 ms to ${MAX_ANNOUNCEMENT_MS / 1000} s)`,
    );
  return ms;
}

/** The tone (or announcement) for a far side's final `status` under `spec`, if any. Pure. */
export function failureTone(
  status: number,
  spec: ZoneTones | undefined,
  durationOf: (path: string) => number,
): FailureTone | undefined {
  if (!spec) return undefined;
  const secs = (s: number | undefined): number => Math.max(0, Math.min(30, s ?? 0)) * 1000;
  if (status === 486 || status === 600) {
    const ms = secs(spec.busySeconds);
    return ms > 0 ? { source: { tone: 'busy' }, ms } : undefined;
  }
  if (status === 503 || status === 504) {
    const ms = secs(spec.congestionSeconds);
    return ms > 0 ? { source: { tone: 'congestion' }, ms } : undefined;
  }
  const wav =
    status === 404 || status === 484
      ? spec.announcements?.unknownNumber
      : status === 480 || status === 408
        ? spec.announcements?.unreachable
        : undefined;
  return wav === undefined ? undefined : { source: { wav }, ms: durationOf(wav) };
}

/**
 * The stand-in for the far side's answer (see above), from the offer the SBC sent it: each audio
 * m= line answered on port 9 with the offered codecs, `sendrecv`. Undefined when the offer has a
 * line that is not audio. Pure.
 */
export function standInAnswer(offerToFarSide: string, address: string): string | undefined {
  const ip = address.includes(':') ? 'IP6' : 'IP4';
  const out = ['v=0', `o=- 1 1 IN ${ip} ${address}`, 's=-', `c=IN ${ip} ${address}`, 't=0 0'];
  let lines = 0;
  for (const line of offerToFarSide.split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      const [media, , proto, ...fmts] = line.slice(2).split(' ');
      if (media !== 'audio' || proto === undefined) return undefined;
      out.push(`m=audio 9 ${proto} ${fmts.join(' ')}`, 'a=sendrecv');
      lines++;
    } else if (lines > 0 && (line.startsWith('a=rtpmap:') || line.startsWith('a=fmtp:')))
      out.push(line);
  }
  return lines > 0 ? `${out.join('\r\n')}\r\n` : undefined;
}

/** The engine calls and the clock a call's tones use (the SBC's). */
export interface CallTones {
  readonly engine: Pick<MediaEngine, 'playMedia' | 'stopMedia'>;
  readonly clock: Clock;
  /** The caller zone's tones (the zone a call entered through). */
  spec(zone: string): ZoneTones | undefined;
  /** An announcement's length in ms (read once when the SBC starts). */
  durationOf(path: string): number;
  readonly counters: ToneCounters;
}

export interface ToneCounters {
  /** Ringbacks started, failure tones and announcements played, tones that failed to start. */
  ringback: number;
  failure: number;
  failed: number;
}

/** Announcement lengths of every zone, read and checked once (a bad file: `config-invalid`). */
export function announcementDurations(
  zones: readonly { readonly tones?: ZoneTones }[],
): Map<string, number> {
  const out = new Map<string, number>();
  for (const z of zones) {
    const a = z.tones?.announcements;
    for (const p of [a?.unknownNumber, a?.unreachable])
      if (p !== undefined && !out.has(p)) out.set(p, announcementMs(p));
  }
  return out;
}
