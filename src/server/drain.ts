// Shutting the webhook down without failing a request. The API server keeps reusing
// keep-alive connections to a terminating pod until the endpoints update reaches it, so:
// readiness false at once, keep serving for `drainDelayMs` (answers carry Connection: close
// so clients reconnect, to another replica once endpoints move), then stop accepting,
// finish what is in flight, close idle connections, and cut whatever is left at the grace
// deadline.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { systemClock } from '../runtime/clock.js';

export interface DrainOptions {
  /** Marks the server as draining: /readyz turns false, answers close their connection. */
  beginDraining: () => void;
  drainDelayMs: number;
  gracePeriodMs: number;
  /** Milliseconds, monotonic. */
  clock: () => number;
  /** The drain delay and the grace deadline; resolves early when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Closes connections with no request in progress; server.closeIdleConnections by default. */
  closeIdle?: () => void;
}

/**
 * Node's closeIdleConnections() skips connections that have not sent a request yet (headersTimeout
 * governs those), so a client that connected and sent nothing would hold the drain until the
 * grace deadline. This tracks them so the drain can close them too.
 */
export function trackUnusedConnections(server: Server, event: 'connection' | 'secureConnection'): { closeUnused(): void } {
  const unused = new Set<Socket>();
  server.on(event, (socket: Socket) => {
    unused.add(socket);
    socket.once('close', () => unused.delete(socket));
  });
  server.on('request', (req) => unused.delete(req.socket));
  return {
    closeUnused() {
      for (const socket of unused) socket.destroy();
      unused.clear();
    },
  };
}

export interface DrainResult {
  /** Connections still open at the grace deadline were cut. */
  forced: boolean;
  tookMs: number;
}

export async function drain(
  server: Pick<Server, 'close' | 'closeIdleConnections' | 'closeAllConnections' | 'listening'>,
  opts: DrainOptions,
): Promise<DrainResult> {
  const sleep = opts.sleep ?? systemClock.sleep;
  const start = opts.clock();
  opts.beginDraining();
  await sleep(Math.min(opts.drainDelayMs, opts.gracePeriodMs));
  if (!server.listening) return { forced: false, tookMs: opts.clock() - start };
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // close() closes the connections idle now; those busy now close after their answer
  // (Connection: close). Sweep again for any that went idle without one.
  const closeIdle = opts.closeIdle ?? (() => server.closeIdleConnections());
  closeIdle();
  const sweep = setInterval(closeIdle, 50);
  const left = Math.max(0, opts.gracePeriodMs - (opts.clock() - start));
  const deadline = new AbortController();
  const forced = await Promise.race([closed.then(() => false), sleep(left, deadline.signal).then(() => !deadline.signal.aborted)]);
  clearInterval(sweep);
  deadline.abort();
  if (forced) {
    server.closeAllConnections();
    await closed;
  }
  return { forced, tookMs: opts.clock() - start };
}
