// A clock the test moves. Time stands still until advance(); what sleeps on it wakes when the
// test has moved time past its deadline, in deadline order. Every requested sleep is recorded,
// so a test can assert a back-off sequence instead of counting attempts in a real interval.
//
// With `realSleeps`, now() still stands still but sleeps take real time: for components whose
// loops must keep turning over real sockets (the controller's lease loop and debounce), while
// every deadline they judge by now() (lease expiry, renew deadline, token refill) moves only
// when the test says so.
import type { Clock } from '../../src/runtime/clock.js';
import { systemClock } from '../../src/runtime/clock.js';
import { waitFor } from './wait.js';

interface Sleeper {
  at: number;
  wake: () => void;
}

export class ManualClock implements Clock {
  private t: number;
  private readonly sleepers: Sleeper[] = [];
  /** Every sleep asked for, in milliseconds, in order. */
  readonly slept: number[] = [];
  private readonly realSleeps: boolean;

  constructor(opts: { start?: number; realSleeps?: boolean } = {}) {
    this.t = opts.start ?? Date.parse('2026-01-01T00:00:00Z');
    this.realSleeps = opts.realSleeps ?? false;
  }

  // Arrow properties: a Clock's methods may be passed around unbound, as the system clock's are.
  readonly now = (): number => this.t;

  readonly sleep = (ms: number, signal?: AbortSignal): Promise<void> => {
    this.slept.push(ms);
    if (this.realSleeps) return systemClock.sleep(ms, signal);
    return new Promise<void>((resolve) => {
      if (signal?.aborted || ms <= 0) return resolve();
      const sleeper: Sleeper = {
        at: this.t + Math.max(0, ms),
        wake: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const i = this.sleepers.indexOf(sleeper);
        if (i >= 0) this.sleepers.splice(i, 1);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(sleeper);
    });
  };

  /** Moves time on and wakes every sleeper whose deadline has come. */
  advance(ms: number): void {
    this.t += ms;
    const due = this.sleepers.filter((s) => s.at <= this.t).sort((a, b) => a.at - b.at);
    for (const s of due) {
      this.sleepers.splice(this.sleepers.indexOf(s), 1);
      s.wake();
    }
  }

  /** How many are asleep on this clock now. */
  get waiting(): number {
    return this.sleepers.length;
  }

  /** Waits (in real time, generously) until `n` are asleep on this clock. */
  async whenWaiting(n = 1, what = `${n} sleeper(s)`): Promise<void> {
    await waitFor(what, () => this.sleepers.length >= n, 20_000);
  }
}
