// Certificates and policies change under a running server: cert-manager renews the Secret,
// an admin edits the policy ConfigMap. Both arrive as a `..data` symlink swap.
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { Agent, fetch } from 'undici';
import { SERVE_DEFAULTS } from '../../src/config/serve.js';
import { eventually, servingCert, startHarness, TEST_POLICY, writeAtomic, type Harness } from './harness.js';
import { webPod } from './objects.js';
import { admissionReview } from './reviews.js';

const serialOf = (pem: string) => new X509Certificate(pem).serialNumber;

/** The serial number a brand-new TLS connection is served. */
function servedSerial(h: Harness): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: h.server.webhookPort, ca: h.ca.cert, servername: 'localhost' }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.end();
      resolve(serial);
    });
    socket.on('error', reject);
  });
}

const metric = async (h: Harness, sample: string) => (await h.ops('/metrics')).text.split('\n').includes(sample);

describe('certificate rotation', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  it('serves the renewed certificate to new connections while requests in flight all succeed', async () => {
    const renewed = await servingCert(h.ca);
    expect(await servedSerial(h)).toBe(serialOf(h.leaf.cert));

    // Four keep-alive workers and one that opens a new connection per request, for ~600 ms.
    let stop = false;
    const results: (number | string)[] = [];
    const body = JSON.stringify(admissionReview({ object: webPod() }));
    const send = async (dispatcher: Agent) => {
      try {
        const res = await fetch(h.url('/validate'), { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher });
        const json = (await res.json()) as { response: { allowed: boolean } };
        results.push(res.status === 200 && json.response.allowed ? 200 : `${res.status}`);
      } catch (err) {
        results.push(String((err as Error).cause ?? err));
      }
    };
    const keepAlive = async () => {
      while (!stop) await send(h.dispatcher);
    };
    const fresh = async () => {
      while (!stop) {
        const agent = new Agent({ connect: { ca: h.ca.cert }, pipelining: 0 });
        await send(agent);
        await agent.close();
      }
    };
    const load = Promise.all([keepAlive(), keepAlive(), keepAlive(), keepAlive(), fresh()]);
    // Requests before the swap and after it, counted rather than timed.
    await eventually(() => results.length >= 10, 15_000);
    await writeAtomic(h.tlsDir, { 'tls.crt': renewed.cert, 'tls.key': renewed.key, 'ca.crt': h.ca.cert }, 1);
    await eventually(() => metric(h, 'portcullis_certificate_reloads_total{result="success"} 1'), 15_000);
    const atReload = results.length;
    await eventually(() => results.length >= atReload + 11, 15_000);
    stop = true;
    await load;

    expect(results.length).toBeGreaterThan(20);
    expect(results.filter((r) => r !== 200)).toEqual([]);
    expect(await servedSerial(h)).toBe(serialOf(renewed.cert));
    expect(h.logs.find((l) => l.msg === 'certificate reloaded')).toMatchObject({
      level: 'info',
      component: 'tls',
      certificate: { serialNumber: serialOf(renewed.cert) },
    });
  });

  it.each([
    {
      name: 'a key that belongs to another certificate',
      files: async (h: Harness) => ({ 'tls.crt': (await servingCert(h.ca)).cert, 'tls.key': h.leaf.key }),
      error: /key/i,
    },
    { name: 'a truncated certificate', files: async (h: Harness) => ({ 'tls.crt': h.leaf.cert.slice(0, 200), 'tls.key': h.leaf.key }), error: /./ },
    { name: 'garbage', files: async () => ({ 'tls.crt': 'not a certificate', 'tls.key': 'not a key' }), error: /./ },
  ])('refuses $name, logs it and keeps serving the old certificate', async ({ files, error }) => {
    await writeAtomic(h.tlsDir, await files(h), 1);
    await eventually(() => metric(h, 'portcullis_certificate_reloads_total{result="failure"} 1'));
    expect(await servedSerial(h)).toBe(serialOf(h.leaf.cert));
    const line = h.logs.find((l) => l.msg === 'new certificate refused; the one in use stays');
    expect(line).toMatchObject({ level: 'error', component: 'tls' });
    expect(line!.err).toMatch(error);
    const res = await h.post('/validate', admissionReview({ object: webPod(), uid: 'still' }));
    expect(res.json.response).toEqual({ uid: 'still', allowed: true });
    expect(await h.ops('/readyz').then((r) => r.status)).toBe(200);
    // The same broken pair is not counted again on the next check.
    await h.server.reloadCertificate();
    expect(await metric(h, 'portcullis_certificate_reloads_total{result="failure"} 1')).toBe(true);
  });
});

describe('files rewritten in place (no ..data symlink: a hostPath or a plain directory)', () => {
  it('picks up a certificate pair and a policy file overwritten in place, and counts no failure for the pair', async () => {
    const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'portcullis-plain-'));
    const [cert, key, policy] = ['tls.crt', 'tls.key', 'policy.yaml'].map((f) => path.join(dir, f));
    const probe = await startHarness();
    await writeFile(cert, probe.leaf.cert);
    await writeFile(key, probe.leaf.key);
    await writeFile(policy, TEST_POLICY);
    // A server on the plain files, trusting the same CA.
    // The shipped debounce (250 ms) coalesces the two writes into one reload.
    const h = await startHarness({ config: { tlsCert: cert, tlsKey: key, policyPaths: [policy], reloadDebounceMs: SERVE_DEFAULTS.reloadDebounceMs } });
    const ca = probe.ca;
    await probe.close();
    try {
      const trusting = { ...h, ca };
      const renewed = await servingCert(ca);
      // Two writes, certificate then key, as a script or an operator would do them.
      await writeFile(cert, renewed.cert);
      await writeFile(key, renewed.key);
      await eventually(() => metric(h, 'portcullis_certificate_reloads_total{result="success"} 1'));
      expect(await servedSerial(trusting)).toBe(serialOf(renewed.cert));
      expect(await metric(h, 'portcullis_certificate_reloads_total{result="failure"} 0')).toBe(true);

      await writeFile(policy, TEST_POLICY.replace('hostport-not-allowed: warn', 'hostport-not-allowed: warn\n    hostport-reserved: warn'));
      await eventually(() => metric(h, 'portcullis_policy_reloads_total{result="success"} 1'));
      const res = await fetch(h.url('/validate'), {
        method: 'POST',
        body: JSON.stringify(admissionReview({ object: webPod({ hostPorts: { metrics: 10250 } }), uid: 'plain' })),
        headers: { 'content-type': 'application/json' },
        dispatcher: new Agent({ connect: { ca: ca.cert } }),
      });
      expect(((await res.json()) as { response: { allowed: boolean } }).response.allowed).toBe(true);
    } finally {
      await h.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('policy reload', () => {
  const violating = () => admissionReview({ object: webPod({ hostPorts: { metrics: 10250 } }), uid: 'p' });

  it('applies a valid new policy, refuses an invalid one and keeps the last good', async () => {
    const h = await startHarness();
    try {
      expect((await h.post('/validate', violating())).json.response.allowed).toBe(false);

      // hostport-reserved relaxed to warn.
      await writeAtomic(
        h.policyDir,
        { 'policy.yaml': TEST_POLICY.replace('hostport-not-allowed: warn', 'hostport-not-allowed: warn\n    hostport-reserved: warn') },
        1,
      );
      await eventually(() => metric(h, 'portcullis_policy_reloads_total{result="success"} 1'));
      const relaxed = (await h.post('/validate', violating())).json.response;
      expect(relaxed.allowed).toBe(true);
      expect(relaxed.warnings.some((w: string) => w.startsWith('hostport-reserved'))).toBe(true);

      // Two tenants claim one slice: refused with file:line: field: message.
      const broken = TEST_POLICY.replace('nodePortRange: "30040-30079"', 'nodePortRange: "30030-30079"');
      await writeAtomic(h.policyDir, { 'policy.yaml': broken }, 2);
      await eventually(() => metric(h, 'portcullis_policy_reloads_total{result="failure"} 1'));
      const line = h.logs.find((l) => l.msg === 'policy reload refused; the last good policy stays in force');
      expect(line).toMatchObject({ level: 'error', component: 'policy' });
      expect(line!.errors).toEqual([
        expect.stringMatching(/policy\.yaml:\d+: spec\.tenants\[1\]\.nodePortRange: slice 30030-30079 overlaps tenant "team-a" \(30000-30039\)$/),
      ]);
      // Still the relaxed policy, still ready.
      expect((await h.post('/validate', violating())).json.response.allowed).toBe(true);
      expect(await h.ops('/readyz').then((r) => r.status)).toBe(200);

      // Fixed again: back to enforcing.
      await writeAtomic(h.policyDir, { 'policy.yaml': TEST_POLICY }, 3);
      await eventually(() => metric(h, 'portcullis_policy_reloads_total{result="success"} 2'));
      expect((await h.post('/validate', violating())).json.response.allowed).toBe(false);
    } finally {
      await h.close();
    }
  });

  it('refuses YAML that does not parse', async () => {
    // Only the explicit reload below may read the file: a watcher that got there first would
    // leave it nothing changed to report.
    const h = await startHarness({ config: { reloadDebounceMs: 600_000, reloadPollMs: 600_000 } });
    try {
      await writeAtomic(h.policyDir, { 'policy.yaml': 'apiVersion: portcullis.dev/v1alpha1\nkind: [PortPolicy\n' }, 1);
      const r = await h.server.reloadPolicies();
      expect(r).toEqual({ changed: true, ok: false, errors: [expect.stringMatching(/policy\.yaml:\d+: invalid YAML: /)] });
      expect((await h.post('/validate', violating())).json.response.allowed).toBe(false);
    } finally {
      await h.close();
    }
  });
});
