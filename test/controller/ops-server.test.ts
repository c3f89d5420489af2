// The ops server both processes run on --metrics-port (src/server/ops-app.ts): the wire format
// of every answer, exactly, since probes, Prometheus and people with curl read it.
import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Gauge, Registry } from 'prom-client';
import { startOpsServer, type OpsServer, type ReadyChecks } from '../../src/server/ops-app.js';
import { UsageError } from '../../src/runtime/usage-error.js';

const running: OpsServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(readiness: ReadyChecks, registry = new Registry()) {
  const ops = await startOpsServer({ port: 0, host: '127.0.0.1', registry, readiness: () => readiness });
  running.push(ops);
  return ops;
}

const READY = { ready: true, checks: { cluster: true } };
const UNREADY = { ready: false, checks: { policy: true, cluster: false } };

describe('ops server', () => {
  it.each([
    { name: 'liveness', method: 'GET', path: '/healthz', readiness: UNREADY, status: 200, body: { status: 'ok' } },
    { name: 'ready', method: 'GET', path: '/readyz', readiness: READY, status: 200, body: { ready: true, checks: { cluster: true } } },
    {
      name: 'not ready names the failing check',
      method: 'GET',
      path: '/readyz',
      readiness: UNREADY,
      status: 503,
      body: { ready: false, checks: { policy: true, cluster: false } },
    },
    {
      name: 'a query string is ignored',
      method: 'GET',
      path: '/readyz?verbose',
      readiness: READY,
      status: 200,
      body: { ready: true, checks: { cluster: true } },
    },
    {
      name: 'an unknown path',
      method: 'GET',
      path: '/nope',
      readiness: READY,
      status: 404,
      body: { error: 'no such endpoint: GET /nope; use /healthz, /readyz or /metrics' },
    },
    {
      name: 'a write to a probe path',
      method: 'POST',
      path: '/readyz',
      readiness: READY,
      status: 405,
      body: { error: 'method not allowed: POST /readyz; use GET' },
    },
    {
      name: 'a delete of the metrics',
      method: 'DELETE',
      path: '/metrics',
      readiness: READY,
      status: 405,
      body: { error: 'method not allowed: DELETE /metrics; use GET' },
    },
  ])('$name: $method $path answers $status', async ({ method, path, readiness, status, body }) => {
    const ops = await start(readiness);
    const r = await fetch(`http://127.0.0.1:${ops.port}${path}`, { method });
    expect([r.status, r.headers.get('content-type'), await r.json()]).toEqual([status, 'application/json; charset=utf-8', body]);
    if (status === 405) expect(r.headers.get('allow')).toBe('GET, HEAD');
  });

  it('HEAD /readyz gives the status without a body', async () => {
    const ops = await start(UNREADY);
    const r = await fetch(`http://127.0.0.1:${ops.port}/readyz`, { method: 'HEAD' });
    expect([r.status, await r.text()]).toEqual([503, '']);
  });

  it('serves the registry in the exposition format, read at each scrape', async () => {
    const registry = new Registry();
    let value = 1;
    new Gauge({
      name: 'ops_test_value',
      help: 'A value read when scraped.',
      registers: [registry],
      collect() {
        this.set(value);
      },
    });
    const ops = await start(READY, registry);
    const get = () => fetch(`http://127.0.0.1:${ops.port}/metrics`);
    const first = await get();
    expect([first.status, first.headers.get('content-type'), await first.text()]).toEqual([
      200,
      registry.contentType,
      '# HELP ops_test_value A value read when scraped.\n# TYPE ops_test_value gauge\nops_test_value 1\n',
    ]);
    value = 2;
    expect(await (await get()).text()).toContain('ops_test_value 2\n');
  });

  it('a metric that cannot be collected is a 500 with the reason, and the server keeps answering', async () => {
    const registry = new Registry();
    new Gauge({
      name: 'ops_test_broken',
      help: 'Fails when collected.',
      registers: [registry],
      collect() {
        throw new Error('the cache is gone');
      },
    });
    const ops = await start(READY, registry);
    const r = await fetch(`http://127.0.0.1:${ops.port}/metrics`);
    expect([r.status, await r.json()]).toEqual([500, { error: 'cannot collect the metrics: the cache is gone' }]);
    expect((await fetch(`http://127.0.0.1:${ops.port}/healthz`)).status).toBe(200);
  });

  it('a port in use is a usage error naming it', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      const started = startOpsServer({ port, host: '127.0.0.1', registry: new Registry(), readiness: () => READY });
      await expect(started).rejects.toThrow(UsageError);
      await expect(started).rejects.toThrow(`cannot listen on 127.0.0.1:${port} for /healthz, /readyz and /metrics (HTTP): EADDRINUSE`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('close ends open keep-alive connections, so it never waits on a client', async () => {
    const ops = await startOpsServer({ port: 0, host: '127.0.0.1', registry: new Registry(), readiness: () => READY });
    // fetch keeps its connection open for the next request.
    expect((await fetch(`http://127.0.0.1:${ops.port}/healthz`)).status).toBe(200);
    await ops.close();
    await expect(fetch(`http://127.0.0.1:${ops.port}/healthz`)).rejects.toThrow();
  });
});
