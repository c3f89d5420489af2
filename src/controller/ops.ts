// The controller's plain-HTTP endpoints on --metrics-port: /healthz (the process is alive),
// /readyz (every cache has synced; followers are ready too, so a hand-over finds warm
// caches), /metrics (Prometheus). The metrics read the controller's state when scraped.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Controller } from './controller.js';

export function controllerRegistry(controller: Controller): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'portcullis_controller_leader',
    help: '1 while this replica holds the Lease and writes reports.',
    registers: [registry],
    collect() {
      this.set(controller.isLeader() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'portcullis_controller_report_writes',
    help: 'Report writes since start, by operation and result (a counter; read with rate()).',
    labelNames: ['operation', 'result'],
    registers: [registry],
    collect() {
      for (const [op, n] of Object.entries(controller.stats.writes)) {
        this.set({ operation: op, result: 'ok' }, n.ok);
        this.set({ operation: op, result: 'error' }, n.error);
      }
    },
  });
  new Gauge({
    name: 'portcullis_controller_audit_runs',
    help: 'Audit runs since start.',
    registers: [registry],
    collect() {
      this.set(controller.stats.auditRuns);
    },
  });
  new Gauge({
    name: 'portcullis_controller_last_audit_seconds',
    help: 'Duration of the last audit run.',
    registers: [registry],
    collect() {
      this.set(controller.stats.lastAuditSeconds);
    },
  });
  new Gauge({
    name: 'portcullis_controller_findings',
    help: 'Findings in the cluster as last audited, by rule and action.',
    labelNames: ['rule', 'action'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [k, n] of controller.stats.findings) {
        const [rule, action] = k.split('|');
        if (n > 0) this.set({ rule, action }, n);
      }
    },
  });
  const perInformer = (name: string, help: string, value: (i: ReturnType<Controller['informers']>[number]) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['resource'],
      registers: [registry],
      collect() {
        for (const i of controller.informers()) this.set({ resource: i.type.resource }, value(i));
      },
    });
  perInformer('portcullis_controller_cached_objects', 'Objects held in the cache (pods, ReplicaSets and Jobs owned by workloads are kept only when they use host ports).', (i) => i.size);
  perInformer('portcullis_controller_lists', 'Lists since start (a relist follows an expired watch).', (i) => i.stats.lists);
  perInformer('portcullis_controller_watch_failures', 'Watches that failed (dropped connection, error answer) since start.', (i) => i.stats.failures);
  perInformer('portcullis_controller_synced', '1 once the cache has listed.', (i) => (i.synced() ? 1 : 0));
  return registry;
}

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

export async function startOpsServer(port: number, ready: () => boolean, registry: Registry, host = '0.0.0.0'): Promise<OpsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const text = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'Content-Type': type });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'method not allowed\n');
    if (path === '/healthz') return text(200, 'ok\n');
    if (path === '/readyz') return ready() ? text(200, 'ok\n') : text(503, 'caches not synced\n');
    if (path === '/metrics') {
      registry.metrics().then(
        (m) => text(200, m, registry.contentType),
        (err) => text(500, `${err}\n`),
      );
      return;
    }
    text(404, 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
