// Reading a request body with a size cap and a deadline, without express's body parser (it
// costs more per request than the whole decision). Outcomes are values, never throws.
import type { IncomingMessage } from 'node:http';

export type BodyOutcome =
  | { ok: true; body: Buffer }
  | { ok: false; reason: 'too-large' | 'timed-out' | 'aborted' };

export function readBody(req: IncomingMessage, limitBytes: number, timeoutMs: number): Promise<BodyOutcome> {
  const declared = Number(req.headers['content-length']);
  // A declared length over the cap is refused before a byte is read; Node discards the rest.
  if (Number.isFinite(declared) && declared > limitBytes) return Promise.resolve({ ok: false, reason: 'too-large' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (outcome: BodyOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onClose);
      if (!outcome.ok) req.resume(); // keep draining what is left so the socket stays usable
      resolve(outcome);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) finish({ ok: false, reason: 'too-large' });
      else chunks.push(chunk);
    };
    const onEnd = () => finish({ ok: true, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size) });
    const onAbort = () => finish({ ok: false, reason: 'aborted' });
    const onClose = () => {
      if (!req.complete) onAbort();
    };
    const timer = setTimeout(() => finish({ ok: false, reason: 'timed-out' }), timeoutMs);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onClose);
  });
}

/**
 * The API server's `timeout` query parameter is a Go duration ("10s", "1m0s", "500ms").
 * Returns milliseconds, or null when absent or unreadable.
 */
export function parseGoDuration(text: unknown): number | null {
  if (typeof text !== 'string' || text === '') return null;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
  const re = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/gy;
  let total = 0;
  let at = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * units[m[2]];
    at = re.lastIndex;
  }
  return at === text.length && total > 0 ? total : null;
}
