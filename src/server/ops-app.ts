// The plain-HTTP app for the kubelet and Prometheus: /healthz, /readyz, /metrics.
import express from 'express';
import type { Registry } from 'prom-client';

export interface Readiness {
  /** A policy set has been loaded (the last good one stays in force after a bad reload). */
  policy: boolean;
  /** The HTTPS server is listening with a valid certificate. */
  tls: boolean;
  /** The cluster caches have synced; true when running without a cluster. */
  cluster: boolean;
  /** SIGTERM received: the pod must leave the Service's endpoints. */
  draining: boolean;
}

export const isReady = (r: Readiness): boolean => r.policy && r.tls && r.cluster && !r.draining;

export function createOpsApp(deps: { registry: Registry; readiness: () => Readiness }): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Alive as long as the event loop answers: a liveness failure restarts the pod, which a
  // slow policy reload or an unsynced cache must not cause.
  app.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const checks = deps.readiness();
    res.status(isReady(checks) ? 200 : 503).json({ ready: isReady(checks), checks });
  });
  app.get('/metrics', async (_req, res) => {
    const body = await deps.registry.metrics();
    res.setHeader('content-type', deps.registry.contentType);
    res.end(body);
  });
  app.use((req, res) => {
    res.status(404).json({ error: `no such endpoint: ${req.method} ${req.path}; use /healthz, /readyz or /metrics` });
  });
  return app;
}
