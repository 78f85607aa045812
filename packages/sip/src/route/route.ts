/**
 * The named-stage pipeline runner of a SIP element (Kamailio's `request_route` with its
 * `route[...]` blocks): stages run in a fixed order, each answers the request (`DONE`) or lets it
 * go on (`NEXT`). Whoever opens the element's entry file reads its policy as the list of stages.
 * Synchronous stages cost no promise; a stage that must wait (a store, DNS) returns one.
 */

export const NEXT = 'next';
export const DONE = 'done';
export type Verdict = typeof NEXT | typeof DONE;

/** One stage: reads and changes the context, answers or passes on. */
export type Stage<C> = (ctx: C) => Verdict | Promise<Verdict>;

export class Route<C> {
  readonly stages: ReadonlyArray<readonly [name: string, stage: Stage<C>]>;

  constructor(stages: ReadonlyArray<readonly [name: string, stage: Stage<C>]>) {
    const names = new Set<string>();
    for (const [name] of stages) {
      if (names.has(name)) throw new TypeError(`route: stage "${name}" named twice`);
      names.add(name);
    }
    this.stages = stages;
  }

  /** The stage names, in order. */
  get names(): string[] {
    return this.stages.map(([n]) => n);
  }

  /**
   * Runs the stages from `from` until one answers. Returns nothing when every stage ran
   * synchronously, else a promise that settles when the route is done (and rejects with what a
   * stage threw).
   */
  run(ctx: C, from = 0): void | Promise<void> {
    const stages = this.stages;
    for (let i = from; i < stages.length; i++) {
      const v = stages[i]![1](ctx);
      if (v === DONE) return;
      if (v !== NEXT) return v.then((r) => (r === DONE ? undefined : this.run(ctx, i + 1)));
    }
  }
}
