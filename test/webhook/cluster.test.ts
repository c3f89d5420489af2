// The webhook with the real in-cluster caches (the live ClusterView) against the test API
// server: PortPolicy objects are the active set, namespace labels choose tenants, and
// /mutate allocates node ports from the tenant's slice around the ports Services hold.
import fastJsonPatch from 'fast-json-patch';
import { connectKube } from '../../src/k8s/client.js';
import { startLiveClusterView, type LiveClusterView } from '../../src/cluster/live-view.js';
import { loadDefaultSpec } from '../../src/sources/policy-files.js';
import { namespace, portPolicy, service } from '../support/cluster-objects.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { patchOf, startHarness, type Harness } from './harness.js';
import { webService } from './objects.js';
import { admissionReview, type Obj } from './reviews.js';

describe('serve in a cluster', () => {
  let fake: FakeApiServer;
  let view: LiveClusterView;
  let h: Harness;
  beforeAll(async () => {
    fake = await FakeApiServer.start();
    fake.put(namespace('games', { tenant: 'team-b' }));
    fake.put(service('games', 'lobby', [30040]));
    fake.put(
      portPolicy('cluster-policy', {
        remediation: { nodePortAllocation: true },
        tenants: [{ name: 'team-b', namespaceSelector: { matchLabels: { tenant: 'team-b' } }, nodePortRange: '30040-30043' }],
      }),
    );
    const client = await connectKube({ kubeconfig: fake.kubeconfig() });
    view = startLiveClusterView({ client, defaults: await loadDefaultSpec(), tuning: { retryDelayMs: 20 } });
    await view.whenSynced();
    h = await startHarness({ view });
  });
  afterAll(async () => {
    await h.close();
    await view.stop();
    await fake.close();
  });

  it('judges by the PortPolicy objects and the namespace labels in the cluster', async () => {
    const res = await h.post('/validate', admissionReview({ object: webService({ namespace: 'games', nodePorts: [30040, 30010, 30041] }), uid: 'c1' }));
    expect(res.json.response.allowed).toBe(false);
    const lines = res.json.response.status.message.split('\n');
    expect(lines[0]).toBe('portcullis denied this Service: 1 violation');
    expect(lines[1].startsWith('- nodeport-range (policy cluster-policy) at spec.ports[1].nodePort = 30010: ')).toBe(true);
    expect(await h.ops('/readyz').then((r) => r.status)).toBe(200);
  });

  it('allocates free ports of the slice on /mutate, and the result passes /validate', async () => {
    const svc = webService({ namespace: 'games', nodePorts: [undefined, undefined, undefined] });
    const res = await h.post('/mutate', admissionReview({ object: svc, uid: 'c2' }));
    const ops = patchOf(res.json.response)!;
    const ports = ops.map((op: Obj) => op.value).sort();
    expect(ops.map((op: Obj) => [op.op, op.path]).sort()).toEqual([
      ['add', '/spec/ports/0/nodePort'],
      ['add', '/spec/ports/1/nodePort'],
      ['add', '/spec/ports/2/nodePort'],
    ]);
    expect(ports).toEqual([30041, 30042, 30043]);
    const patched = fastJsonPatch.applyPatch(structuredClone(svc), ops, true, false).newDocument;
    expect((await h.post('/validate', admissionReview({ object: patched, uid: 'c2v' }))).json.response).toEqual({ uid: 'c2v', allowed: true });
    // The slice is now full (30040 held by lobby, the rest reserved): the next one is denied.
    const full = await h.post('/mutate', admissionReview({ object: svc, uid: 'c3' }));
    expect(full.json.response.allowed).toBe(false);
    expect(full.json.response.status.message).toMatch(/30040-30043/);
  });
});
