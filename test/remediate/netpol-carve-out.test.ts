import fc from 'fast-check';
import type { Protocol } from '../../src/engine/policy/model.js';
import {
  carveNetworkPolicy,
  carvePorts,
  cutsFromFindings,
  netpolCarveOut,
  subtract,
  type Cut,
  type PolicyPort,
} from '../../src/engine/remediate/netpol-carve-out.js';
import type { RemediationContext } from '../../src/engine/remediate/types.js';
import type { Finding, KubeObject } from '../../src/engine/types.js';
import { networkPolicy, policy } from './fixtures.js';

const KUBELET: Cut[] = [
  { protocol: 'TCP', range: { lo: 10250, hi: 10250 } },
  { protocol: 'TCP', range: { lo: 10255, hi: 10255 } },
];
const TCP_ALL_BUT_KUBELET: PolicyPort[] = [
  { protocol: 'TCP', port: 1, endPort: 10249 },
  { protocol: 'TCP', port: 10251, endPort: 10254 },
  { protocol: 'TCP', port: 10256, endPort: 65535 },
];

describe('carvePorts', () => {
  it.each<{ name: string; ports: PolicyPort[] | undefined; want: PolicyPort[] | null }>([
    {
      name: 'an endPort range spanning 10250 and 10255 splits around both',
      ports: [{ protocol: 'TCP', port: 10000, endPort: 10300 }],
      want: [
        { protocol: 'TCP', port: 10000, endPort: 10249 },
        { protocol: 'TCP', port: 10251, endPort: 10254 },
        { protocol: 'TCP', port: 10256, endPort: 10300 },
      ],
    },
    {
      name: 'a range ending on 10250 loses its last port',
      ports: [{ protocol: 'TCP', port: 10200, endPort: 10250 }],
      want: [{ protocol: 'TCP', port: 10200, endPort: 10249 }],
    },
    {
      name: 'a range starting on 10250 keeps single ports without endPort',
      ports: [{ protocol: 'TCP', port: 10250, endPort: 10251 }],
      want: [{ protocol: 'TCP', port: 10251 }],
    },
    {
      name: 'a range of 10249-10256 leaves three pieces, two of them single ports',
      ports: [{ port: 10249, endPort: 10256 }],
      want: [{ port: 10249 }, { port: 10251, endPort: 10254 }, { port: 10256 }],
    },
    {
      name: 'the sensitive port itself is dropped, other entries stay as they were',
      ports: [{ protocol: 'TCP', port: 443 }, { protocol: 'TCP', port: 10250 }, { port: 'metrics' }],
      want: [{ protocol: 'TCP', port: 443 }, { port: 'metrics' }],
    },
    { name: 'only sensitive ports: nothing left', ports: [{ port: 10250 }, { protocol: 'TCP', port: 10255 }], want: [] },
    {
      name: 'no ports: explicit ranges for TCP, every other protocol in full',
      ports: undefined,
      want: [...TCP_ALL_BUT_KUBELET, { protocol: 'UDP' }, { protocol: 'SCTP' }],
    },
    { name: 'an empty ports list is the same as none', ports: [], want: [...TCP_ALL_BUT_KUBELET, { protocol: 'UDP' }, { protocol: 'SCTP' }] },
    {
      name: 'an entry without port becomes explicit ranges of its protocol',
      ports: [{ protocol: 'TCP' }, { protocol: 'UDP', port: 53 }],
      want: [...TCP_ALL_BUT_KUBELET, { protocol: 'UDP', port: 53 }],
    },
    { name: 'an entry without protocol or port is all TCP', ports: [{}], want: TCP_ALL_BUT_KUBELET.map(({ protocol: _, ...rest }) => rest) },
    { name: 'UDP-only ports are untouched', ports: [{ protocol: 'UDP', port: 10250 }, { protocol: 'UDP' }], want: null },
    {
      name: 'an unknown protocol reads as TCP, as the engine reads it',
      ports: [{ protocol: 'tcp', port: 10250, endPort: 10251 }],
      want: [{ protocol: 'tcp', port: 10251 }],
    },
    { name: 'SCTP ranges over 10250 are untouched', ports: [{ protocol: 'SCTP', port: 10000, endPort: 11000 }], want: null },
    { name: 'named ports are untouched', ports: [{ protocol: 'TCP', port: 'kubelet' }], want: null },
    { name: 'ports that miss the sensitive ones are untouched', ports: [{ port: 443 }, { port: 10251, endPort: 10254 }], want: null },
  ])('$name', ({ ports, want }) => {
    const before = structuredClone(ports);
    expect(carvePorts(ports, KUBELET)).toEqual(want);
    expect(ports).toEqual(before);
  });

  it('carves every protocol of a cut, not only TCP', () => {
    expect(carvePorts([{ protocol: 'UDP', port: 8000, endPort: 9000 }], [{ protocol: 'UDP', range: { lo: 8472, hi: 8472 } }])).toEqual([
      { protocol: 'UDP', port: 8000, endPort: 8471 },
      { protocol: 'UDP', port: 8473, endPort: 9000 },
    ]);
  });

  it('keeps fields it does not know on the carved entries', () => {
    expect(carvePorts([{ port: 10250, endPort: 10251, 'x-note': 'kept' }], KUBELET)).toEqual([{ port: 10251, 'x-note': 'kept' }]);
  });
});

// ---- The carve-out as a function over protocol x 1..65535 -------------------------------

/** What a ports list lets through, written from the API reference independently of the code under test. */
function allows(ports: readonly PolicyPort[] | undefined, protocol: Protocol, n: number): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((e) => {
    if ((e.protocol ?? 'TCP') !== protocol || typeof e.port === 'string') return false;
    if (e.port === undefined) return true;
    return n >= e.port && n <= (e.endPort ?? e.port);
  });
}
const cutAt = (cuts: readonly Cut[], protocol: Protocol, n: number) => cuts.some((c) => c.protocol === protocol && n >= c.range.lo && n <= c.range.hi);

/**
 * Both sides are unions of port intervals, so they agree everywhere when they agree at every
 * interval end and its neighbours: checking those points is exact, and fast.
 */
function criticalPoints(...lists: (readonly PolicyPort[] | undefined)[]): (cuts: readonly Cut[]) => number[] {
  return (cuts) => {
    const ends = [1, 65535];
    for (const list of lists) for (const e of list ?? []) if (typeof e.port === 'number') ends.push(e.port, e.endPort ?? e.port);
    for (const c of cuts) ends.push(c.range.lo, c.range.hi);
    return [...new Set(ends.flatMap((p) => [p - 1, p, p + 1]).filter((p) => p >= 1 && p <= 65535))];
  };
}

const PROTOCOLS: Protocol[] = ['TCP', 'UDP', 'SCTP'];
const portNumber = fc.integer({ min: 1, max: 65535 });
const nearKubelet = fc.integer({ min: 10240, max: 10265 });
const anyPort = fc.oneof(portNumber, nearKubelet, fc.constantFrom(10250, 10255));
const range = fc.tuple(anyPort, anyPort).map(([a, b]) => ({ lo: Math.min(a, b), hi: Math.max(a, b) }));
const protocol = fc.constantFrom<Protocol>(...PROTOCOLS);
const entry: fc.Arbitrary<PolicyPort> = fc.oneof(
  fc.record({ protocol: fc.option(protocol, { nil: undefined }), r: range, withEnd: fc.boolean() }).map(({ protocol: p, r, withEnd }) => {
    const e: PolicyPort = withEnd && r.hi > r.lo ? { port: r.lo, endPort: r.hi } : { port: r.lo };
    return p ? { protocol: p, ...e } : e;
  }),
  protocol.map((p) => ({ protocol: p })),
  fc.constantFrom<PolicyPort>({ port: 'http' }, { protocol: 'UDP', port: 'dns' }),
);
const portsList = fc.option(fc.array(entry, { maxLength: 6 }), { nil: undefined });
const cuts = fc.array(fc.record({ protocol, range }), { minLength: 1, maxLength: 4 });

describe('carvePorts properties', () => {
  it('allows exactly what was allowed before, minus the cut ports', () => {
    fc.assert(
      fc.property(portsList, cuts, (ports, cs) => {
        const after = carvePorts(ports, cs);
        const result = after ?? ports;
        for (const p of PROTOCOLS)
          for (const n of criticalPoints(ports, result ?? undefined)(cs)) {
            const want = allows(ports, p, n) && !cutAt(cs, p, n);
            // An empty result means "remove the rule": nothing is allowed.
            const got = after !== null && after.length === 0 ? false : allows(result, p, n);
            if (got !== want) return false;
          }
        return true;
      }),
      { numRuns: 500 },
    );
  });

  it('leaves named ports exactly as they were', () => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 6 }), cuts, (ports, cs) => {
        const named = (l: readonly PolicyPort[]) => l.filter((e) => typeof e.port === 'string');
        expect(named(carvePorts(ports, cs) ?? ports)).toEqual(named(ports));
      }),
    );
  });

  it('is idempotent: a carved list has nothing more to carve', () => {
    fc.assert(
      fc.property(portsList, cuts, (ports, cs) => {
        const after = carvePorts(ports, cs);
        if (after !== null && after.length > 0) expect(carvePorts(after, cs)).toBeNull();
      }),
    );
  });

  it('agrees with a brute-force check over every port for the no-ports rule', () => {
    const after = carvePorts(undefined, KUBELET)!;
    const wrong: string[] = [];
    for (const p of PROTOCOLS)
      for (let n = 1; n <= 65535; n++) if (allows(after, p, n) !== !(p === 'TCP' && (n === 10250 || n === 10255))) wrong.push(`${n}/${p}`);
    expect(wrong).toEqual([]);
  });

  it('subtract returns sorted disjoint pieces inside the range and outside every cut', () => {
    fc.assert(
      fc.property(range, fc.array(range, { maxLength: 5 }), (r, cs) => {
        const pieces = subtract(r, cs);
        pieces.forEach((p, i) => {
          expect(p.lo).toBeLessThanOrEqual(p.hi);
          expect(p.lo).toBeGreaterThanOrEqual(r.lo);
          expect(p.hi).toBeLessThanOrEqual(r.hi);
          if (i > 0) expect(p.lo).toBeGreaterThan(pieces[i - 1].hi);
          for (const c of cs) expect(p.hi < c.lo || p.lo > c.hi).toBe(true);
        });
      }),
    );
  });
});

// ---- Whole policies ---------------------------------------------------------------------

const everywhere = [{ ipBlock: { cidr: '0.0.0.0/0' } }];
const kubeletCuts = (...indexes: number[]) => new Map(indexes.map((i) => [i, KUBELET]));

describe('carveNetworkPolicy', () => {
  it.each<{ name: string; spec: Record<string, unknown>; cuts: Map<number, Cut[]>; want: Record<string, unknown>; changes: number }>([
    {
      name: 'multiple peers keep every peer; only the ports change',
      spec: {
        policyTypes: ['Egress'],
        egress: [
          {
            to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }, { ipBlock: { cidr: '192.168.0.0/16' } }, { namespaceSelector: {} }],
            ports: [
              { protocol: 'TCP', port: 10000, endPort: 10300 },
              { protocol: 'UDP', port: 53 },
            ],
          },
        ],
      },
      cuts: kubeletCuts(0),
      want: {
        policyTypes: ['Egress'],
        egress: [
          {
            to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }, { ipBlock: { cidr: '192.168.0.0/16' } }, { namespaceSelector: {} }],
            ports: [
              { protocol: 'TCP', port: 10000, endPort: 10249 },
              { protocol: 'TCP', port: 10251, endPort: 10254 },
              { protocol: 'TCP', port: 10256, endPort: 10300 },
              { protocol: 'UDP', port: 53 },
            ],
          },
        ],
      },
      changes: 1,
    },
    {
      name: 'emptying the last rule without policyTypes keeps Egress in effect explicitly',
      spec: { egress: [{ to: everywhere, ports: [{ port: 10250 }] }] },
      cuts: kubeletCuts(0),
      want: { egress: [], policyTypes: ['Ingress', 'Egress'] },
      changes: 2,
    },
    {
      name: 'emptying the last rule with explicit policyTypes leaves them alone',
      spec: { policyTypes: ['Egress'], egress: [{ to: everywhere, ports: [{ port: 10255 }, { port: 10250 }] }] },
      cuts: kubeletCuts(0),
      want: { policyTypes: ['Egress'], egress: [] },
      changes: 1,
    },
    {
      name: 'removing one rule of several leaves the others and policyTypes as they were',
      spec: {
        egress: [
          { to: everywhere, ports: [{ port: 10250 }] },
          { to: everywhere, ports: [{ port: 443 }] },
        ],
      },
      cuts: kubeletCuts(0),
      want: { egress: [{ to: everywhere, ports: [{ port: 443 }] }] },
      changes: 1,
    },
    {
      name: 'removing every other rule keeps the rest in their order',
      spec: {
        egress: [
          { to: everywhere, ports: [{ port: 10250 }] },
          { to: everywhere, ports: [{ port: 443 }] },
          { to: everywhere, ports: [{ port: 10255 }] },
          { to: everywhere, ports: [{ port: 80 }] },
          { to: everywhere, ports: [{ port: 10250 }, { port: 10255 }] },
        ],
      },
      cuts: kubeletCuts(0, 2, 4),
      want: {
        egress: [
          { to: everywhere, ports: [{ port: 443 }] },
          { to: everywhere, ports: [{ port: 80 }] },
        ],
      },
      changes: 3,
    },
    {
      name: 'a removed rule and a carved rule in one policy',
      spec: {
        egress: [{ to: everywhere, ports: [{ port: 443 }] }, { to: everywhere, ports: [{ port: 10250 }] }, { to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }],
      },
      cuts: kubeletCuts(1, 2),
      want: {
        egress: [
          { to: everywhere, ports: [{ port: 443 }] },
          { to: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [...TCP_ALL_BUT_KUBELET, { protocol: 'UDP' }, { protocol: 'SCTP' }] },
        ],
      },
      changes: 2,
    },
    {
      name: 'rules without cuts are not touched',
      spec: { egress: [{ to: everywhere, ports: [{ port: 10250 }] }] },
      cuts: new Map(),
      want: { egress: [{ to: everywhere, ports: [{ port: 10250 }] }] },
      changes: 0,
    },
  ])('$name', ({ spec, cuts: c, want, changes }) => {
    const np = networkPolicy(spec);
    const { changes: lines, uncarved } = carveNetworkPolicy(np, c);
    expect(np.spec).toEqual({ podSelector: {}, ...want });
    expect(uncarved).toEqual([]);
    expect(lines).toHaveLength(changes);
    for (const line of lines) expect(line.length).toBeLessThan(120);
  });

  it('names the rule and the ports in its change lines, in rule order', () => {
    const np = networkPolicy({ egress: [{ ports: [{ port: 10250 }] }, { ports: [{ port: 10000, endPort: 10300 }] }] });
    expect(carveNetworkPolicy(np, kubeletCuts(0, 1)).changes).toEqual([
      'spec.egress[0]: removed; it allowed only sensitive node ports 10250/TCP',
      'spec.egress[1]: carved sensitive node ports 10250/TCP, 10255/TCP out of its ports',
    ]);
  });

  it('lists the rules whose cuts overlapped none of their entries', () => {
    const np = networkPolicy({
      egress: [{ ports: [{ port: 'kubelet' }] }, { ports: [{ port: 10250 }, { port: 80 }] }, { ports: [{ protocol: 'UDP', port: 10250 }] }],
    });
    expect(carveNetworkPolicy(np, kubeletCuts(0, 1, 2, 9)).uncarved).toEqual([0, 2, 9]);
  });
});

// ---- From findings to cuts --------------------------------------------------------------

function finding(path: string, value: number, policyName = 'p'): Finding {
  return {
    rule: 'netpol-sensitive-exposure',
    status: 'fail',
    action: 'deny',
    policy: policyName,
    tenant: null,
    resource: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespace: 'team-a', name: 'np' },
    path,
    value,
    message: '',
    source: null,
    key: `${path}:${value}`,
  };
}

describe('cutsFromFindings', () => {
  const withRanges = policy(
    {
      sensitivePorts: [
        { name: 'kubelet-api', ports: '10250' },
        { name: 'etcd', ports: '2379-2380', protocol: 'TCP' },
        { name: 'anything-10255', ports: '10255', protocol: 'ANY' },
      ],
      remediation: { netpolCarveOut: true },
    },
    'p',
  );
  const np = networkPolicy({
    egress: [
      { ports: [{ port: 2379 }, { port: 10250 }] },
      {
        ports: [
          { protocol: 'UDP', port: 10255 },
          { protocol: 'TCP', port: 10255 },
        ],
      },
      {},
    ],
  });

  it.each<{ name: string; findings: Finding[]; want: [number, Cut[]][] }>([
    {
      name: 'a port maps to its catalog entry',
      findings: [finding('spec.egress[0]', 10250)],
      want: [[0, [{ protocol: 'TCP', range: { lo: 10250, hi: 10250 } }]]],
    },
    {
      name: 'a port of a sensitive range takes the whole range',
      findings: [finding('spec.egress[0]', 2379)],
      want: [[0, [{ protocol: 'TCP', range: { lo: 2379, hi: 2380 } }]]],
    },
    {
      name: 'an ANY entry is cut for every protocol',
      findings: [finding('spec.egress[1]', 10255)],
      want: [
        [
          1,
          [
            { protocol: 'TCP', range: { lo: 10255, hi: 10255 } },
            { protocol: 'UDP', range: { lo: 10255, hi: 10255 } },
            { protocol: 'SCTP', range: { lo: 10255, hi: 10255 } },
          ],
        ],
      ],
    },
    {
      name: 'two findings on one rule give two cuts, duplicates once',
      findings: [finding('spec.egress[0]', 10250), finding('spec.egress[0]', 2380), finding('spec.egress[0]', 2379)],
      want: [
        [
          0,
          [
            { protocol: 'TCP', range: { lo: 10250, hi: 10250 } },
            { protocol: 'TCP', range: { lo: 2379, hi: 2380 } },
          ],
        ],
      ],
    },
    { name: 'findings of a policy that did not switch the carve-out on are ignored', findings: [finding('spec.egress[0]', 10250, 'other')], want: [] },
    { name: 'a path that is not an egress rule is ignored', findings: [finding('spec.ingress[0]', 10250)], want: [] },
    { name: 'a rule index that does not exist is ignored', findings: [finding('spec.egress[7]', 10250)], want: [] },
  ])('$name', ({ findings, want }) => {
    expect([...cutsFromFindings(np, findings, [withRanges]).entries()]).toEqual(want);
  });
});

// ---- The remediation with injected findings ---------------------------------------------

function context(original: KubeObject, findings: Finding[]): RemediationContext {
  return {
    policies: [policy({ remediation: { netpolCarveOut: true } })],
    namespace: 'team-a',
    original,
    oldObject: null,
    allocator: null,
    findings: () => findings,
    evaluate: () => [],
    tenant: () => null,
  };
}

describe('netpolCarveOut', () => {
  it('rewrites the copy, never the original', () => {
    const original = networkPolicy({ egress: [{ ports: [{ port: 10250 }, { port: 443 }] }] });
    const before = structuredClone(original);
    const copy = structuredClone(original);
    const out = netpolCarveOut(copy, context(original, [finding('spec.egress[0]', 10250)]));
    expect(original).toEqual(before);
    expect((copy.spec as { egress: unknown }).egress).toEqual([{ ports: [{ port: 443 }] }]);
    expect(out).toEqual({ changes: ['spec.egress[0]: carved sensitive node ports 10250/TCP out of its ports'], skipped: [], denial: null });
  });

  it.each([
    { name: 'CiliumNetworkPolicy', kind: 'CiliumNetworkPolicy' },
    { name: 'CiliumClusterwideNetworkPolicy', kind: 'CiliumClusterwideNetworkPolicy' },
  ])('reports a $name rule and leaves it as it is', ({ kind }) => {
    const original: KubeObject = {
      apiVersion: 'cilium.io/v2',
      kind,
      metadata: { name: 'c' },
      spec: { endpointSelector: {}, egress: [{ toEntities: ['host'], toPorts: [{ ports: [{ port: '10250' }] }] }] },
    };
    const copy = structuredClone(original);
    const out = netpolCarveOut(copy, context(original, [finding('spec.egress[0]', 10250), finding('spec.egress[0]', 10255)]));
    expect(copy).toEqual(original);
    expect(out.changes).toEqual([]);
    expect(out.skipped).toEqual(['spec.egress[0]: exposes sensitive node ports; Cilium policies are reported, not rewritten']);
  });

  it('says so when a finding points at a rule it cannot carve', () => {
    const original = networkPolicy({ egress: [{ ports: [{ port: 'kubelet' }] }] });
    const out = netpolCarveOut(structuredClone(original), context(original, [finding('spec.egress[0]', 10250)]));
    expect(out.changes).toEqual([]);
    expect(out.skipped).toEqual(['spec.egress[0]: exposes a sensitive node port through no entry a carve-out can change']);
  });

  it('carves every rule a union finding names and reports what it cannot carve by its index as it arrived', () => {
    const original = networkPolicy({ egress: [{ ports: [{ port: 10250 }] }, { ports: [{ port: 'kubelet' }] }, { ports: [{ port: 10250 }, { port: 80 }] }] });
    const copy = structuredClone(original);
    const union = { ...finding('spec.egress[0]', 10250), relatedPaths: ['spec.egress[1]', 'spec.egress[2]'] };
    // Judged again after the carve, the rule that was spec.egress[1] is now spec.egress[0].
    const out = netpolCarveOut(copy, { ...context(original, [union]), evaluate: () => [finding('spec.egress[0]', 10250)] });
    expect((copy.spec as { egress: unknown }).egress).toEqual([{ ports: [{ port: 'kubelet' }] }, { ports: [{ port: 80 }] }]);
    expect(out).toEqual({
      changes: [
        'spec.egress[0]: removed; it allowed only sensitive node ports 10250/TCP',
        'spec.egress[2]: carved sensitive node ports 10250/TCP out of its ports',
      ],
      skipped: ['spec.egress[1]: exposes a sensitive node port through no entry a carve-out can change'],
      denial: null,
    });
  });

  it('stops after three carve-and-judge passes and names what is still found', () => {
    const original = networkPolicy({ egress: [0, 1, 2, 3].map((i) => ({ ports: [{ port: 10250 }, { port: 80 + i }] })) });
    let judged = 0;
    // An engine that finds one more rule each time it is asked: never settles.
    const evaluateAgain = () => [finding(`spec.egress[${++judged}]`, 10250)];
    const out = netpolCarveOut(structuredClone(original), { ...context(original, [finding('spec.egress[0]', 10250)]), evaluate: evaluateAgain });
    expect(judged).toBe(3);
    expect(out.changes).toHaveLength(3);
    expect(out.skipped).toEqual(['spec.egress[3]: still exposes a sensitive node port after 3 carve-outs']);
  });

  it('leaves other kinds alone', () => {
    const original: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: {} };
    expect(netpolCarveOut(structuredClone(original), context(original, [finding('spec.egress[0]', 10250)]))).toEqual({
      changes: [],
      skipped: [],
      denial: null,
    });
  });
});
