/**
 * The built-in media engine's free ports for the SBC's admission control (`sbc.admission.
 * minFreeMediaPorts`, docs/sbc.md "Admission control and QoS"). The engine counts the ports its
 * workers hold asynchronously (`counters()`), while admission decides synchronously: the count is
 * polled once a second and the last one is used. Only when the limit is configured; with rtpengine
 * (no such count) the free ports are unknown and the limit does not refuse.
 */
import type { MediaEngine } from '@tfx/media';

interface PortCounting {
  counters(): Promise<{ readonly portsInUse: number }>;
}

function countsPorts(e: MediaEngine): e is MediaEngine & PortCounting {
  return e.kind === 'builtin' && typeof (e as Partial<PortCounting>).counters === 'function';
}

export interface MediaPortWatch {
  /** Free ports at the last poll; undefined before the first or when the engine cannot say. */
  free(): number | undefined;
  close(): void;
}

export function watchMediaPorts(
  engine: MediaEngine,
  range: { readonly portMin: number; readonly portMax: number },
  intervalMs = 1000,
): MediaPortWatch {
  if (!countsPorts(engine)) return { free: () => undefined, close: () => undefined };
  const total = range.portMax - range.portMin + 1;
  let free: number | undefined;
  let closed = false;
  const poll = (): void => {
    engine.counters().then(
      (c) => {
        if (!closed) free = Math.max(0, total - c.portsInUse);
      },
      () => {
        free = undefined; // the engine is closing: unknown, never refused for it
      },
    );
  };
  poll();
  const timer = setInterval(poll, intervalMs);
  timer.unref();
  return {
    free: () => free,
    close: () => {
      closed = true;
      clearInterval(timer);
    },
  };
}
