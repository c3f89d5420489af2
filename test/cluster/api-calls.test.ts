// src/k8s/api-calls.ts is what the manifests' RBAC is checked against. This test runs the code
// that talks to the cluster (the webhook's caches, the controller in both report flavors, a
// cluster scan) against the test API server and compares the calls it really made with the list.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startLiveClusterView } from '../../src/cluster/live-view.js';
import { startController } from '../../src/controller/controller.js';
import { API_CALLS } from '../../src/k8s/api-calls.js';
import { connectKube } from '../../src/k8s/client.js';
import { ALL_RESOURCES } from '../../src/k8s/resources.js';
import { clusterSource } from '../../src/sources/cluster.js';
import { loadDefaultSpec, loadPolicyPaths } from '../../src/sources/policy-files.js';
import { deployment, namespace, node, portPolicy, service } from '../support/cluster-objects.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { waitFor } from '../support/wait.js';

describe('API calls', () => {
  let fake: FakeApiServer;
  const made = new Set<string>();
  const leaseNamespaces = new Set<string | null>();

  beforeAll(async () => {
    const defaults = await loadDefaultSpec();
    const filePolicies = (await loadPolicyPaths([], defaults)).policies;
    for (const flavor of ['wgpolicyk8s', 'openreports'] as const) {
      fake = await FakeApiServer.start();
      fake.put(namespace('shop'));
      fake.put(node('n1', '10.0.0.1'));
      fake.put(service('shop', 'web', [30080]));
      fake.put(deployment('shop', 'web', [{ containerPort: 80 }]));
      fake.put(portPolicy('broken', { nodePortRange: '1-2-3' }));
      // A report of the same name that is not ours: create meets 409, then get and update.
      const [group, kind] = flavor === 'openreports' ? ['openreports.io/v1alpha1', 'Report'] : ['wgpolicyk8s.io/v1alpha2', 'PolicyReport'];
      fake.put({ apiVersion: group, kind, metadata: { namespace: 'shop', name: 'portcullis-shop' }, results: [] });
      fake.put({ apiVersion: group, kind: `Cluster${kind}`, metadata: { name: 'portcullis-cluster' }, results: [] });
      const ccnp = { apiVersion: 'cilium.io/v2', kind: 'CiliumClusterwideNetworkPolicy', metadata: { name: 'c' }, spec: { endpointSelector: {} } };
      fake.put(ccnp);
      const client = await connectKube({ kubeconfig: fake.kubeconfig() });

      const view = startLiveClusterView({ client, defaults });
      await view.whenSynced();
      await view.namespaceLabels('not-cached');
      await waitFor('status written', () => fake.get('portcullis.dev/v1alpha1', 'PortPolicy', null, 'broken')?.status);
      await view.stop();

      const c = startController({ client, defaults, filePolicies, flavor, leaseNamespace: 'portcullis-system', debounceMs: 10, retryPeriodMs: 50, leaseDurationMs: 1000, renewDeadlineMs: 500 });
      await c.firstReportSet;
      fake.remove('v1', 'Service', 'shop', 'web');
      fake.remove('apps/v1', 'Deployment', 'shop', 'web');
      fake.remove('cilium.io/v2', 'CiliumClusterwideNetworkPolicy', null, 'c');
      await waitFor('reports deleted', () => fake.list(group, kind, 'shop').length === 0 && fake.list(group, `Cluster${kind}`).length === 0);
      await c.stop();

      const source = clusterSource({ client });
      await source.facts();
      for await (const _ of source.items());
      const scoped = clusterSource({ client, namespace: 'shop' });
      await scoped.facts();

      for (const r of fake.requests) {
        if (!r.info) continue;
        made.add(`${r.info.group}/${r.info.resource}${r.info.subresource ? `/${r.info.subresource}` : ''}:${r.info.verb}`);
        if (r.info.resource === 'leases') leaseNamespaces.add(r.info.namespace);
      }
      await fake.close();
    }
  });
  afterAll(async () => {
    await fake?.close().catch(() => {});
  });

  it('lists exactly the calls the code makes', () => {
    const listed = API_CALLS.flatMap((c) => c.verbs.map((v) => `${c.group}/${c.resource}:${v}`)).sort();
    expect([...made].sort()).toEqual(listed);
  });

  it('touches Leases only in its own namespace', () => {
    expect([...leaseNamespaces]).toEqual(['portcullis-system']);
    expect(API_CALLS.find((c) => c.resource === 'leases')?.scope).toBe('own-namespace');
  });

  it('names every resource the code has a path for', () => {
    const listed = new Set(API_CALLS.map((c) => `${c.group}/${c.resource}`));
    expect(ALL_RESOURCES.map((r) => `${r.group}/${r.resource}`).filter((r) => !listed.has(r))).toEqual([]);
  });
});
