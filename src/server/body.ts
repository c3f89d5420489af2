// Reading a request body with a size cap and a deadline, without express's body parser (it
// costs more per request than the whole decision). Outcomes are values, never throws.
import type { IncomingMessage } from 'node:http';

/** A body read whole stays charged to the budget until `release()`: the request is answered. */
export type BodyOutcome = { ok: true; body: Buffer; release: () => void } | { ok: false; reason: BodyFailure };

/** Why a body was not read whole: over the size limit, past its deadline, the client gone, or the budget of bodies in flight spent. */
export type BodyFailure = 'too-large' | 'timed-out' | 'aborted' | 'busy';

/**
 * The bytes of bodies being read, or read and not yet answered, shared by every request of one
 * server: a review parked on a Namespace read holds its body and its parsed form, so it counts
 * until it is answered.
 */
export class BodyBudget {
  inFlight = 0;
  constructor(readonly maxBytes: number) {}
}

export function readBody(req: IncomingMessage, limitBytes: number, timeoutMs: number, budget?: BodyBudget): Promise<BodyOutcome> {
  const declared = Number(req.headers['content-length']);
  // A declared length over the cap is refused before a byte is read; Node discards the rest.
  if (Number.isFinite(declared) && declared > limitBytes) return Promise.resolve({ ok: false, reason: 'too-large' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    // Bytes of this body counted in the budget: given back when a read fails, or by release().
    let charged = 0;
    const release = () => {
      if (budget) budget.inFlight -= charged;
      charged = 0;
    };
    const finish = (outcome: BodyOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!outcome.ok) release();
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
      else if (budget && budget.inFlight + chunk.length > budget.maxBytes) finish({ ok: false, reason: 'busy' });
      else {
        if (budget) {
          budget.inFlight += chunk.length;
          charged += chunk.length;
        }
        chunks.push(chunk);
      }
    };
    const onEnd = () => finish({ ok: true, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size), release });
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

/**
 * Levels of JSON nesting a body may have. Go's encoding/json, which the API server decodes
 * with, refuses JSON nested deeper than 10,000 levels, so no object it sends is deeper; the
 * review adds three around the object (review, request, object), and 10,100 leaves room.
 * Checked on the bytes before JSON.parse: V8's parser took 4.8 s over 3,000,000 levels (a
 * 6 MB body), holding every other request and /healthz for as long.
 */
export const MAX_BODY_NESTING = 10_100;

/**
 * Whether a JSON text nests deeper than `max` levels of arrays and objects. One pass over the
 * bytes: brackets inside strings do not count (UTF-8 continuation bytes are never ASCII, so a
 * byte-wise scan sees every quote and backslash). Text that is not JSON is left to the parser.
 */
export function nestedDeeperThan(body: Buffer, max: number): boolean {
  // Each level of valid JSON takes two bytes at least ("[" and "]"), so a shorter body is not
  // deeper (and parsing 20 KB of anything is quick): the API server's reviews, a few KiB, are
  // not scanned at all (the scan of a 6.5 KB review cost half as much as its JSON.parse).
  if (body.length <= 2 * max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const b = body[i];
    if (inString) {
      if (b === BACKSLASH)
        i++; // the next byte is escaped
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if ((depth += NESTING[b]) > max) return true;
  }
  return false;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** What each byte outside a string does to the nesting depth: "[" and "{" open a level, "]" and "}" close one. */
const NESTING = new Int8Array(256);
NESTING[0x5b] = NESTING[0x7b] = 1;
NESTING[0x5d] = NESTING[0x7d] = -1;
