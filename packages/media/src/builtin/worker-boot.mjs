// Loads the media worker from its TypeScript source (tests run the sources): registers tsx in
// this worker thread, then imports worker.ts. Built code loads dist/builtin/worker.js instead.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.__entry);
