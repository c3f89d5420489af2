// The plain-HTTP endpoints of both processes (`serve` and `controller`, on --metrics-port) for
// the kubelet's probes and Prometheus: /healthz, /readyz, /metrics. One shape for both: JSON
// answers, and /readyz names each check, so a pod that stays unready says why
// (`kubectl get --raw` through the API server's pod proxy, or curl from a debug container).
import { createServer } from 'node:http';
import express from 'express';
import type { Registry } from 'prom-client';
import { listen } from './listen.js';

export interface ReadyChecks {
  ready: boolean;
  /** Each condition by name (the process decides how they make `ready`). */
  checks: Record<string, boolean>;
}

export interface OpsDeps {
  registry: Registry;
  readiness: () => ReadyChecks;
}

const ENDPOINTS = ['/healthz', '/readyz', '/metrics'];

export function createOpsApp(deps: OpsDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Alive as long as the event loop answers: a liveness failure restarts the pod, which a
  // slow policy reload or an unsynced cache must not cause.
  app.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const { ready, checks } = deps.readiness();
    res.status(ready ? 200 : 503).json({ ready, checks });
  });
  app.get('/metrics', async (_req, res) => {
    try {
      const body = await deps.registry.metrics();
      res.setHeader('content-type', deps.registry.contentType);
      res.end(body);
    } catch (err) {
      res.status(500).json({ error: `cannot collect the metrics: ${(err as Error).message}` });
    }
  });
  // express answers HEAD with the GET route; anything else on a known path is a wrong method.
  app.all(ENDPOINTS, (req, res) => {
    res
      .status(405)
      .setHeader('allow', 'GET, HEAD')
      .json({ error: `method not allowed: ${req.method} ${req.path}; use GET` });
  });
  app.use((req, res) => {
    res.status(404).json({ error: `no such endpoint: ${req.method} ${req.path}; use /healthz, /readyz or /metrics` });
  });
  return app;
}

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Listens with Node's default server limits (no connection cap; headers within 60 s, a request
 * within 300 s): the port is plain HTTP for the kubelet and Prometheus, not exposed outside.
 * A port that cannot be bound is a UsageError naming it.
 */
export async function startOpsServer(opts: OpsDeps & { port: number; host: string }): Promise<OpsServer> {
  const server = createServer(createOpsApp(opts));
  const port = await listen(server, opts.port, opts.host, '/healthz, /readyz and /metrics (HTTP)');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
