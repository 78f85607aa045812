import { describe, expect, it } from 'vitest';
import {
  BALL_R,
  COUNTDOWN_MS,
  COURT_H,
  COURT_W,
  ClockSync,
  EMPTY_SEAT,
  Game,
  LEFT_FACE,
  MAX_BOUNCE_ANGLE,
  MAX_SERVE_ANGLE,
  MAX_SPEED,
  PADDLE_MAX,
  PADDLE_MIN,
  POINT_PAUSE_MS,
  REACH,
  RIGHT_FACE,
  SERVE_SPEED,
  SPEEDUP,
  arrival,
  ballAt,
  bounce,
  fit,
  holder,
  isHit,
  matchKey,
  matchPlayers,
  mergeSeat,
  parseMsg,
  serveSegment,
  toCourtY,
  winnerOf,
  type Msg,
  type SeatReg,
  type Segment,
  type Side,
} from '../src/pingpong/model.js';

/** Delivers `msg` from `from` to each replica as it would arrive: through JSON. */
function deliver(from: Game & { id: string }, msg: Msg | null, ...to: (Game & { id: string })[]) {
  expect(msg).not.toBeNull();
  for (const g of to) g.receive(JSON.parse(JSON.stringify(msg)), from.id);
}
const replica = (id: string): Game & { id: string } => Object.assign(new Game(id), { id });

/** Ann (left), Bob (right) and Cid (watching), everyone told of every claim. */
function table() {
  const ann = replica('ann');
  const bob = replica('bob');
  const cid = replica('cid');
  deliver(ann, ann.claim(), bob, cid);
  deliver(bob, bob.claim(), ann, cid);
  return { ann, bob, cid, all: [ann, bob, cid] };
}

/** Both ready, Ann starts at `at`: returns the serve time. */
function start(t: ReturnType<typeof table>, at = 10_000): number {
  const { ann, bob, cid } = t;
  deliver(ann, ann.ready(), bob, cid);
  deliver(bob, bob.ready(), ann, cid);
  const msg = ann.startIfDue(at, 500);
  deliver(ann, msg, bob, cid);
  return at + 500 + COUNTDOWN_MS;
}

/** The player the ball is coming to judges it: a hit (paddle on the ball) or a miss. */
function judge(t: ReturnType<typeof table>, hit: boolean): Side {
  const { ann, bob, cid } = t;
  const seg = ann.match!.seg!;
  const a = arrival(seg);
  const judgeG = a.side === 'left' ? ann : bob;
  const others = [ann, bob, cid].filter((g) => g !== judgeG);
  expect(judgeG.judgeAt()).toBe(a.t);
  expect(judgeG.judge(a.t - 1, a.y)).toBeNull(); // not before the ball arrives
  const py = hit ? a.y : a.y > COURT_H / 2 ? PADDLE_MIN : PADDLE_MAX;
  deliver(judgeG, judgeG.judge(a.t, py), ...others);
  return a.side;
}

/** Plays until `side` scores: the opponent hits back to `side`'s half, then misses. */
function pointTo(t: ReturnType<typeof table>, side: Side): void {
  for (let i = 0; i < 4; i++) {
    const coming = arrival(t.ann.match!.seg!).side;
    if (coming === side) judge(t, true);
    else return void judge(t, false);
  }
  throw new Error('no point');
}

const score = (g: Game): string => `${g.match?.score.left}-${g.match?.score.right}`;

describe('ping-pong: messages from peers', () => {
  it('accepts well-formed messages and clamps a paddle into the court', () => {
    const key = JSON.stringify([0, 'a', 0, 'b']);
    expect(parseMsg({ t: 'claim', seat: 'left', gen: 0, clock: 1 })).toEqual({
      t: 'claim',
      seat: 'left',
      gen: 0,
      clock: 1,
    });
    expect(parseMsg({ t: 'pad', y: 3 })).toEqual({ t: 'pad', y: PADDLE_MIN });
    expect(parseMsg({ t: 'pad', y: COURT_H })).toEqual({ t: 'pad', y: PADDLE_MAX });
    expect(parseMsg({ t: 'hit', m: key, g: 1, n: 0, py: 200, extra: 'ignored' })).toEqual({
      t: 'hit',
      m: key,
      g: 1,
      n: 0,
      py: 200,
    });
    expect(parseMsg({ t: 'ping', id: 1, a: 5, r: 3 })).not.toBeNull();
    expect(parseMsg({ t: 'pong', id: 1, a: 5, b: 7 })).not.toBeNull();
  });

  it.each([
    ['null', null],
    ['a string', 'hit'],
    ['an array', [1, 2]],
    ['binary', new ArrayBuffer(4)],
    ['an unknown type', { t: 'teleport' }],
    ['a seat that does not exist', { t: 'claim', seat: 'middle', gen: 0, clock: 1 }],
    ['a clock of zero', { t: 'claim', seat: 'left', gen: 0, clock: 0 }],
    ['a fractional generation', { t: 'claim', seat: 'left', gen: 0.5, clock: 1 }],
    ['a clock as a string', { t: 'claim', seat: 'left', gen: 0, clock: '1' }],
    ['NaN', { t: 'pad', y: Number.NaN }],
    ['Infinity (JSON null)', JSON.parse(JSON.stringify({ t: 'pad', y: Infinity })) as unknown],
    ['a paddle off the court', { t: 'pad', y: -1 }],
    ['a paddle far off the court', { t: 'pad', y: 1e9 }],
    ['a match key that is not one', { t: 'ready', m: 'x', g: 0 }],
    ['a match key with one player twice', { t: 'ready', m: '[0,"a",0,"a"]', g: 0 }],
    ['a negative game', { t: 'ready', m: '[0,"a",0,"b"]', g: -1 }],
    ['a start at NaN', { t: 'start', m: '[0,"a",0,"b"]', g: 0, at: Number.NaN }],
    ['a hit without py', { t: 'hit', m: '[0,"a",0,"b"]', g: 1, n: 0 }],
    ['a hit in game 0', { t: 'hit', m: '[0,"a",0,"b"]', g: 0, n: 0, py: 10 }],
    ['a miss with n as text', { t: 'miss', m: '[0,"a",0,"b"]', g: 1, n: '0' }],
    ['a ping with a huge rtt', { t: 'ping', id: 1, a: 1, r: 1e9 }],
    ['a pong without b', { t: 'pong', id: 1, a: 1 }],
  ])('rejects %s', (_, data) => {
    expect(parseMsg(data)).toBeNull();
    const g = new Game('me');
    expect(g.receive(data, 'peer')).toBe(false);
    expect(g.dropped).toBe(1);
  });
});

describe('ping-pong: seats', () => {
  it('gives the left seat, then the right one; everyone else watches', () => {
    const { ann, bob, cid, all } = table();
    for (const g of all) {
      expect(g.players).toEqual({ left: 'ann', right: 'bob' });
      expect([g.role('ann'), g.role('bob'), g.role('cid')]).toEqual(['left', 'right', 'watcher']);
    }
    expect(cid.claim()).toBeNull(); // both seats are taken
    expect(ann.claim()).toBeNull(); // already seated
    expect(bob.match?.key).toBe(JSON.stringify([0, 'ann', 0, 'bob']));
  });

  it('converges on one winner when two people claim the same seat at once, in any order (lower Lamport clock, then lower peer id)', () => {
    for (const clocks of [
      [1, 1],
      [2, 1],
      [1, 2],
    ]) {
      const bob = replica('bob');
      const ann = replica('ann');
      const cid = replica('cid');
      const dan = replica('dan');
      const a: Msg = { t: 'claim', seat: 'left', gen: 0, clock: clocks[0]! };
      const b: Msg = { t: 'claim', seat: 'left', gen: 0, clock: clocks[1]! };
      ann.apply(a, 'ann');
      bob.apply(b, 'bob');
      deliver(ann, a, bob, cid);
      deliver(bob, b, ann, cid);
      deliver(bob, b, dan); // the other order
      deliver(ann, a, dan);
      const expected = clocks[0]! <= clocks[1]! ? 'ann' : 'bob';
      for (const g of [ann, bob, cid, dan]) expect(g.players.left).toBe(expected);
    }
  });

  it('lets a claim made after seeing the seat taken lose (Lamport clock), so nobody steals a seat', () => {
    const ann = replica('ann');
    const bob = replica('bob');
    deliver(ann, ann.claim(), bob);
    // Bob, having seen Ann's claim, claims the same seat: his clock is larger, he loses.
    const late: Msg = { t: 'claim', seat: 'left', gen: 0, clock: bob.lamport + 1 };
    deliver(bob, late, ann);
    expect(ann.players.left).toBe('ann');
  });

  it('frees a seat when its player leaves; the next claim takes the next generation', () => {
    const { ann, bob, cid } = table();
    deliver(ann, ann.leave(), bob, cid);
    for (const g of [ann, bob, cid]) {
      expect(g.players).toEqual({ left: null, right: 'bob' });
      expect(g.match).toBeNull();
    }
    const msg = cid.claim();
    expect(msg).toMatchObject({ t: 'claim', seat: 'left', gen: 1 });
    deliver(cid, msg, ann, bob);
    for (const g of [ann, bob, cid]) expect(g.players).toEqual({ left: 'cid', right: 'bob' });
    expect(ann.match?.key).toBe(JSON.stringify([1, 'cid', 0, 'bob']));
  });

  it('ignores a leave from someone who does not hold the seat', () => {
    const { ann, cid } = table();
    deliver(cid, { t: 'leave', seat: 'left', gen: 0 }, ann);
    expect(ann.players.left).toBe('ann');
  });

  it('frees the seats of a player who left the call', () => {
    const { ann, cid } = table();
    expect(cid.departed(['bob'])).toBe(true);
    expect(cid.players).toEqual({ left: 'ann', right: null });
    expect(cid.departed(['bob', 'nobody'])).toBe(false);
    // Ann sees it too and arrives at the same register.
    ann.departed(['bob']);
    expect(ann.seats).toEqual(cid.seats);
  });

  it('converges when a player leaves a seat it believed it won while a better claim was on its way', () => {
    const ann = replica('ann');
    const bob = replica('bob');
    const cid = replica('cid');
    const b: Msg = { t: 'claim', seat: 'left', gen: 0, clock: 1 };
    const c: Msg = { t: 'claim', seat: 'left', gen: 0, clock: 1 };
    bob.apply(b, 'bob');
    cid.apply(c, 'cid');
    const leave = cid.leave(); // Cid thinks it is his; Bob's (same clock, lower id) wins
    deliver(bob, b, ann, cid);
    deliver(cid, c, ann, bob);
    deliver(cid, leave, ann, bob);
    for (const g of [ann, bob, cid]) expect(g.players.left).toBe('bob');
  });

  it('seats form a join-semilattice: merge is commutative, associative and idempotent', () => {
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const ids = ['a', 'b', 'c'];
    const reg = (): SeatReg => ({
      gen: rnd(3),
      claim: rnd(4) === 0 ? null : { id: ids[rnd(3)]!, clock: 1 + rnd(3) },
      gone: ids.filter(() => rnd(3) === 0),
    });
    for (let i = 0; i < 300; i++) {
      const [x, y, z] = [reg(), reg(), reg()];
      expect(mergeSeat(x, y)).toEqual(mergeSeat(y, x));
      expect(mergeSeat(mergeSeat(x, y), z)).toEqual(mergeSeat(x, mergeSeat(y, z)));
      expect(mergeSeat(x, x)).toEqual(mergeSeat(x, EMPTY_SEAT.gen > x.gen ? EMPTY_SEAT : x));
    }
    expect(holder({ gen: 0, claim: { id: 'a', clock: 1 }, gone: ['a'] })).toBeNull();
  });

  it('never seats one person twice', () => {
    const g = replica('x');
    g.apply({ t: 'claim', seat: 'left', gen: 0, clock: 1 }, 'mallory');
    g.apply({ t: 'claim', seat: 'right', gen: 0, clock: 2 }, 'mallory');
    expect(g.players).toEqual({ left: 'mallory', right: null });
    expect(matchKey(g.seats)).toBeNull();
  });

  it('drops a claim for a generation far ahead', () => {
    const g = replica('x');
    expect(g.receive({ t: 'claim', seat: 'left', gen: 1000, clock: 1 }, 'mallory')).toBe(false);
    expect(g.players.left).toBeNull();
    expect(g.dropped).toBe(1);
  });

  it('reads the players back from a match key, and nothing from a forged one', () => {
    expect(matchPlayers(JSON.stringify([0, 'ann', 3, 'bob']))).toEqual({
      left: 'ann',
      right: 'bob',
    });
    expect(matchPlayers('{"a":1}')).toBeNull();
    expect(matchPlayers('[0,"ann",0]')).toBeNull();
    expect(matchPlayers('not json')).toBeNull();
    expect(matchPlayers(42)).toBeNull();
  });
});

describe('ping-pong: the ball', () => {
  const seg = (o: Partial<Segment> = {}): Segment => ({
    x: 400,
    y: 250,
    vx: -0.4,
    vy: 0,
    t: 1000,
    ...o,
  });

  it('moves in a straight line and waits at its start until its time', () => {
    expect(ballAt(seg(), 500)).toEqual({ x: 400, y: 250 });
    expect(ballAt(seg(), 1500)).toEqual({ x: 200, y: 250 });
  });

  it('bounces off the walls by reflection, staying on the court', () => {
    const s = seg({ y: 100, vy: -0.2 });
    // 100 − 0.2 × 1000 = −100: reflected from the top wall (at BALL_R) to BALL_R + (BALL_R + 100).
    expect(ballAt(s, 2000).y).toBeCloseTo(2 * BALL_R + 100);
    for (let t = 1000; t < 20_000; t += 137) {
      const { y } = ballAt(seg({ vy: 0.77 }), t);
      expect(y).toBeGreaterThanOrEqual(BALL_R - 1e-9);
      expect(y).toBeLessThanOrEqual(COURT_H - BALL_R + 1e-9);
    }
  });

  it('arrives at the paddle face of the side it moves toward', () => {
    const a = arrival(seg());
    expect(a.side).toBe('left');
    expect(a.t).toBeCloseTo(1000 + (400 - (LEFT_FACE + BALL_R)) / 0.4);
    const b = arrival(seg({ vx: 0.5 }));
    expect(b.side).toBe('right');
    expect(ballAt(seg({ vx: 0.5 }), b.t).x).toBeCloseTo(RIGHT_FACE - BALL_R);
  });

  it('is hit when the paddle reaches it, missed one unit further', () => {
    const s = seg();
    expect(isHit(s, 250)).toBe(true);
    expect(isHit(s, 250 + REACH)).toBe(true);
    expect(isHit(s, 250 - REACH - 1)).toBe(false);
  });

  it('leaves a paddle at an angle set by where it met it, a little faster, up to a limit', () => {
    const s = seg();
    const straight = bounce(s, 250);
    expect(straight.vx).toBeCloseTo(0.4 * SPEEDUP);
    expect(straight.vy).toBeCloseTo(0);
    expect(straight.x).toBe(LEFT_FACE + BALL_R);
    expect(straight.t).toBeCloseTo(arrival(s).t);
    // Met at the paddle's top end: the ball leaves upward at the largest angle.
    const edge = bounce(s, 250 + REACH);
    expect(Math.atan2(-edge.vy, edge.vx)).toBeCloseTo(MAX_BOUNCE_ANGLE);
    const fast = bounce(seg({ vx: -MAX_SPEED }), 250);
    expect(Math.hypot(fast.vx, fast.vy)).toBeCloseTo(MAX_SPEED);
    // Back from the right: it goes left.
    expect(bounce(seg({ vx: 0.4 }), 250).vx).toBeLessThan(0);
  });

  it('serves from the centre, alternating every point and every game, within ±20°', () => {
    const key = JSON.stringify([0, 'a', 0, 'b']);
    const dir = (game: number, point: number): number =>
      Math.sign(serveSegment(key, game, point, 0).vx);
    expect([0, 1, 2, 3].map((p) => dir(0, p))).toEqual([1, -1, 1, -1]);
    expect([0, 1, 2, 3].map((p) => dir(1, p))).toEqual([-1, 1, -1, 1]);
    for (let p = 0; p < 50; p++) {
      const s = serveSegment(key, 0, p, 5);
      expect(s).toMatchObject({ x: COURT_W / 2, y: COURT_H / 2, t: 5 });
      expect(Math.hypot(s.vx, s.vy)).toBeCloseTo(SERVE_SPEED);
      expect(Math.abs(Math.atan2(s.vy, Math.abs(s.vx)))).toBeLessThanOrEqual(MAX_SERVE_ANGLE);
      expect(serveSegment(key, 0, p, 5)).toEqual(s); // the same on every screen
    }
  });

  it.each([
    [11, 9, 'left'],
    [9, 11, 'right'],
    [11, 10, null],
    [10, 10, null],
    [12, 10, 'left'],
    [13, 15, 'right'],
    [10, 0, null],
    [0, 0, null],
  ])('scores %i-%i: winner %s (first to 11, win by 2)', (left, right, w) => {
    expect(winnerOf({ left, right })).toBe(w);
  });
});

describe('ping-pong: clock offset', () => {
  it('finds the offset exactly when the delays are symmetric', () => {
    const c = new ClockSync();
    // Reference clock = local + 5000; 20 ms each way.
    const s = c.add(100, 100 + 20 + 5000, 140);
    expect(s).toEqual({ rtt: 40, offset: 5000 });
    expect(c.best?.offset).toBe(5000);
  });

  it('keeps the sample with the smallest round trip (queuing only adds delay), within rtt/2', () => {
    const c = new ClockSync(4);
    c.add(0, 5000 + 10, 20); // symmetric, rtt 20
    c.add(100, 5100 + 90, 200); // 90 ms out, 10 back: rtt 100, offset off by 40
    expect(c.best).toEqual({ rtt: 20, offset: 5000 });
    expect(Math.abs(c.best!.offset - 5000)).toBeLessThanOrEqual(c.best!.rtt / 2);
    for (let i = 0; i < 4; i++) c.add(1000 + i, 7000, 1100 + i); // pushes the best out
    expect(c.count).toBe(4);
    expect(c.best?.rtt).toBe(100);
  });

  it('rejects impossible samples', () => {
    const c = new ClockSync();
    expect(c.add(100, 0, 50)).toBeNull(); // answered before it was asked
    expect(c.add(Number.NaN, 0, 50)).toBeNull();
    expect(c.count).toBe(0);
    c.add(0, 0, 10);
    c.reset();
    expect(c.best).toBeNull();
  });
});

describe('ping-pong: a game', () => {
  it('starts when both players are ready, at the time the left player picked, for everyone', () => {
    const t = table();
    const { ann, bob, cid, all } = t;
    for (const g of all) expect(g.phaseAt(0)).toBe('ready');
    deliver(ann, ann.ready(), bob, cid);
    expect(ann.ready()).toBeNull(); // once
    expect(ann.startIfDue(1000, 500)).toBeNull(); // Bob is not ready yet
    expect(bob.startIfDue(1000, 500)).toBeNull(); // only the left player starts
    deliver(bob, bob.ready(), ann, cid);
    const msg = ann.startIfDue(1000, 500);
    expect(msg).toEqual({ t: 'start', m: ann.match!.key, g: 0, at: 1500 });
    deliver(ann, msg, bob, cid);
    for (const g of all) {
      expect(g.match).toMatchObject({ phase: 'play', games: 1, start: 1500 });
      expect(g.match!.seg).toEqual(serveSegment(g.match!.key, 0, 0, 1500 + COUNTDOWN_MS));
      expect(g.phaseAt(1500 + COUNTDOWN_MS - 1)).toBe('countdown');
      expect(g.phaseAt(1500 + COUNTDOWN_MS)).toBe('play');
    }
    // The first serve goes to the right player, who judges it; nobody else may.
    expect(bob.judgeAt()).toBe(arrival(bob.match!.seg!).t);
    expect(ann.judgeAt()).toBeNull();
    expect(cid.judgeAt()).toBeNull();
  });

  it('keeps the same score everywhere: a miss is a point to the opponent, the next serve follows a pause', () => {
    const t = table();
    start(t);
    const { all } = t;
    const seg0 = t.ann.match!.seg!;
    expect(judge(t, true)).toBe('right'); // Bob returns it
    for (const g of all) expect(g.match!.seg).toEqual(bounce(seg0, arrival(seg0).y));
    const seg1 = t.ann.match!.seg!;
    expect(judge(t, false)).toBe('left'); // Ann misses
    for (const g of all) {
      expect(score(g)).toBe('0-1');
      expect(g.match!.n).toBe(2);
      expect(g.match!.out).toEqual(seg1);
      // Point 1 of game 0 goes left, after the pause.
      expect(g.match!.seg).toEqual(
        serveSegment(g.match!.key, 0, 1, arrival(seg1).t + POINT_PAUSE_MS),
      );
      expect(g.phaseAt(arrival(seg1).t + 10)).toBe('play');
    }
  });

  it('ends at 11 with a lead of 2, and Play again starts a new game with the other first serve', () => {
    const t = table();
    start(t);
    for (let i = 0; i < 10; i++) {
      pointTo(t, 'left');
      pointTo(t, 'right');
    }
    for (const g of t.all) expect(score(g)).toBe('10-10');
    pointTo(t, 'left');
    expect(t.cid.match!.phase).toBe('play'); // 11-10: not yet
    pointTo(t, 'left');
    for (const g of t.all) {
      expect(score(g)).toBe('12-10');
      expect(g.match).toMatchObject({ phase: 'over', winner: 'left', seg: null });
      expect(g.phaseAt(0)).toBe('over');
      expect(g.judgeAt()).toBeNull();
    }
    const first0 = serveSegment(t.ann.match!.key, 0, 0, 0);
    start(t, 900_000);
    for (const g of t.all) {
      expect(score(g)).toBe('0-0');
      expect(g.match).toMatchObject({ phase: 'play', games: 2, winner: null });
      expect(Math.sign(g.match!.seg!.vx)).toBe(-Math.sign(first0.vx));
    }
  });

  it('applies ball events in order even when a watcher gets them out of order', () => {
    const t = table();
    const { ann, bob, cid } = t;
    const sent: { from: Game & { id: string }; msg: Msg }[] = [];
    const record = (from: Game & { id: string }, msg: Msg | null, to: Game & { id: string }) => {
      deliver(from, msg, to);
      sent.push({ from, msg: msg! });
    };
    // Cid sees the Readys; the start and two ball events are held back from him.
    deliver(ann, ann.ready(), bob, cid);
    deliver(bob, bob.ready(), ann, cid);
    record(ann, ann.startIfDue(10_000, 500), bob);
    const a0 = arrival(bob.match!.seg!);
    record(bob, bob.judge(a0.t, a0.y), ann);
    const a1 = arrival(ann.match!.seg!);
    record(ann, ann.judge(a1.t, a1.y > COURT_H / 2 ? PADDLE_MIN : PADDLE_MAX), bob);
    // He gets them backwards: everything waits for the start, then applies in order.
    for (const s of [...sent].reverse()) deliver(s.from, s.msg, cid);
    expect(score(cid)).toBe('0-1');
    expect(cid.match).toEqual(ann.match);
    expect(cid.dropped).toBe(0);
  });

  it('waits with a player’s Ready that outran the seat claim it follows', () => {
    const ann = replica('ann');
    const bob = replica('bob');
    const cid = replica('cid');
    const claimA = ann.claim();
    deliver(ann, claimA, bob, cid);
    const claimB = bob.claim();
    deliver(bob, claimB, ann);
    deliver(ann, ann.ready(), cid); // arrives before Bob's claim
    deliver(bob, claimB, cid);
    expect(cid.match?.ready).toEqual({ left: true, right: false });
    expect(cid.dropped).toBe(0);
  });
});

describe('ping-pong: hostile peers', () => {
  it('ignores and counts game messages from someone who does not play', () => {
    const t = table();
    start(t);
    const { ann, cid } = t;
    const key = ann.match!.key;
    const before = JSON.stringify(ann.state());
    const forged: Msg[] = [
      { t: 'hit', m: key, g: 1, n: 0, py: 250 },
      { t: 'miss', m: key, g: 1, n: 0 },
      { t: 'ready', m: key, g: 1 },
      { t: 'start', m: key, g: 1, at: 5 },
      { t: 'pad', y: 100 },
    ];
    for (const m of forged) ann.receive(m, 'cid');
    // …even naming itself in a match of its own.
    ann.receive({ t: 'miss', m: JSON.stringify([0, 'cid', 0, 'bob']), g: 1, n: 0 }, 'cid');
    expect(JSON.stringify(ann.state())).toBe(before);
    expect(ann.dropped).toBe(forged.length + 1);
    expect(cid.dropped).toBe(0);
  });

  it('lets only the player the ball is coming to judge it, and only a paddle that meets it hit it', () => {
    const t = table();
    start(t);
    const { ann, bob, cid } = t;
    const key = ann.match!.key;
    const a = arrival(cid.match!.seg!);
    expect(a.side).toBe('right');
    cid.receive({ t: 'miss', m: key, g: 1, n: 0 }, 'ann'); // Ann judging Bob's ball
    expect(cid.receive({ t: 'start', m: key, g: 0, at: 1 }, 'bob')).toBe(false); // not the left
    cid.receive({ t: 'hit', m: key, g: 1, n: 0, py: a.y > 250 ? a.y - 200 : a.y + 200 }, 'bob');
    expect(score(cid)).toBe('0-0');
    expect(cid.match!.n).toBe(0);
    expect(cid.dropped).toBe(3);
    // Replays and stale events change nothing (and are not the sender's fault to count).
    deliver(bob, bob.judge(a.t, a.y), ann, cid);
    const after = JSON.stringify(cid.state());
    cid.receive({ t: 'hit', m: key, g: 1, n: 0, py: a.y }, 'bob');
    expect(JSON.stringify(cid.state())).toBe(after);
    expect(cid.dropped).toBe(3);
  });

  it('holds at most a bounded number of early messages', () => {
    const t = table();
    for (let n = 0; n < 1000; n++)
      t.cid.receive({ t: 'miss', m: t.ann.match!.key, g: 5, n }, 'ann');
    start(t);
    expect(score(t.cid)).toBe('0-0');
  });
});

describe('ping-pong: late joiners', () => {
  it('get the seats, score, phase and paddles from a peer', () => {
    const t = table();
    start(t);
    pointTo(t, 'left');
    t.bob.pad(123);
    const late = replica('dan');
    expect(late.load(JSON.parse(JSON.stringify(t.ann.state())))).toBe(true);
    expect(late.players).toEqual({ left: 'ann', right: 'bob' });
    expect(late.match).toEqual(t.ann.match);
    expect(score(late)).toBe('1-0');
    expect(late.phaseAt(0)).toBe('play');
    expect(late.role()).toBe('watcher');
    // …and go on with the game from there.
    const a = arrival(t.ann.match!.seg!);
    const [judgeG, opp] = a.side === 'left' ? [t.ann, t.bob] : [t.bob, t.ann];
    deliver(judgeG, judgeG.judge(a.t, a.y), late, t.cid, opp);
    expect(late.match).toEqual(t.cid.match);
    // A peer's state is a copy: the game going on does not change what was sent.
    const snap = t.ann.state();
    pointTo(t, 'right');
    expect(snap.match!.score).toEqual({ left: 1, right: 0 });
  });

  it('get the players’ paddles before any game, but never their own from a peer', () => {
    const t = table();
    deliver(t.ann, t.ann.pad(60), t.bob, t.cid);
    deliver(t.bob, t.bob.pad(400), t.ann, t.cid);
    const late = replica('dan');
    late.load(JSON.parse(JSON.stringify(t.ann.state())));
    expect(late.paddles).toEqual({ left: 60, right: 400 });
    const stale = { ...t.cid.state(), paddles: { left: 300, right: 300 } };
    t.ann.load(JSON.parse(JSON.stringify(stale)));
    expect(t.ann.paddles.left).toBe(60);
    expect(t.ann.paddles.right).toBe(300);
  });

  it('ignore a state that is not one, and the parts that are invalid', () => {
    const g = replica('dan');
    expect(g.load('garbage')).toBe(false);
    expect(g.load({ v: 2 })).toBe(false);
    expect(g.load({ v: 1, seats: { left: { gen: -1 }, right: EMPTY_SEAT } })).toBe(false);
    const t = table();
    start(t);
    const st = JSON.parse(JSON.stringify(t.ann.state())) as { match: { score: unknown } };
    st.match.score = { left: 'eleven', right: 0 };
    expect(g.load(st)).toBe(true); // the seats are fine…
    expect(g.players.left).toBe('ann');
    expect(score(g)).toBe('0-0'); // …the match was not
  });
});

describe('ping-pong: the court on screen', () => {
  it('fits the court into any frame and maps a pointer to a paddle position', () => {
    const f = fit(1600, 500);
    expect(f.scale).toBe(1);
    expect(f.ox).toBe(400);
    expect(toCourtY(f, 250)).toBe(250);
    expect(toCourtY(f, -40)).toBe(0);
    expect(toCourtY(fit(400, 1000), 1000)).toBe(COURT_H);
  });
});
