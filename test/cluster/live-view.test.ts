import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { NodePortReservations } from '../../src/cluster/allocator.js';
import { startLiveClusterView, type LiveClusterView } from '../../src/cluster/live-view.js';
import { NamespaceLookupError } from '../../src/cluster/view.js';
import { evaluate, tenantOf } from '../../src/engine/evaluate.js';
import type { PortPolicySpec } from '../../src/engine/policy/model.js';
import type { KubeObject } from '../../src/engine/types.js';
import { connectKube } from '../../src/k8s/client.js';
import { loadDefaultSpec } from '../../src/sources/policy-files.js';
import { kubeletEgress, namespace, node, portPolicy, service } from '../support/cluster-objects.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { waitFor } from '../support/wait.js';

const tenants = {
  tenants: [
    { name: 'team-a', namespaceSelector: { matchLabels: { tenant: 'a' } }, nodePortRange: '31000-31009' },
    { name: 'team-b', namespaceSelector: { matchLabels: { tenant: 'b' } }, nodePortRange: '31010-31019' },
  ],
};

describe('live cluster view (the webhook caches)', () => {
  let defaults: PortPolicySpec;
  let fake: FakeApiServer;
  let view: LiveClusterView;
  beforeAll(async () => {
    defaults = await loadDefaultSpec();
  });
  beforeEach(async () => {
    fake = await FakeApiServer.start();
  });
  afterEach(async () => {
    await view?.stop();
    await fake.close();
  });
  async function start(token?: string, extra: { requestTimeoutMs?: number; maxNamespaceReads?: number } = {}) {
    const client = await connectKube({ kubeconfig: fake.kubeconfig({ token }), requestTimeoutMs: extra.requestTimeoutMs });
    view = startLiveClusterView({ client, defaults, tuning: { retryDelayMs: 20 }, reservationTtlMs: 60_000, maxNamespaceReads: extra.maxNamespaceReads });
    await view.whenSynced();
    return view;
  }

  it('is synced only after every cache listed, and has no policies while no PortPolicy exists', async () => {
    const v = await start();
    expect(v.synced()).toBe(true);
    expect(v.policies()).toBeNull();
  });

  it('reloads policies from PortPolicy changes, ignores an invalid one, and leaves status to the controller', async () => {
    fake.put(portPolicy('ports', { rules: { 'hostport-reserved': 'warn' } }));
    const v = await start();
    expect(v.policies()?.map((p) => [p.name, p.rules['hostport-reserved']])).toEqual([['ports', 'warn']]);

    fake.put(portPolicy('ports', { rules: { 'hostport-reserved': 'audit' } }));
    await waitFor('hot reload', () => v.policies()?.[0].rules['hostport-reserved'] === 'audit');

    fake.put(portPolicy('broken', { tenants: [{ name: 't', namespaces: ['x'], nodePortRange: '20000-20010' }] }));
    fake.put(portPolicy('later', { rules: { 'hostport-reserved': 'warn' } }));
    await waitFor('a later valid policy seen', () => v.policies()?.length === 2);
    expect(v.policies()?.map((p) => p.name)).toEqual(['later', 'ports']);

    // The webhook holds no grant on portpolicies/status: it never writes one.
    expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);

    fake.remove('portcullis.dev/v1alpha1', 'PortPolicy', null, 'ports');
    fake.remove('portcullis.dev/v1alpha1', 'PortPolicy', null, 'later');
    await waitFor('fallback to files', () => v.policies() === null);
  });

  it('moves a namespace between tenants when its labels change', async () => {
    fake.put(portPolicy('tenancy', tenants));
    fake.put(namespace('shop', { tenant: 'a' }));
    const v = await start();
    const policy = v.policies()![0];
    expect(tenantOf(policy, 'shop', await v.namespaceLabels('shop'))?.name).toBe('team-a');
    const changes: string[] = [];
    v.onChange((w) => changes.push(w));
    fake.put(namespace('shop', { tenant: 'b' }));
    await waitFor('relabel', () => tenantOf(policy, 'shop', v.facts())?.name === 'team-b');
    expect(changes).toContain('namespaces');
    // The same Service is judged against the new tenant's slice.
    const svc = service('shop', 'web', [31001]) as KubeObject;
    const findings = evaluate({ object: svc, namespace: 'shop', source: null }, v.policies()!, v.facts()).findings;
    expect(findings.map((f) => [f.rule, f.tenant, f.value])).toEqual([['nodeport-range', 'team-b', 31001]]);
  });

  it('reads a namespace missing from the cache directly, and rejects when it cannot', async () => {
    const v = await start('limited');
    fake.forbid = (r) => r.user === 'limited' && r.verb === 'watch' && r.resource === 'namespaces';
    fake.dropWatches();
    fake.put(namespace('new-ns', { tenant: 'a' }));
    // The namespace watch is now refused, so only a direct read can know the new namespace.
    expect(await v.namespaceLabels('new-ns')).toMatchObject({ tenant: 'a' });
    expect(await v.namespaceLabels('does-not-exist')).toBeUndefined();
    fake.forbid = (r) => r.user === 'limited' && r.resource === 'namespaces';
    await expect(v.namespaceLabels('other')).rejects.toThrow(NamespaceLookupError);
    await expect(v.namespaceLabels('other')).rejects.toThrow(/cannot read Namespace "other".*forbidden/);
  });

  it('shares one direct read per namespace and refuses past the cap of reads at once, until they end', async () => {
    // Reads time out after 2 s (the client's timeout), so the stalled ones end by themselves.
    const v = await start(undefined, { requestTimeoutMs: 2000, maxNamespaceReads: 3 });
    const reads = () => fake.requests.filter((r) => r.info?.verb === 'get' && r.info.resource === 'namespaces').map((r) => r.info?.name);
    fake.stall = (r) => r.verb === 'get' && r.resource === 'namespaces';
    const pending = ['n0', 'n0', 'n1', 'n2'].map((n) => v.namespaceLabels(n).catch((err: Error) => err));
    await waitFor('three reads at the server', () => reads().length === 3);
    expect(reads().sort()).toEqual(['n0', 'n1', 'n2']);
    await expect(v.namespaceLabels('n3')).rejects.toThrow(/cannot read Namespace "n3" to decide its tenant: 3 Namespace reads are in flight, the limit/);
    // A namespace already being read is not refused: it shares that read.
    const shared = v.namespaceLabels('n1').catch((err: Error) => err);
    expect(reads()).toHaveLength(3);
    for (const outcome of await Promise.all([...pending, shared])) expect(outcome).toBeInstanceOf(NamespaceLookupError);
    fake.stall = () => false;
    expect(await v.namespaceLabels('n3')).toBeUndefined();
  });

  it("uses the Nodes' addresses for network-policy findings", async () => {
    fake.put(kubeletEgress('shop', 'to-subnet', '10.0.0.0/24'));
    const v = await start();
    const netpol = fake.get('networking.k8s.io/v1', 'NetworkPolicy', 'shop', 'to-subnet') as KubeObject;
    const policies = (await import('../../src/sources/policy-files.js')).loadPolicyPaths([], defaults);
    const active = (await policies).policies;
    const judge = () => evaluate({ object: netpol, namespace: 'shop', source: null }, active, v.facts()).findings.map((f) => [f.rule, f.value]);
    // Assumed node ranges: a /24 is narrower than /16, so not broad.
    expect(v.nodeAddresses()).toEqual([]);
    expect(judge()).toEqual([]);
    fake.put(node('node-1', '10.0.0.5', '203.0.113.5'));
    fake.put(node('node-2', '10.0.0.6'));
    await waitFor('node addresses', () => v.nodeAddresses().length === 3);
    expect(v.nodeAddresses()).toEqual(['10.0.0.5', '10.0.0.6', '203.0.113.5']);
    // Known nodes: the /24 holds two node addresses.
    expect(judge()).toEqual([['netpol-sensitive-exposure', 10250]]);
    expect(v.nodeAddresses()).toBe(v.nodeAddresses());
  });

  it('tracks node ports in use and allocates free ports of a slice, with reservations', async () => {
    fake.put(service('shop', 'a', [31000, 31001]));
    fake.put(
      service('shop', 'lb', [], { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 31002, ports: [{ port: 443, nodePort: 31003 }] }),
    );
    const v = await start();
    expect([...v.nodePortsInUse()].sort()).toEqual([31000, 31001, 31002, 31003]);
    const slice = { lo: 31000, hi: 31009 };
    const first = v.allocator({ dryRun: false }).allocate(slice, 3)!;
    expect(first).toHaveLength(3);
    for (const p of first) expect(p >= 31004 && p <= 31009).toBe(true);
    // Reserved: a second request gets the other three, and then the slice is full.
    const second = v.allocator({ dryRun: false }).allocate(slice, 3)!;
    expect(new Set([...first, ...second]).size).toBe(6);
    expect(v.allocator({ dryRun: false }).allocate(slice, 1)).toBeNull();
    // A deleted Service frees its ports.
    fake.remove('v1', 'Service', 'shop', 'a');
    await waitFor('ports freed', () => !v.nodePortsInUse().has(31000));
    expect(v.allocator({ dryRun: false }).allocate(slice, 2)!.sort()).toEqual([31000, 31001]);
  });
});

describe('NodePortReservations', () => {
  const inUse = new Set([30001, 30003]);
  it.each([
    { name: 'picks only free ports', slice: { lo: 30000, hi: 30004 }, count: 3, want: [30000, 30002, 30004] },
    { name: 'full slice gives null', slice: { lo: 30001, hi: 30001 }, count: 1, want: null },
    { name: 'more than free gives null', slice: { lo: 30000, hi: 30004 }, count: 4, want: null },
    { name: 'zero ports is an empty list', slice: { lo: 30000, hi: 30004 }, count: 0, want: [] },
  ])('$name', ({ slice, count, want }) => {
    const r = new NodePortReservations(() => inUse);
    const got = r.allocate(slice, count, undefined, true);
    expect(got === null ? null : got.sort()).toEqual(want);
  });

  it('reserves for real requests until the TTL passes, never for dryRun', () => {
    let now = 0;
    const r = new NodePortReservations(() => new Set(), { ttlMs: 1000, now: () => now });
    const slice = { lo: 30000, hi: 30001 };
    expect(r.forRequest({ dryRun: true }).allocate(slice, 2)).toHaveLength(2);
    expect(r.size).toBe(0);
    expect(r.forRequest({ dryRun: false }).allocate(slice, 2)).toHaveLength(2);
    expect(r.forRequest({ dryRun: false }).allocate(slice, 1)).toBeNull();
    now = 1000;
    expect(r.forRequest({ dryRun: false }).allocate(slice, 1)).toHaveLength(1);
  });

  it('never returns excluded ports and spreads its choice over the free ones', () => {
    const r = new NodePortReservations(() => new Set());
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) for (const p of r.allocate({ lo: 30000, hi: 30009 }, 1, new Set([30000]), false)!) seen.add(p);
    expect(seen.has(30000)).toBe(false);
    expect(seen.size).toBe(9);
  });
});
