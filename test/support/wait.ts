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
