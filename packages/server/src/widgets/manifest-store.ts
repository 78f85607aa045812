/**
 * The widget manifest file: seeded with the built-ins when missing, validated at start (an error
 * names the entry and field), and reloaded when it changes — keeping the old manifest when the
 * new one is invalid. The directory is watched (editors replace files rather than write them),
 * and changes are debounced.
 */
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import {
  TfxError,
  checkManifest,
  type ManifestCheck,
  type WidgetManifest,
  type WidgetManifestEntry,
} from '@tfx/protocol';

/** Reads and validates a manifest file; never throws. */
export async function readManifestFile(path: string): Promise<ManifestCheck> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return { ok: false, error: `cannot read ${path}: ${(err as Error).message}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not valid JSON: ${(err as Error).message}` };
  }
  return checkManifest(json);
}

/** Writes a manifest atomically (temp file + rename), pretty-printed. */
export async function writeManifestFile(path: string, manifest: WidgetManifest): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, path);
}

/**
 * The manifest at `path`; a missing file is created with `seed`. Throws `manifest-invalid`
 * naming the file, the entry and the field.
 */
export async function loadOrSeedManifest(
  path: string,
  seed: WidgetManifest,
): Promise<{ manifest: WidgetManifest; seeded: boolean }> {
  if (!existsSync(path)) {
    await writeManifestFile(path, seed);
    return { manifest: seed, seeded: true };
  }
  const r = await readManifestFile(path);
  if (!r.ok) throw new TfxError('manifest-invalid', `${path}: ${r.error}`, { file: path });
  return { manifest: r.manifest, seeded: false };
}

/** Adds one entry to the manifest file (seeding it first if missing); refuses a duplicate id. */
export async function addManifestEntry(
  path: string,
  entry: WidgetManifestEntry,
  seed: WidgetManifest,
): Promise<WidgetManifest> {
  const { manifest } = await loadOrSeedManifest(path, seed);
  if (manifest.some((e) => e.id === entry.id))
    throw new TfxError('manifest-invalid', `${path}: a widget with id "${entry.id}" exists`);
  const next = [...manifest, entry];
  const r = checkManifest(next);
  if (!r.ok) throw new TfxError('manifest-invalid', `${path}: ${r.error}`);
  await writeManifestFile(path, r.manifest);
  return r.manifest;
}

export interface ManifestWatcherOptions {
  readonly debounceMs?: number;
  readonly onReload: (manifest: WidgetManifest) => void;
  readonly onInvalid: (error: string) => void;
}

/** Watches the manifest's folder and reloads the file when it changes. `close()` is idempotent. */
export class ManifestWatcher {
  readonly #path: string;
  readonly #o: ManifestWatcherOptions;
  #watcher: FSWatcher | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #last: string;
  #running: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(path: string, current: WidgetManifest, o: ManifestWatcherOptions) {
    this.#path = path;
    this.#o = o;
    this.#last = JSON.stringify(current);
  }

  start(): void {
    const name = basename(this.#path);
    this.#watcher = watch(dirname(this.#path), { persistent: false }, (_event, file) => {
      if (file !== null && file !== name) return;
      this.#schedule();
    });
    this.#watcher.on('error', () => undefined);
  }

  /** Re-reads the file now (also what the watcher does after the debounce). */
  reload(): Promise<void> {
    this.#running = this.#running.then(async () => {
      if (this.#closed) return;
      const r = await readManifestFile(this.#path);
      if (this.#closed) return;
      if (!r.ok) return this.#o.onInvalid(r.error);
      const text = JSON.stringify(r.manifest);
      if (text === this.#last) return;
      this.#last = text;
      this.#o.onReload(r.manifest);
    });
    return this.#running;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#watcher?.close();
    this.#watcher = null;
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.reload();
    }, this.#o.debounceMs ?? 200);
  }
}
