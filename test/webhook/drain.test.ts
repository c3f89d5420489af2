// SIGTERM: readiness false at once, keep serving for the drain delay, stop accepting, finish
// what is in flight, close idle keep-alive connections, and be gone within the grace period.
import { connect, type TLSSocket } from 'node:tls';
import { Agent, fetch } from 'undici';
import type { ClusterView } from '../../src/cluster/view.js';
import { runServe } from '../../src/cmd/serve.js';
import { startHarness, type Harness, freePort } from './harness.js';
import { webPod, webService } from './objects.js';
import { admissionReview } from './reviews.js';

/** Namespace reads that take `ms`: requests stay in flight that long (TEST_POLICY has a label-selected tenant). */
const slowView = (ms: number): ClusterView => ({
  synced: () => true,
  policies: () => null,
  namespaceLabels: (ns) => new Promise((resolve) => setTimeout(() => resolve(ns === 'team-a' ? {} : undefined), ms)),
  nodeAddresses: () => [],
  nodePortsInUse: () => new Set(),
  stop: async () => {},
});

function post(h: Harness, dispatcher: Agent, uid: string) {
  return fetch(h.url('/validate'), {
    method: 'POST',
    body: JSON.stringify(admissionReview({ object: webPod({ hostPorts: { metrics: 10250 } }), uid })),
    headers: { 'content-type': 'application/json' },
    dispatcher,
  }).then(async (res) => ({ status: res.status, connection: res.headers.get('connection'), json: (await res.json()) as { response: { uid: string; allowed: boolean } } }));
}

function tlsSocket(h: Harness): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: h.server.webhookPort, ca: h.ca.cert, servername: 'localhost' }, () => resolve(s));
    s.on('error', reject);
  });
}

describe('drain', () => {
  it('answers every request in flight and every request during the delay, then closes', async () => {
    const h = await startHarness({ view: slowView(300), config: { drainDelayMs: 200, gracePeriodMs: 3000 } });
    // One connection per request, so all twelve are on the server when the drain starts.
    const dispatcher = new Agent({ connect: { ca: h.ca.cert }, connections: 12 });
    try {
      // An idle keep-alive connection: it must be closed, not left to its 120 s timeout.
      const idle = await tlsSocket(h);
      const idleClosed = new Promise<void>((resolve) => idle.on('close', () => resolve()));

      const inFlight = Array.from({ length: 12 }, (_, i) => post(h, dispatcher, `before-${i}`));
      await new Promise((r) => setTimeout(r, 50));
      const drained = h.server.drain();
      expect(await h.ops('/readyz').then((r) => [r.status, r.json.checks.draining])).toEqual([503, true]);
      await new Promise((r) => setTimeout(r, 100));
      // Still inside the drain delay: a new request is served, and told to close its connection.
      const during = post(h, new Agent({ connect: { ca: h.ca.cert } }), 'during');

      const result = await drained;
      const answers = await Promise.all([...inFlight, during]);
      expect(answers.map((a) => [a.status, a.json.response.uid, a.json.response.allowed])).toEqual([
        ...Array.from({ length: 12 }, (_, i) => [200, `before-${i}`, false]),
        [200, 'during', false],
      ]);
      expect(answers.at(-1)!.connection).toBe('close');
      expect(result.forced).toBe(false);
      expect(result.tookMs).toBeLessThan(3000);
      await idleClosed;
      // No longer accepting.
      await expect(tlsSocket(h)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      // The ops server stays up until close(), reporting not ready.
      expect(await h.ops('/readyz').then((r) => r.status)).toBe(503);
    } finally {
      await dispatcher.close();
      await h.close();
    }
  });

  it('cuts connections still open at the grace deadline', async () => {
    const h = await startHarness({ config: { drainDelayMs: 0, gracePeriodMs: 400 } });
    try {
      // A client that sent half a body and stalls (its body deadline is 8 s away).
      const stalled = await tlsSocket(h);
      stalled.write('POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 999\r\n\r\n{');
      const closed = new Promise<void>((resolve) => stalled.on('close', () => resolve()));
      await new Promise((r) => setTimeout(r, 50));
      const result = await h.server.drain();
      expect(result.forced).toBe(true);
      expect(result.tookMs).toBeGreaterThanOrEqual(390);
      expect(result.tookMs).toBeLessThan(1000);
      await closed;
    } finally {
      await h.close();
    }
  });
});

describe('portcullis serve (runServe)', () => {
  it('starts with a self-signed certificate, prints how to call it, and shuts down on SIGTERM without dropping a request', async () => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const started = performance.now();
    let signal!: (s: string) => void;
    const shutdownSignal = new Promise<string>((r) => (signal = r));
    let hint = '';
    const exit = runServe({ port: String(port), metricsPort: String(metricsPort), policy: [], logLevel: 'error' }, {
      shutdownSignal,
      stderr: (t) => (hint += t),
      overrides: { drainDelayMs: 100, gracePeriodMs: 3000 },
    });

    const ready = async () => fetch(`http://127.0.0.1:${metricsPort}/readyz`).then((r) => r.status === 200, () => false);
    for (let i = 0; i < 200 && !(await ready()); i++) await new Promise((r) => setTimeout(r, 25));
    const certFile = /--cacert (\S+)/.exec(hint)![1];
    expect(hint).toContain(`https://localhost:${port}/validate`);
    const { readFile } = await import('node:fs/promises');
    const dispatcher = new Agent({ connect: { ca: await readFile(certFile, 'utf8') } });
    try {
      const body = JSON.stringify(admissionReview({ object: webService({ nodePorts: [30010, 40000, 30012] }), uid: 'cli' }));
      const inFlight = fetch(`https://localhost:${port}/validate`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher });
      signal('SIGTERM');
      const res = await inFlight;
      // The shipped default policy: 40000 lies outside 30000-32767.
      expect(res.status).toBe(200);
      expect(((await res.json()) as { response: { uid: string; allowed: boolean } }).response).toMatchObject({ uid: 'cli', allowed: false });
      expect(await exit).toBe(0);
      expect(performance.now() - started).toBeLessThan(10000);
    } finally {
      await dispatcher.close();
    }
  }, 20000);
});
