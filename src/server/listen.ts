// Binding a port is where a user's --port or --metrics-port meets the machine: a port in use
// or not permitted is their mistake to fix, said as a UsageError naming the address and what
// was to listen there (exit status 2, no stack).
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../runtime/usage-error.js';

/** Resolves to the bound port (the one picked when `port` is 0); `host` '' is every address. */
export function listen(server: HttpServer | HttpsServer, port: number, host: string, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(new UsageError(`cannot listen on ${host || '*'}:${port} for ${what}: ${err.code ?? err.message}`));
    server.once('error', onError);
    server.listen(port, host || undefined, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
