// The controller's queue of dirty scopes on its own: time is a ManualClock the steps move, the
// work is a recorder. Each step runs, then everything it set going settles (promise callbacks
// only: nothing here waits on a timer or a socket), so a batch's time is exact.
import { describe, expect, it } from '@jest/globals';
import type { Scope } from '../../src/controller/auditor.js';
import { ScopeQueue } from '../../src/controller/work-queue.js';
import { ManualClock } from '../support/clock.js';

const DEBOUNCE_MS = 100;
const ALL: Scope[] = [null, 'a', 'b'];
const name = (s: Scope) => s ?? '(cluster)';
const scopeOf = (s: string): Scope => (s === '(cluster)' ? null : s);
/** Every promise callback queued so far has run when setImmediate's comes. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Run {
  /** `<ms since start> <*: everything><scopes>` for each batch taken. */
  batches: string[];
  pending: number;
  idle: boolean;
  /** Whether a `stop` step's stop() has resolved by the end of the steps. */
  stopped: 'no stop' | 'waiting' | 'done';
}

/**
 * Steps: `kick`, `add <scope>`, `all`, `advance <ms>`, `ready`/`not-ready`, `fail <scope>` (the
 * next batch hands it back), `hold`/`release` (the next batch runs until released), `stop`.
 */
async function run(steps: string[]): Promise<Run> {
  const clock = new ManualClock();
  const start = clock.now();
  let ready = true;
  const failNext = new Set<Scope>();
  let holding = false;
  const held: { release?: () => void } = {};
  const batches: string[] = [];
  const queue = new ScopeQueue({
    debounceMs: DEBOUNCE_MS,
    clock,
    ready: () => ready,
    allScopes: () => new Set(ALL),
    process: async ({ scopes, complete }) => {
      batches.push(`${clock.now() - start} ${complete ? '*' : ''}${[...scopes].map(name).sort().join(',')}`);
      if (holding) await new Promise<void>((resolve) => (held.release = resolve));
      const back = [...failNext];
      failNext.clear();
      return back;
    },
  });
  let idle = false;
  let stopped: Run['stopped'] = 'no stop';
  const act: Record<string, (arg: string) => void> = {
    kick: () => queue.kick(),
    add: (arg) => queue.add(scopeOf(arg)),
    all: () => queue.addAll(),
    advance: (arg) => clock.advance(Number(arg)),
    ready: () => (ready = true),
    'not-ready': () => (ready = false),
    fail: (arg) => failNext.add(scopeOf(arg)),
    hold: () => (holding = true),
    release: () => {
      holding = false;
      held.release?.();
    },
    stop: () => {
      stopped = 'waiting';
      void queue.stop().then(() => (stopped = 'done'));
    },
  };
  for (const step of steps) {
    const [verb, arg] = step.split(' ');
    act[verb](arg);
    await settle();
  }
  void queue.idle().then(() => (idle = true));
  await settle();
  const result = { batches, pending: queue.pending(), idle, stopped };
  held.release?.();
  await queue.stop();
  return result;
}

interface Row {
  name: string;
  steps: string[];
  batches: string[];
  pending: number;
  idle: boolean;
  stopped?: Run['stopped'];
}

describe('ScopeQueue', () => {
  it.each<Row>([
    { name: 'it starts with everything, taken when the debounce has passed', steps: ['kick', 'advance 99'], batches: [], pending: 3, idle: false },
    { name: 'everything is every scope at the time it is taken', steps: ['kick', 'advance 100'], batches: ['100 *(cluster),a,b'], pending: 0, idle: true },
    {
      name: 'marks within one debounce are one batch, a scope marked twice once; the debounce runs from the first mark',
      steps: ['kick', 'advance 100', 'add a', 'advance 50', 'add b', 'add a', 'advance 49'],
      batches: ['100 *(cluster),a,b'],
      pending: 2,
      idle: false,
    },
    {
      name: '… and the batch is taken 100 ms after the first mark',
      steps: ['kick', 'advance 100', 'add a', 'advance 50', 'add b', 'add a', 'advance 50'],
      batches: ['100 *(cluster),a,b', '200 a,b'],
      pending: 0,
      idle: true,
    },
    {
      name: 'one batch at a time: a mark during a batch waits for it, then gets a debounce of its own',
      steps: ['hold', 'kick', 'advance 100', 'add a', 'advance 100', 'release', 'advance 99', 'advance 1'],
      batches: ['100 *(cluster),a,b', '300 a'],
      pending: 0,
      idle: true,
    },
    {
      name: 'while not ready nothing is taken, and marks are kept',
      steps: ['not-ready', 'kick', 'advance 100', 'add a', 'advance 100'],
      batches: [],
      pending: 3,
      idle: false,
    },
    {
      name: 'kept marks are taken once ready and kicked',
      steps: ['not-ready', 'kick', 'advance 100', 'add a', 'advance 100', 'ready', 'kick', 'advance 100'],
      batches: ['300 *(cluster),a,b'],
      pending: 0,
      idle: true,
    },
    {
      name: 'a scope handed back is taken again after another debounce',
      steps: ['fail a', 'kick', 'advance 100', 'advance 100'],
      batches: ['100 *(cluster),a,b', '200 a'],
      pending: 0,
      idle: true,
    },
    {
      name: 'a scope handed back by a follower waits for readiness',
      steps: ['hold', 'fail (cluster)', 'kick', 'advance 100', 'not-ready', 'release', 'advance 100'],
      batches: ['100 *(cluster),a,b'],
      pending: 1,
      idle: false,
    },
    {
      name: 'everything again after a batch',
      steps: ['kick', 'advance 100', 'add a', 'all', 'advance 100'],
      batches: ['100 *(cluster),a,b', '200 *(cluster),a,b'],
      pending: 0,
      idle: true,
    },
    {
      name: 'a stopped queue takes nothing more',
      steps: ['kick', 'stop', 'advance 100', 'add a', 'advance 100'],
      batches: [],
      pending: 3,
      idle: false,
      stopped: 'done',
    },
    {
      name: 'stop waits for the batch in hand',
      steps: ['hold', 'kick', 'advance 100', 'stop', 'add a', 'advance 100'],
      batches: ['100 *(cluster),a,b'],
      pending: 1,
      idle: false,
      stopped: 'waiting',
    },
    {
      name: '… and resolves when it ends, taking no batch after it',
      steps: ['hold', 'kick', 'advance 100', 'stop', 'add a', 'release', 'advance 100'],
      batches: ['100 *(cluster),a,b'],
      pending: 1,
      idle: false,
      stopped: 'done',
    },
  ])('$name', async ({ steps, batches, pending, idle, stopped }) => {
    expect(await run(steps)).toEqual({ batches, pending, idle, stopped: stopped ?? 'no stop' });
  });

  it('idle() waits for the debounce and the batch, and current() is the batch in hand', async () => {
    const clock = new ManualClock();
    let release!: () => void;
    const queue = new ScopeQueue({
      debounceMs: DEBOUNCE_MS,
      clock,
      ready: () => true,
      allScopes: () => new Set(ALL),
      process: () => new Promise<Scope[]>((resolve) => (release = () => resolve([]))),
    });
    try {
      queue.kick();
      let idle = false;
      void queue.idle().then(() => (idle = true));
      expect(queue.current()).toBeNull();
      clock.advance(DEBOUNCE_MS);
      await settle();
      const inHand = queue.current();
      expect([inHand instanceof Promise, idle]).toEqual([true, false]);
      release();
      await inHand;
      await settle();
      expect([queue.current(), idle]).toEqual([null, true]);
    } finally {
      await queue.stop();
    }
  });
});
