import type { MediaEngineEventName, MediaEngineEvents } from './types.js';

type Listener<E extends MediaEngineEventName> = (e: MediaEngineEvents[E]) => void;

/**
 * The typed event hub both engines use for `MediaEngine.on`. A listener that throws does not stop
 * the others; its error goes to `onListenerError` (the engine's logger).
 */
export class MediaEventHub {
  readonly #listeners = new Map<MediaEngineEventName, Set<Listener<never>>>();

  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {}

  on<E extends MediaEngineEventName>(event: E, listener: Listener<E>): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => {
      set.delete(listener as Listener<never>);
    };
  }

  emit<E extends MediaEngineEventName>(event: E, payload: MediaEngineEvents[E]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const l of [...set]) {
      try {
        (l as Listener<E>)(payload);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
