// remediate() end to end with the real engine: findings from evaluate(), tenants from
// tenantOf(), the result diffed with fast-json-patch as the webhook does.
import fc from 'fast-check';
import fastJsonPatch from 'fast-json-patch';
import { NodePortReservations } from '../../src/cluster/allocator.js';
import { evaluate } from '../../src/engine/evaluate.js';
import type { CompiledPolicy, PortPolicySpec, Protocol } from '../../src/engine/policy/model.js';
import { remediate, type RemediationInput, type RemediationResult } from '../../src/engine/remediate.js';
import type { PolicyPort } from '../../src/engine/remediate/netpol-carve-out.js';
import { NO_CLUSTER_FACTS, type ClusterFacts, type KubeObject } from '../../src/engine/types.js';
import { LowestFreeAllocator, networkPolicy, policy, service } from './fixtures.js';
import { allows, portEntry, probes } from './port-model.js';

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object') {
    Object.freeze(v);
    Object.values(v).forEach(deepFreeze);
  }
  return v;
}

/** Runs remediate on frozen objects, so any write to the input throws. */
function run(object: KubeObject, policies: CompiledPolicy[], extra: Partial<RemediationInput> = {}): RemediationResult {
  const input = { object, namespace: object.metadata.namespace ?? null, oldObject: null, policies, cluster: NO_CLUSTER_FACTS, allocator: null, ...extra };
  deepFreeze(input.object);
  deepFreeze(input.oldObject);
  return remediate(input);
}

const exposures = (object: KubeObject, policies: CompiledPolicy[], cluster: ClusterFacts = NO_CLUSTER_FACTS) =>
  evaluate({ object, namespace: object.metadata.namespace ?? null, source: null }, policies, cluster).findings.filter(
    (f) => f.rule === 'netpol-sensitive-exposure',
  );

const carve = policy({ remediation: { netpolCarveOut: true } });
// With known node addresses, a rule that allows every port to them is a finding too.
const carveKnownNodes = policy({ nodeCIDRs: ['10.0.0.0/24'], remediation: { netpolCarveOut: true } });
const nodes = [{ ipBlock: { cidr: '10.0.0.0/24' } }];
const internal = [{ ipBlock: { cidr: '10.0.0.0/8' } }];
const egressOf = (o: KubeObject) => (o.spec as { egress: { ports?: PolicyPort[] }[] }).egress;

describe('remediate: netpolCarveOut with the engine', () => {
  it.each<{ name: string; policy: CompiledPolicy; spec: Record<string, unknown>; want: Record<string, unknown> }>([
    {
      name: 'an endPort range spanning 10250 and 10255 to the internal network',
      policy: carve,
      spec: { egress: [{ to: internal, ports: [{ protocol: 'TCP', port: 10000, endPort: 10300 }] }] },
      want: {
        egress: [
          {
            to: internal,
            ports: [
              { protocol: 'TCP', port: 10000, endPort: 10249 },
              { protocol: 'TCP', port: 10251, endPort: 10254 },
              { protocol: 'TCP', port: 10256, endPort: 10300 },
            ],
          },
        ],
      },
    },
    {
      name: 'a rule with no ports to the node addresses',
      policy: carveKnownNodes,
      spec: { policyTypes: ['Egress'], egress: [{ to: nodes }] },
      want: {
        policyTypes: ['Egress'],
        egress: [
          {
            to: nodes,
            ports: [
              { protocol: 'TCP', port: 1, endPort: 10249 },
              { protocol: 'TCP', port: 10251, endPort: 10254 },
              { protocol: 'TCP', port: 10256, endPort: 65535 },
              { protocol: 'UDP' },
              { protocol: 'SCTP' },
            ],
          },
        ],
      },
    },
    {
      name: 'a rule with UDP-only ports is untouched',
      policy: carve,
      spec: {
        egress: [
          {
            to: internal,
            ports: [
              { protocol: 'UDP', port: 10250 },
              { protocol: 'UDP', port: 10000, endPort: 11000 },
            ],
          },
        ],
      },
      want: {
        egress: [
          {
            to: internal,
            ports: [
              { protocol: 'UDP', port: 10250 },
              { protocol: 'UDP', port: 10000, endPort: 11000 },
            ],
          },
        ],
      },
    },
    {
      name: 'multiple peers, only one of them broad: every peer stays',
      policy: carve,
      spec: { egress: [{ to: [{ podSelector: { matchLabels: { app: 'metrics' } } }, ...internal], ports: [{ port: 10250 }, { port: 443 }] }] },
      want: { egress: [{ to: [{ podSelector: { matchLabels: { app: 'metrics' } } }, ...internal], ports: [{ port: 443 }] }] },
    },
    {
      name: 'the only egress rule carved away: Egress stays in effect',
      policy: carve,
      spec: { egress: [{ to: internal, ports: [{ port: 10250 }, { port: 10255 }] }] },
      want: { egress: [], policyTypes: ['Ingress', 'Egress'] },
    },
    {
      name: 'egress to pods only on 10250 is never a finding and stays',
      policy: carve,
      spec: { egress: [{ to: [{ namespaceSelector: {} }], ports: [{ port: 10250 }] }] },
      want: { egress: [{ to: [{ namespaceSelector: {} }], ports: [{ port: 10250 }] }] },
    },
    {
      name: 'every port to everywhere is no worse than no policy and stays',
      policy: carve,
      spec: { egress: [{}] },
      want: { egress: [{}] },
    },
  ])('$name', ({ policy: p, spec, want }) => {
    const np = networkPolicy(spec);
    const first = run(np, [p]);
    expect(first.object.spec).toEqual({ podSelector: {}, ...want });
    expect(first.denial).toBeNull();
    expect(exposures(first.object, [p])).toEqual([]);
    // Idempotent: the second call changes nothing and the webhook's diff is empty.
    const second = run(first.object, [p]);
    expect(second.object).toEqual(first.object);
    expect(second.changes).toEqual([]);
    expect(fastJsonPatch.compare(first.object, second.object)).toEqual([]);
  });

  it('turns the diff into a JSON Patch that produces the remediated object', () => {
    const np = networkPolicy({
      egress: [
        { to: internal, ports: [{ port: 443 }] },
        { to: internal, ports: [{ port: 10250 }] },
      ],
    });
    const result = run(np, [carve]);
    const patch = fastJsonPatch.compare(np, result.object);
    expect(patch.length).toBeGreaterThan(0);
    expect(fastJsonPatch.applyPatch(structuredClone(np), patch).newDocument).toEqual(result.object);
    expect(result.changes).toEqual(['spec.egress[1]: removed; it allowed only sensitive node ports 10250/TCP']);
  });

  it('does nothing when no policy switches the carve-out on, even with findings', () => {
    const off = policy({});
    const np = networkPolicy({ egress: [{ to: internal, ports: [{ port: 10250 }] }] });
    expect(exposures(np, [off])).toHaveLength(1);
    expect(run(np, [off])).toEqual({ object: np, changes: [], skipped: [], denial: null });
  });

  it('reports a Cilium policy without rewriting it', () => {
    const cnp: KubeObject = {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumNetworkPolicy',
      metadata: { name: 'c', namespace: 'team-a' },
      spec: { endpointSelector: {}, egress: [{ toEntities: ['remote-node'], toPorts: [{ ports: [{ port: '10250', protocol: 'TCP' }] }] }] },
    };
    const result = run(cnp, [carve]);
    expect(result.object).toEqual(cnp);
    expect(result.changes).toEqual([]);
    expect(result.skipped).toEqual(['spec.egress[0]: exposes sensitive node ports; Cilium policies are reported, not rewritten']);
  });

  it('cuts a sensitive range of every protocol whole, whichever port the finding names', () => {
    // The finding names TCP 2379 (the lowest); UDP 2380 of the same entry must go in the same call.
    const etcd = policy({ sensitivePorts: [{ name: 'etcd', ports: '2379-2380', protocol: 'ANY' }], remediation: { netpolCarveOut: true } });
    const np = networkPolicy({ egress: [{ to: internal, ports: [{ protocol: 'UDP', port: 2380 }, { protocol: 'TCP', port: 2379 }, { port: 443 }] }] });
    const result = run(np, [etcd]);
    expect(egressOf(result.object)[0].ports).toEqual([{ port: 443 }]);
    expect(result.changes).toEqual(['spec.egress[0]: carved sensitive node ports 2379-2380/TCP, 2379-2380/UDP out of its ports']);
    expect(exposures(result.object, [etcd])).toEqual([]);
    expect(run(result.object, [etcd]).changes).toEqual([]);
  });

  it('carves only the sensitive ports of the policies that switched it on', () => {
    const other = policy({ sensitivePorts: [{ name: 'etcd', ports: '2379-2380' }] }, 'etcd-watch');
    const np = networkPolicy({ egress: [{ to: internal, ports: [{ port: 2379 }, { port: 10250 }] }] });
    const result = run(np, [carve, other]);
    expect(egressOf(result.object)[0].ports).toEqual([{ port: 2379 }]);
    expect(exposures(result.object, [carve])).toEqual([]);
    expect(exposures(result.object, [other]).map((f) => f.value)).toEqual([2379]);
  });

  // The property: for random port lists, the rewritten rule lets through exactly what it
  // did before minus the sensitive ports, no finding is left, and a second call is a no-op.
  describe('properties', () => {
    const port = fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 10245, max: 10260 }), fc.constantFrom(10250, 10255));
    const entry = portEntry(port);
    const onlySensitive = fc.subarray<PolicyPort>([{ port: 10250 }, { protocol: 'TCP', port: 10255 }, { port: 10250, endPort: 10250 }], { minLength: 1 });
    const rule = fc.record({ ports: fc.oneof(fc.option(fc.array(entry, { maxLength: 5 }), { nil: undefined }), onlySensitive) });
    const SENSITIVE = (p: Protocol, n: number) => p === 'TCP' && (n === 10250 || n === 10255);

    it('allowed after = allowed before minus the sensitive ports, with nothing left to find', () => {
      fc.assert(
        fc.property(fc.array(rule, { minLength: 1, maxLength: 3 }), (rules) => {
          // Every rule goes to the node addresses, so every sensitive port it allows is a finding.
          // Each carries an id so that what is left can be matched after removals.
          const np = networkPolicy({ egress: rules.map((r, id) => ({ 'x-id': id, to: nodes, ...r })) });
          const result = run(np, [carveKnownNodes]);
          expect(exposures(result.object, [carveKnownNodes])).toEqual([]);
          const after = egressOf(result.object) as { 'x-id': number; ports?: PolicyPort[] }[];
          rules.forEach((r, id) => {
            const kept = after.find((k) => k['x-id'] === id);
            const wrong = (['TCP', 'UDP', 'SCTP'] as Protocol[]).flatMap((p) =>
              probes(r.ports, kept?.ports)
                .filter((n) => (kept ? allows(kept.ports, p, n) : false) !== (allows(r.ports, p, n) && !SENSITIVE(p, n)))
                .map((n) => `rule ${id}: ${n}/${p}`),
            );
            expect(wrong).toEqual([]);
          });
          // Removing rules never lets egress fall out of effect.
          const spec = result.object.spec as { policyTypes?: string[]; egress: unknown[] };
          expect(spec.egress.length > 0 || (spec.policyTypes ?? []).includes('Egress')).toBe(true);
          const again = run(result.object, [carveKnownNodes]);
          expect(again.changes).toEqual([]);
          expect(again.object).toEqual(result.object);
        }),
        { numRuns: 200 },
      );
    });
  });
});

describe('remediate: node ports', () => {
  const spec: PortPolicySpec = {
    tenants: [
      { name: 'team-a', namespaces: ['team-a'], nodePortRange: '31000-31099' },
      { name: 'team-c', namespaceSelector: { matchLabels: { tenant: 'c' } }, nodePortRange: '31100-31199' },
    ],
  };
  const both = policy({ ...spec, remediation: { dropOutOfRangeNodePort: true, nodePortAllocation: true } });

  it('drops an out-of-range nodePort, then fills it from the tenant slice', () => {
    const svc = service({ type: 'NodePort', ports: [{ port: 80, nodePort: 8080 }] });
    const result = run(svc, [both], { allocator: new LowestFreeAllocator() });
    expect((result.object.spec as { ports: unknown[] }).ports).toEqual([{ port: 80, nodePort: 31000 }]);
    expect(result.changes).toEqual([
      'spec.ports[0].nodePort 8080 is outside the NodePort range 30000-32767: removed, so one is allocated',
      "spec.ports[0].nodePort: allocated 31000 from tenant team-a's slice 31000-31099",
    ]);
    const findings = evaluate({ object: result.object, namespace: 'team-a', source: null }, [both], NO_CLUSTER_FACTS).findings;
    expect(findings).toEqual([]);
  });

  it('drops only, when allocation is off: the API server then picks from the whole range', () => {
    const dropOnly = policy({ ...spec, remediation: { dropOutOfRangeNodePort: true } });
    const svc = service({ type: 'NodePort', ports: [{ port: 80, nodePort: 8080 }] });
    const result = run(svc, [dropOnly], { allocator: new LowestFreeAllocator() });
    expect((result.object.spec as { ports: unknown[] }).ports).toEqual([{ port: 80 }]);
  });

  it('finds a label-selected tenant through the cluster facts', () => {
    const svc = service({ type: 'NodePort', ports: [{ port: 80 }] }, 'web', 'shop');
    const cluster: ClusterFacts = { namespaceLabels: (ns) => (ns === 'shop' ? { tenant: 'c' } : undefined), nodeAddresses: [] };
    const result = run(svc, [both], { allocator: new LowestFreeAllocator(), cluster });
    expect((result.object.spec as { ports: unknown[] }).ports).toEqual([{ port: 80, nodePort: 31100 }]);
  });

  it('keeps the old ports on UPDATE and is idempotent', () => {
    const oldObject = service({ type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 31042 }] });
    const svc = service({
      type: 'NodePort',
      ports: [
        { name: 'http', port: 80 },
        { name: 'admin', port: 9000 },
      ],
    });
    const allocator = new LowestFreeAllocator(new Set([31042]));
    const first = run(svc, [both], { oldObject, allocator });
    expect((first.object.spec as { ports: unknown[] }).ports).toEqual([
      { name: 'http', port: 80, nodePort: 31042 },
      { name: 'admin', port: 9000, nodePort: 31000 },
    ]);
    const second = run(first.object, [both], { oldObject, allocator });
    expect(fastJsonPatch.compare(first.object, second.object)).toEqual([]);
    expect(second.changes).toEqual([]);
  });

  it('denies when the slice is full, saying which slice', () => {
    const inUse = new Set(Array.from({ length: 100 }, (_, i) => 31000 + i));
    const result = run(service({ type: 'LoadBalancer', ports: [{ port: 443 }] }), [both], { allocator: new LowestFreeAllocator(inUse) });
    expect(result.denial).toMatch(/tenant team-a's NodePort slice 31000-31099 is full/);
  });

  it("with the webhook's real allocator: random ports of the slice, never one twice, none reserved for dryRun", () => {
    const inUse = new Set([31003, 31050]);
    const reservations = new NodePortReservations(() => inUse);
    const held: number[] = [];
    for (let i = 0; i < 10; i++) {
      const svc = service({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }, { port: 443, nodePort: 31077 }] }, `web-${i}`);
      const result = run(svc, [both], { allocator: reservations.forRequest({ dryRun: false }) });
      const spec = result.object.spec as { ports: { nodePort: number }[]; healthCheckNodePort: number };
      held.push(spec.ports[0].nodePort, spec.healthCheckNodePort);
    }
    expect(new Set(held).size).toBe(held.length);
    for (const p of held) {
      expect(p).toBeGreaterThanOrEqual(31000);
      expect(p).toBeLessThanOrEqual(31099);
      expect([31003, 31050, 31077]).not.toContain(p);
    }
    const before = reservations.size;
    run(service({ type: 'NodePort', ports: [{ port: 80 }] }), [both], { allocator: reservations.forRequest({ dryRun: true }) });
    expect(reservations.size).toBe(before);
  });

  it('needs the policy switch: with remediation off nothing is allocated', () => {
    const off = policy(spec);
    const svc = service({ type: 'NodePort', ports: [{ port: 80 }] });
    expect(run(svc, [off], { allocator: new LowestFreeAllocator() })).toEqual({ object: svc, changes: [], skipped: [], denial: null });
  });
});
