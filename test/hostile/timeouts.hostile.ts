// `npm run test:hostile`: how quickly the webhook answers a request it cannot finish, against
// the API server's own timeout. `npm test` asserts what each answer says and which deadline
// gave it (test/webhook/admission.test.ts, bad-input.test.ts); how long it took belongs here,
// where the machine is not shared with the rest of the suite. The server is the in-process
// harness: a Namespace read that never ends needs a ClusterView made by hand.
import { connect } from 'node:tls';
import type { ClusterView } from '../../src/cluster/view.js';
import { startHarness, type Harness } from '../webhook/harness.js';
import { webService } from '../webhook/objects.js';
import { admissionReview } from '../webhook/reviews.js';

/** Everything the server sends on a new TLS connection until it ends it, and how long that took. */
function timedAnswer(s: Harness, request: string): Promise<{ raw: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: s.server.webhookPort, ca: s.ca.cert, servername: 'localhost' }, () => socket.write(request));
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer within 30 s'));
    }, 30_000);
    let raw = '';
    socket.on('data', (d) => (raw += d.toString()));
    socket.on('end', () => {
      clearTimeout(deadline);
      resolve({ raw, ms: performance.now() - started });
    });
    socket.on('error', (err: Error) => {
      clearTimeout(deadline);
      reject(err);
    });
  });
}

const statusLine = (raw: string) => raw.split('\r\n')[0];

it('denies within the 1 s timeout parameter when the Namespace read hangs', async () => {
  const view: ClusterView = {
    synced: () => true,
    policies: () => null,
    namespaceLabels: () => new Promise(() => {}),
    nodeAddresses: () => [],
    nodePortsInUse: () => new Set(),
    stop: async () => {},
  };
  const s = await startHarness({ view });
  try {
    const started = performance.now();
    const res = await s.post('/validate', admissionReview({ object: webService({ namespace: 'games', nodePorts: [30010] }), uid: 'slow' }), {
      query: 'timeout=1s',
    });
    const ms = performance.now() - started;
    console.log(`hanging Namespace read, timeout=1s: answered in ${Math.round(ms)} ms`);
    expect(res.json.response.status.message).toMatch(/reading the Namespace took longer than the [78]\d\d ms left/);
    expect(ms).toBeLessThan(1000);
  } finally {
    await s.close();
  }
});

it.each([
  {
    name: 'a client that stalls in its headers is answered 408 within 2.5 s of a 500 ms headers timeout (checked every second), well before the 10 s it gave',
    config: { headersTimeoutMs: 500 },
    request: 'POST /validate?timeout=10s HTTP/1.1\r\nHost: localhost\r\nContent-Type: appl',
    atLeastMs: 500,
    underMs: 2500,
  },
  {
    name: 'a client that stalls mid-body is answered 408 at 80 % of its 2 s timeout parameter, before the API server gives up',
    config: {},
    request:
      'POST /validate?timeout=2s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{"apiVersion":"admission.k8s.io/v1",',
    atLeastMs: 1590,
    underMs: 2000,
  },
])('$name', async ({ config, request, atLeastMs, underMs }) => {
  const s = await startHarness({ config });
  try {
    const { raw, ms } = await timedAnswer(s, request);
    console.log(`${statusLine(raw)} after ${Math.round(ms)} ms`);
    expect(statusLine(raw)).toBe('HTTP/1.1 408 Request Timeout');
    expect(ms).toBeGreaterThanOrEqual(atLeastMs);
    expect(ms).toBeLessThan(underMs);
  } finally {
    await s.close();
  }
});
