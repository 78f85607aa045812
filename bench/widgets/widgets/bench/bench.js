// The benchmark's widget: timestamps every message it sends (first 8 bytes, ms since the epoch
// with sub-ms precision; both participants run in one browser, one clock) and records arrivals.
import { connect } from '/widget-sdk/v1.js';

const tfx = await connect();
const now = () => performance.timeOrigin + performance.now();
const arrivals = [];
tfx.onMessage((data) => {
  const t = now();
  if (data instanceof ArrayBuffer) arrivals.push([new DataView(data).getFloat64(0), t]);
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
window.bench = {
  arrivals,
  reset() {
    arrivals.length = 0;
  },
  /** n messages of `size` bytes, each awaited (the SDK's back-pressure paces the loop). */
  async burst(n, size) {
    const buf = new Uint8Array(size);
    const dv = new DataView(buf.buffer);
    const t0 = now();
    for (let i = 0; i < n; i++) {
      dv.setFloat64(0, now());
      await tfx.sendMessage(buf);
    }
    return now() - t0;
  },
  /** n messages of `size` bytes, not awaited one by one: the SDK's window pipelines them. */
  async pipelined(n, size) {
    const buf = new Uint8Array(size);
    const dv = new DataView(buf.buffer);
    const t0 = now();
    const all = [];
    for (let i = 0; i < n; i++) {
      dv.setFloat64(0, now());
      all.push(tfx.sendMessage(buf));
    }
    await Promise.all(all);
    return now() - t0;
  },
  /** n messages of `size` bytes, one every `gapMs` (latency without queueing). */
  async paced(n, size, gapMs) {
    const buf = new Uint8Array(size);
    const dv = new DataView(buf.buffer);
    for (let i = 0; i < n; i++) {
      dv.setFloat64(0, now());
      await tfx.sendMessage(buf);
      await sleep(gapMs);
    }
  },
};
document.body.dataset.ready = '1';
