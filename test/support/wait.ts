// Polls a condition: for tests that watch a system converge (a cache catching up, a lease
// moving). The deadline only bounds how long a failing test takes; it is generous so a busy
// machine (two cores shared with other work) never turns a slow pass into a failure.
export const GENEROUS_MS = 15_000;

export async function waitFor<T>(
  what: string,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = GENEROUS_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Waits for a promise, failing after `timeoutMs` with `what` in the message. The timer is
 * cleared either way, so a passing test leaves nothing that keeps its worker alive.
 */
export async function within<T>(what: string, promise: Promise<T>, timeoutMs = GENEROUS_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
