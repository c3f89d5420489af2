// Time is a dependency: whatever waits, retries or times out takes a Clock, so its tests move
// time themselves instead of sleeping and hoping the machine kept up (client-go's
// leaderelection and workqueue take a clock.Clock for the same reason).

export interface Clock {
  /** Milliseconds since the epoch: Lease renew times are wall-clock times. */
  now(this: void): number;
  /** Resolves after `ms`, or at once when `signal` aborts; never rejects. */
  sleep(this: void, ms: number, signal?: AbortSignal): Promise<void>;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export const systemClock: Clock = { now: () => Date.now(), sleep };
