// src/k8s/api-calls.ts is what the manifests' RBAC is checked against, per process. This test
// runs the code that talks to the cluster (the webhook's caches, the controller in both report
// flavors, a cluster scan) against the test API server and compares the calls each really made
// with its list.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startLiveClusterView } from '../../src/cluster/live-view.js';
import { startController } from '../../src/controller/controller.js';
import { API_CALLS, grantsOf } from '../../src/k8s/api-calls.js';
import { connectKube } from '../../src/k8s/client.js';
import { ALL_RESOURCES } from '../../src/k8s/resources.js';
import { clusterSource } from '../../src/sources/cluster.js';
import { loadDefaultSpec, loadPolicyPaths } from '../../src/sources/policy-files.js';
import { deployment, namespace, node, portPolicy, service } from '../support/cluster-objects.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { ManualClock } from '../support/clock.js';
import { waitFor } from '../support/wait.js';

describe('API calls', () => {
  let fake: FakeApiServer;
  const made = { webhook: new Set<string>(), controller: new Set<string>(), scan: new Set<string>() };
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

      const record = (into: Set<string>, from: number) => {
        for (const r of fake.requests.slice(from)) {
          if (!r.info) continue;
          into.add(`${r.info.group}/${r.info.resource}${r.info.subresource ? `/${r.info.subresource}` : ''}:${r.info.verb}`);
          if (r.info.resource === 'leases') leaseNamespaces.add(r.info.namespace);
        }
        return fake.requests.length;
      };
      let seen = fake.requests.length;

      const view = startLiveClusterView({ client, defaults });
      try {
        await view.whenSynced();
        await view.namespaceLabels('not-cached');
      } finally {
        await view.stop();
      }
      seen = record(made.webhook, seen);

      // Held time: the lease cannot lapse on a busy machine and add calls of its own.
      const clock = new ManualClock({ realSleeps: true });
      const c = startController({
        client,
        defaults,
        filePolicies,
        flavor,
        leaseNamespace: 'portcullis-system',
        debounceMs: 10,
        retryPeriodMs: 50,
        leaseDurationMs: 1000,
        renewDeadlineMs: 500,
        clock,
      });
      try {
        await c.firstReportSet;
        fake.remove('v1', 'Service', 'shop', 'web');
        fake.remove('apps/v1', 'Deployment', 'shop', 'web');
        fake.remove('cilium.io/v2', 'CiliumClusterwideNetworkPolicy', null, 'c');
        await waitFor('reports deleted', () => fake.list(group, kind, 'shop').length === 0 && fake.list(group, `Cluster${kind}`).length === 0);
        await waitFor('status written', () => fake.get('portcullis.dev/v1alpha1', 'PortPolicy', null, 'broken')?.status);
      } finally {
        await c.stop();
      }
      seen = record(made.controller, seen);

      const source = clusterSource({ client });
      await source.facts();
      for await (const _ of source.items());
      const scoped = clusterSource({ client, namespace: 'shop' });
      await scoped.facts();
      record(made.scan, seen);
      await fake.close();
    }
  });
  afterAll(async () => {
    await fake?.close().catch(() => {});
  });

  it.each(['webhook', 'controller'] as const)('%s: lists exactly the calls the code makes', (process) => {
    expect([...made[process]].sort()).toEqual(grantsOf(API_CALLS[process].filter((c) => !c.authorizationOnly)));
  });

  it('webhook: reads only, and nothing on pods, workloads, reports, leases, secrets or configmaps', () => {
    const resources = API_CALLS.webhook.map((c) => c.resource).sort();
    expect(resources).toEqual(['namespaces', 'nodes', 'portpolicies', 'services']);
    expect(API_CALLS.webhook.flatMap((c) => c.verbs).filter((v) => !['get', 'list', 'watch'].includes(v))).toEqual([]);
  });

  it("scan --cluster (the user's own credentials) needs no more than the controller reads", () => {
    const controllerReads = grantsOf(API_CALLS.controller).filter((g) => /:(get|list|watch)$/.test(g));
    expect([...made.scan].filter((g) => !controllerReads.includes(g))).toEqual(
      // A single namespace is read by name (scan -n NAME); the controller lists them all.
      ['/namespaces:get'],
    );
  });

  it('touches Leases only in its own namespace', () => {
    expect([...leaseNamespaces]).toEqual(['portcullis-system']);
    expect(API_CALLS.controller.find((c) => c.resource === 'leases')?.scope).toBe('own-namespace');
  });

  it('names every resource the code has a path for', () => {
    const listed = new Set(
      Object.values(API_CALLS)
        .flat()
        .map((c) => `${c.group}/${c.resource}`),
    );
    expect(ALL_RESOURCES.map((r) => `${r.group}/${r.resource}`).filter((r) => !listed.has(r))).toEqual([]);
  });
});
