import { dropOutOfRangeNodePort } from '../../src/engine/remediate/drop-out-of-range-node-port.js';
import { nodePortAllocation } from '../../src/engine/remediate/node-port-allocation.js';
import type { NodePortAllocator, RemediationContext } from '../../src/engine/remediate/types.js';
import type { CompiledPolicy } from '../../src/engine/policy/model.js';
import type { KubeObject } from '../../src/engine/types.js';
import { LowestFreeAllocator, policy, service } from './fixtures.js';

const tenants = {
  tenants: [
    { name: 'team-a', namespaces: ['team-a'], nodePortRange: '31000-31099' },
    { name: 'team-b', namespaces: ['team-b'] },
  ],
};

/** Name-based tenancy, standing in for the engine's tenantOf. */
function context(policies: CompiledPolicy[], original: KubeObject, extra: Partial<RemediationContext> = {}): RemediationContext {
  const namespace = original.metadata.namespace ?? null;
  return {
    policies,
    namespace,
    original,
    oldObject: null,
    allocator: new LowestFreeAllocator(),
    findings: () => [],
    evaluate: () => [],
    tenant: (p) => (namespace === null ? null : (p.tenants.find((t) => t.matchesName(namespace)) ?? null)),
    ...extra,
  };
}

const specOf = (o: KubeObject) => o.spec as Record<string, unknown> & { ports: Record<string, unknown>[] };

describe('dropOutOfRangeNodePort', () => {
  const drop = policy({ remediation: { dropOutOfRangeNodePort: true } });
  it.each<{ name: string; spec: Record<string, unknown>; want: Record<string, unknown>; changes: string[] }>([
    {
      name: 'a nodePort below the range is removed, one in range kept',
      spec: {
        type: 'NodePort',
        ports: [
          { port: 80, nodePort: 8080 },
          { port: 443, nodePort: 30443 },
        ],
      },
      want: { type: 'NodePort', ports: [{ port: 80 }, { port: 443, nodePort: 30443 }] },
      changes: ['spec.ports[0].nodePort 8080 is outside the NodePort range 30000-32767: removed, so one is allocated'],
    },
    {
      name: 'a healthCheckNodePort above the range is removed',
      spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 40000, ports: [{ port: 80, nodePort: 32767 }] },
      want: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80, nodePort: 32767 }] },
      changes: ['spec.healthCheckNodePort 40000 is outside the NodePort range 30000-32767: removed, so one is allocated'],
    },
    {
      name: 'both ends of the range are in it',
      spec: {
        type: 'NodePort',
        ports: [
          { port: 80, nodePort: 30000 },
          { port: 81, nodePort: 32767 },
        ],
      },
      want: {
        type: 'NodePort',
        ports: [
          { port: 80, nodePort: 30000 },
          { port: 81, nodePort: 32767 },
        ],
      },
      changes: [],
    },
    {
      name: 'a ClusterIP Service is not this remediation’s business',
      spec: { type: 'ClusterIP', ports: [{ port: 80, nodePort: 8080 }] },
      want: { type: 'ClusterIP', ports: [{ port: 80, nodePort: 8080 }] },
      changes: [],
    },
    {
      name: 'nodePort 0 means unset and stays',
      spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 0 }] },
      want: { type: 'NodePort', ports: [{ port: 80, nodePort: 0 }] },
      changes: [],
    },
    {
      name: 'a malformed port list (a null entry) is left for the API server to reject',
      spec: { type: 'NodePort', ports: [null, { port: 80, nodePort: 8080 }] },
      want: { type: 'NodePort', ports: [null, { port: 80, nodePort: 8080 }] },
      changes: [],
    },
  ])('$name', ({ spec, want, changes }) => {
    const original = service(spec);
    const copy = structuredClone(original);
    const out = dropOutOfRangeNodePort(copy, context([drop], original));
    expect(copy.spec).toEqual({ selector: { app: 'web' }, ...want });
    expect(out).toEqual({ changes, skipped: [], denial: null });
    expect(original.spec).toEqual({ selector: { app: 'web' }, ...spec });
  });

  it('drops a port outside any switched-on policy’s range', () => {
    const narrow = policy({ nodePortRange: '31000-31999', remediation: { dropOutOfRangeNodePort: true } }, 'narrow');
    const copy = service({ type: 'NodePort', ports: [{ port: 80, nodePort: 30500 }] });
    const out = dropOutOfRangeNodePort(copy, context([drop, narrow], copy));
    expect(specOf(copy).ports).toEqual([{ port: 80 }]);
    expect(out.changes).toEqual(['spec.ports[0].nodePort 30500 is outside the NodePort range 31000-31999: removed, so one is allocated']);
  });
});

describe('nodePortAllocation', () => {
  const alloc = policy({ ...tenants, remediation: { nodePortAllocation: true } });

  it.each<{ name: string; spec: Record<string, unknown>; namespace?: string; inUse?: number[]; want: Record<string, unknown>; changes: string[] }>([
    {
      name: 'a NodePort Service gets ports of its tenant’s slice',
      spec: {
        type: 'NodePort',
        ports: [
          { name: 'http', port: 80 },
          { name: 'https', port: 443 },
        ],
      },
      inUse: [31000],
      want: {
        type: 'NodePort',
        ports: [
          { name: 'http', port: 80, nodePort: 31001 },
          { name: 'https', port: 443, nodePort: 31002 },
        ],
      },
      changes: [
        "spec.ports[0].nodePort: allocated 31001 from tenant team-a's slice 31000-31099",
        "spec.ports[1].nodePort: allocated 31002 from tenant team-a's slice 31000-31099",
      ],
    },
    {
      name: 'a port the Service names is left alone and never handed out twice',
      spec: {
        type: 'NodePort',
        ports: [
          { name: 'a', port: 80, nodePort: 31000 },
          { name: 'b', port: 81 },
        ],
      },
      want: {
        type: 'NodePort',
        ports: [
          { name: 'a', port: 80, nodePort: 31000 },
          { name: 'b', port: 81, nodePort: 31001 },
        ],
      },
      changes: ["spec.ports[1].nodePort: allocated 31001 from tenant team-a's slice 31000-31099"],
    },
    {
      name: 'a LoadBalancer allocates node ports by default',
      spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
      want: { type: 'LoadBalancer', ports: [{ port: 80, nodePort: 31000 }] },
      changes: ["spec.ports[0].nodePort: allocated 31000 from tenant team-a's slice 31000-31099"],
    },
    {
      name: 'a LoadBalancer with externalTrafficPolicy Local also gets its healthCheckNodePort',
      spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] },
      want: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 31001, ports: [{ port: 80, nodePort: 31000 }] },
      changes: [
        "spec.ports[0].nodePort: allocated 31000 from tenant team-a's slice 31000-31099",
        "spec.healthCheckNodePort: allocated 31001 from tenant team-a's slice 31000-31099",
      ],
    },
    {
      name: 'a LoadBalancer with allocateLoadBalancerNodePorts false gets no node ports',
      spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80 }] },
      want: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80 }] },
      changes: [],
    },
    {
      name: 'allocateLoadBalancerNodePorts false with Local still gets a health-check port, as the API server would give it',
      spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, externalTrafficPolicy: 'Local', ports: [{ port: 80 }] },
      want: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, externalTrafficPolicy: 'Local', healthCheckNodePort: 31000, ports: [{ port: 80 }] },
      changes: ["spec.healthCheckNodePort: allocated 31000 from tenant team-a's slice 31000-31099"],
    },
    {
      name: 'the TCP and UDP ports of one number share a node port, as the API server allocates them',
      spec: {
        type: 'NodePort',
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        ],
      },
      want: {
        type: 'NodePort',
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', nodePort: 31000 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', nodePort: 31000 },
        ],
      },
      changes: [
        "spec.ports[0].nodePort: allocated 31000 from tenant team-a's slice 31000-31099",
        "spec.ports[1].nodePort: allocated 31000 from tenant team-a's slice 31000-31099",
      ],
    },
    {
      name: 'a port with nodePort 0 counts as omitted',
      spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 0 }] },
      want: { type: 'NodePort', ports: [{ port: 80, nodePort: 31000 }] },
      changes: ["spec.ports[0].nodePort: allocated 31000 from tenant team-a's slice 31000-31099"],
    },
    {
      name: 'a tenant without a slice is left to the API server',
      namespace: 'team-b',
      spec: { type: 'NodePort', ports: [{ port: 80 }] },
      want: { type: 'NodePort', ports: [{ port: 80 }] },
      changes: [],
    },
    {
      name: 'a namespace in no tenant is left to the API server',
      namespace: 'shared',
      spec: { type: 'NodePort', ports: [{ port: 80 }] },
      want: { type: 'NodePort', ports: [{ port: 80 }] },
      changes: [],
    },
    {
      name: 'a ClusterIP Service takes no node ports',
      spec: { type: 'ClusterIP', ports: [{ port: 80 }] },
      want: { type: 'ClusterIP', ports: [{ port: 80 }] },
      changes: [],
    },
  ])('$name', ({ spec, namespace = 'team-a', inUse = [], want, changes }) => {
    const original = service(spec, 'web', namespace);
    const copy = structuredClone(original);
    const out = nodePortAllocation(copy, context([alloc], original, { allocator: new LowestFreeAllocator(new Set(inUse)) }));
    expect(copy.spec).toEqual({ selector: { app: 'web' }, ...want });
    expect(out).toEqual({ changes, skipped: [], denial: null });
    expect(original.spec).toEqual({ selector: { app: 'web' }, ...spec });
  });

  it('tells the allocator which ports the request already names', () => {
    const allocator = new LowestFreeAllocator();
    const copy = service({
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 31050,
      ports: [{ port: 80, nodePort: 31007 }, { port: 81 }],
    });
    nodePortAllocation(copy, context([alloc], copy, { allocator }));
    expect(allocator.calls).toEqual([{ slice: { lo: 31000, hi: 31099 }, count: 1, exclude: [31007, 31050] }]);
  });

  it('keeps a health-check port off the node ports the Service names, even when it allocates none itself', () => {
    const allocator = new LowestFreeAllocator();
    const copy = service({
      type: 'LoadBalancer',
      allocateLoadBalancerNodePorts: false,
      externalTrafficPolicy: 'Local',
      ports: [{ port: 80, nodePort: 31000 }],
    });
    nodePortAllocation(copy, context([alloc], copy, { allocator }));
    expect(specOf(copy).healthCheckNodePort).toBe(31001);
    expect(allocator.calls.map((c) => c.exclude)).toEqual([[31000]]);
  });

  it('does nothing without an allocator', () => {
    const copy = service({ type: 'NodePort', ports: [{ port: 80 }] });
    const before = structuredClone(copy);
    expect(nodePortAllocation(copy, context([alloc], copy, { allocator: null }))).toEqual({ changes: [], skipped: [], denial: null });
    expect(copy).toEqual(before);
  });

  describe('on UPDATE', () => {
    it.each<{ name: string; old: Record<string, unknown>; spec: Record<string, unknown>; want: Record<string, unknown>; changes: string[] }>([
      {
        name: 'ports keep their node ports by name, even when reordered',
        old: {
          type: 'NodePort',
          ports: [
            { name: 'http', port: 80, nodePort: 31010 },
            { name: 'https', port: 443, nodePort: 31011 },
          ],
        },
        spec: {
          type: 'NodePort',
          ports: [
            { name: 'https', port: 8443 },
            { name: 'http', port: 80 },
          ],
        },
        want: {
          type: 'NodePort',
          ports: [
            { name: 'https', port: 8443, nodePort: 31011 },
            { name: 'http', port: 80, nodePort: 31010 },
          ],
        },
        changes: ['spec.ports[0].nodePort: kept 31011 from the existing Service', 'spec.ports[1].nodePort: kept 31010 from the existing Service'],
      },
      {
        name: 'unnamed ports keep theirs by port and protocol; a new port gets a fresh one',
        old: { type: 'NodePort', ports: [{ port: 80, nodePort: 31010 }] },
        spec: { type: 'NodePort', ports: [{ port: 80, protocol: 'TCP' }, { port: 80, protocol: 'UDP' }, { port: 81 }] },
        want: {
          type: 'NodePort',
          ports: [
            { port: 80, protocol: 'TCP', nodePort: 31010 },
            { port: 80, protocol: 'UDP', nodePort: 31010 },
            { port: 81, nodePort: 31000 },
          ],
        },
        changes: [
          'spec.ports[0].nodePort: kept 31010 from the existing Service',
          'spec.ports[1].nodePort: set to 31010, shared with the other protocol of port 80',
          "spec.ports[2].nodePort: allocated 31000 from tenant team-a's slice 31000-31099",
        ],
      },
      {
        name: 'the healthCheckNodePort is kept too',
        old: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 31020, ports: [{ port: 80, nodePort: 31010 }] },
        spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] },
        want: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 31020, ports: [{ port: 80, nodePort: 31010 }] },
        changes: ['spec.ports[0].nodePort: kept 31010 from the existing Service', 'spec.healthCheckNodePort: kept 31020 from the existing Service'],
      },
      {
        name: 'a port the new object names explicitly wins over the old one',
        old: { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 31010 }] },
        spec: { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 31050 }] },
        want: { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 31050 }] },
        changes: [],
      },
      {
        name: 'a ClusterIP Service turned NodePort gets fresh ports',
        old: { type: 'ClusterIP', ports: [{ port: 80 }] },
        spec: { type: 'NodePort', ports: [{ port: 80 }] },
        want: { type: 'NodePort', ports: [{ port: 80, nodePort: 31000 }] },
        changes: ["spec.ports[0].nodePort: allocated 31000 from tenant team-a's slice 31000-31099"],
      },
    ])('$name', ({ old, spec, want, changes }) => {
      const oldObject = service(old);
      const original = service(spec);
      const copy = structuredClone(original);
      // The old Service's ports are in use in the cluster, as the cache would say.
      const held = (old.ports as { nodePort?: number }[]).map((p) => p.nodePort).filter((p): p is number => p !== undefined);
      const out = nodePortAllocation(copy, context([alloc], original, { oldObject, allocator: new LowestFreeAllocator(new Set(held)) }));
      expect(copy.spec).toEqual({ selector: { app: 'web' }, ...want });
      expect(out.changes).toEqual(changes);
      expect(oldObject.spec).toEqual({ selector: { app: 'web' }, ...old });
    });
  });

  describe('a full slice', () => {
    const small = policy({ tenants: [{ name: 'team-a', namespaces: ['team-a'], nodePortRange: '31000-31001' }], remediation: { nodePortAllocation: true } });
    it.each([
      { name: 'every port taken', inUse: [31000, 31001], spec: { type: 'NodePort', ports: [{ port: 80 }] } },
      { name: 'fewer free ports than the Service needs', inUse: [31000], spec: { type: 'NodePort', ports: [{ port: 80 }, { port: 81 }] } },
      { name: 'no room left for the health-check port', inUse: [31000], spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] } },
    ])('denies with a message naming the slice: $name', ({ inUse, spec }) => {
      const copy = service(spec);
      const out = nodePortAllocation(copy, context([small], copy, { allocator: new LowestFreeAllocator(new Set(inUse)) }));
      expect(out.denial).toMatch(/^tenant team-a's NodePort slice 31000-31001 is full: .*Service team-a\/web/);
      expect(specOf(copy).ports.every((p) => p.nodePort === undefined)).toBe(true);
    });
  });

  it('asks again when the allocator hands out a port the request already names', () => {
    let calls = 0;
    const careless: NodePortAllocator = { allocate: (_s, count) => (++calls === 1 ? [31000] : Array.from({ length: count }, (_, i) => 31001 + i)) };
    const copy = service({ type: 'NodePort', ports: [{ port: 80, nodePort: 31000 }, { port: 81 }] });
    nodePortAllocation(copy, context([alloc], copy, { allocator: careless }));
    expect(specOf(copy).ports[1].nodePort).toBe(31001);
    expect(calls).toBe(2);
  });

  it('treats an allocator that keeps breaking its contract as a programmer error', () => {
    const broken: NodePortAllocator = { allocate: () => [40000] };
    const copy = service({ type: 'NodePort', ports: [{ port: 80 }] });
    expect(() => nodePortAllocation(copy, context([alloc], copy, { allocator: broken }))).toThrow(/unusable ports for slice 31000-31099/);
  });
});
