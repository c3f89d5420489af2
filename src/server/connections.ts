// A cap on the webhook's open connections that never turns the API server away while it has
// a choice: at the cap, a new connection first closes the oldest connection that has never
// sent a request (a handshake in progress, or a client that connected and went quiet), then
// the oldest idle keep-alive connection, and is refused only when every connection is busy
// answering. Under failurePolicy Fail a refused connection is a denied write; a closed idle
// one is not (Go's HTTP client retries a request on a fresh connection when the server
// closed the idle one it picked).
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';

export type ConnectionEvent = 'closed-unused-at-cap' | 'closed-idle-at-cap' | 'refused-at-cap';

export interface ConnectionLimitOptions {
  max: number;
  /** Told of every connection closed or refused at the cap. */
  onEvent?: (event: ConnectionEvent) => void;
}

export interface ConnectionLimit {
  /** Connections open now: never more than `max`. */
  open(): number;
}

/**
 * The raw TCP socket and the TLS socket above it share their remote address and port: that
 * pair names one connection at both levels without reaching into the TLS socket's internals.
 */
const keyOf = (s: { remoteAddress?: string; remotePort?: number }) => `${s.remoteAddress}|${s.remotePort}`;

export function limitConnections(server: HttpsServer, opts: ConnectionLimitOptions): ConnectionLimit {
  /** Connections that have not sent a request yet, oldest first. */
  const unused = new Map<string, Socket>();
  /** Connections that have; the value says whether a request is in progress. Oldest idle first. */
  const used = new Map<string, { socket: Socket; busy: boolean }>();

  // Closed sockets leave the maps at once: their 'close' event comes a turn later.
  const makeRoom = (): boolean => {
    for (const [key, socket] of unused) {
      unused.delete(key);
      socket.destroy();
      opts.onEvent?.('closed-unused-at-cap');
      return true;
    }
    for (const [key, entry] of used) {
      if (entry.busy) continue;
      used.delete(key);
      entry.socket.destroy();
      opts.onEvent?.('closed-idle-at-cap');
      return true;
    }
    return false;
  };

  server.on('connection', (socket: Socket) => {
    const key = keyOf(socket);
    if (unused.size + used.size >= opts.max && !makeRoom()) {
      socket.destroy();
      opts.onEvent?.('refused-at-cap');
      return;
    }
    unused.set(key, socket);
    socket.once('close', () => {
      if (unused.get(key) === socket) unused.delete(key);
      if (used.get(key)?.socket === socket) used.delete(key);
    });
  });

  server.on('request', (req, res) => {
    const key = keyOf(req.socket);
    const socket = unused.get(key);
    let entry = used.get(key);
    if (socket !== undefined) {
      unused.delete(key);
      entry = { socket, busy: true };
    } else if (entry === undefined) {
      return; // closed already
    }
    entry.busy = true;
    used.delete(key);
    used.set(key, entry);
    const done = entry;
    res.once('close', () => {
      if (used.get(key) !== done) return;
      // Idle again: to the back of the line, so the front holds the longest idle.
      done.busy = false;
      used.delete(key);
      used.set(key, done);
    });
  });

  return { open: () => unused.size + used.size };
}
