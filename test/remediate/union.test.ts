// The carve-out on blocks that reach the nodes only together (the engine's union finding):
// remediate() with the real engine, as /mutate runs it. What must hold after one pass:
// evaluating the result finds nothing the remediation claims to have fixed (whatever is
// left is named in its skipped lines), and no rule lets through a port it did not before.
import fc from 'fast-check';
import { evaluate } from '../../src/engine/evaluate.js';
import type { CompiledPolicy } from '../../src/engine/policy/model.js';
import { remediate, type RemediationResult } from '../../src/engine/remediate.js';
import type { PolicyPort } from '../../src/engine/remediate/netpol-carve-out.js';
import { NO_CLUSTER_FACTS, type ClusterFacts, type Finding, type KubeObject } from '../../src/engine/types.js';
import { networkPolicy, policy } from './fixtures.js';
import { PROTOCOLS, allows, portEntry as makePortEntry, probes } from './port-model.js';

type Obj = Record<string, unknown>;

function run(object: KubeObject, policies: CompiledPolicy[], cluster: ClusterFacts = NO_CLUSTER_FACTS): RemediationResult {
  return remediate({ object, namespace: object.metadata.namespace ?? null, oldObject: null, policies, cluster, allocator: null });
}

const exposures = (object: KubeObject, policies: CompiledPolicy[], cluster: ClusterFacts = NO_CLUSTER_FACTS): Finding[] =>
  evaluate({ object, namespace: object.metadata.namespace ?? null, source: null }, policies, cluster).findings.filter(
    (f) => f.rule === 'netpol-sensitive-exposure',
  );

const pathsOf = (f: Finding) => [f.path, ...(f.relatedPaths ?? [])];

/** Findings left after the pass on rules the remediation did not name as left alone: what it claimed and did not do. */
function claimedButLeft(result: RemediationResult, policies: CompiledPolicy[], cluster: ClusterFacts = NO_CLUSTER_FACTS): string[] {
  const named = new Set(result.skipped.map((line) => line.slice(0, line.indexOf(':'))));
  return exposures(result.object, policies, cluster)
    .filter((f) => pathsOf(f).some((p) => !named.has(p)))
    .map((f) => `${f.key} at ${pathsOf(f).join(', ')}`);
}

interface Rule {
  'x-id'?: number;
  to?: Obj[];
  ports?: PolicyPort[];
}
const specOf = (o: KubeObject) => o.spec as { policyTypes?: string[]; egress?: Rule[] };
const egressInEffect = (o: KubeObject) => {
  const s = specOf(o);
  return s.policyTypes && s.policyTypes.length > 0 ? s.policyTypes.includes('Egress') : (s.egress ?? []).length > 0;
};

/** What a rule left by the carve lets through that its original (same `x-id`) did not. */
function gained(r: Rule, was: Rule | undefined): string[] {
  if (!was) return [`a rule that was not there: ${JSON.stringify(r)}`];
  const { ports: _ports, ...rest } = r;
  const { ports: _was, ...wasRest } = was;
  const wrong = JSON.stringify(rest) === JSON.stringify(wasRest) ? [] : [`rule ${r['x-id']}: more than its ports changed`];
  for (const p of PROTOCOLS)
    for (const n of probes(r.ports, was.ports)) if (allows(r.ports, p, n) && !allows(was.ports, p, n)) wrong.push(`rule ${r['x-id']}: ${n}/${p}`);
  return wrong;
}

/**
 * What the carved policy lets through that the original did not. Peers are never changed, so
 * it is enough that each rule left has the same peers and no port its original lacked, and
 * that Egress stays in effect: then no destination gains a port.
 */
function opened(before: KubeObject, after: KubeObject): string[] {
  const wrong: string[] = [];
  if (egressInEffect(before) && !egressInEffect(after)) wrong.push('Egress fell out of effect');
  const original = new Map((specOf(before).egress ?? []).map((r) => [r['x-id'], r]));
  for (const r of specOf(after).egress ?? []) for (const w of gained(r, original.get(r['x-id']))) wrong.push(w);
  return wrong;
}

// ---- Table -------------------------------------------------------------------------------

const carve = policy({ remediation: { netpolCarveOut: true } });
const threeNodes = policy({ nodeCIDRs: ['10.0.0.11/32', '10.0.0.12/32', '10.0.0.13/32'], remediation: { netpolCarveOut: true } });
const block = (cidr: string) => ({ ipBlock: { cidr } });
const kubelet = { protocol: 'TCP', port: 10250 };
const https = { protocol: 'TCP', port: 443 };
// Four /17s of 10.0.0.0/15: any two of them add up to a /16, so each rule must lose the port.
const QUARTERS = ['10.0.0.0/17', '10.0.128.0/17', '10.1.0.0/17', '10.1.128.0/17'];
const withIds = (egress: Obj[]) => egress.map((r, id) => ({ 'x-id': id, ...r }));

describe('carve-out of blocks that reach the nodes together: NetworkPolicy', () => {
  it.each<{ name: string; policy: CompiledPolicy; egress: Obj[]; want: Obj[]; changes: string[] }>([
    {
      name: 'two /17s in one rule',
      policy: carve,
      egress: [{ to: [block('10.0.0.0/17'), block('10.0.128.0/17')], ports: [kubelet, https] }],
      want: [{ to: [block('10.0.0.0/17'), block('10.0.128.0/17')], ports: [https] }],
      changes: ['spec.egress[0]: carved sensitive node ports 10250/TCP out of its ports'],
    },
    {
      name: 'one /32 per node, known node addresses, one rule each',
      policy: threeNodes,
      egress: [
        { to: [block('10.0.0.11/32')], ports: [kubelet, https] },
        { to: [block('10.0.0.12/32')], ports: [kubelet] },
        { to: [block('10.0.0.13/32')], ports: [{ protocol: 'TCP', port: 10000, endPort: 10300 }] },
      ],
      want: [
        { to: [block('10.0.0.11/32')], ports: [https] },
        {
          to: [block('10.0.0.13/32')],
          // 10255 only this rule opens, to one node of three: no finding, nothing cut.
          ports: [
            { protocol: 'TCP', port: 10000, endPort: 10249 },
            { protocol: 'TCP', port: 10251, endPort: 10300 },
          ],
        },
      ],
      changes: [
        'spec.egress[0]: carved sensitive node ports 10250/TCP out of its ports',
        'spec.egress[1]: removed; it allowed only sensitive node ports 10250/TCP',
        'spec.egress[2]: carved sensitive node ports 10250/TCP out of its ports',
      ],
    },
    {
      name: 'halves of a /16 in two rules',
      policy: carve,
      egress: [
        { to: [block('10.0.0.0/17')], ports: [kubelet, https] },
        { to: [block('10.0.128.0/17')], ports: [kubelet] },
      ],
      want: [{ to: [block('10.0.0.0/17')], ports: [https] }],
      changes: [
        'spec.egress[0]: carved sensitive node ports 10250/TCP out of its ports',
        'spec.egress[1]: removed; it allowed only sensitive node ports 10250/TCP',
      ],
    },
    {
      // The broad rule is a finding alone, which keeps the halves from being judged together
      // until it is carved: the second pass finds them, with indexes after the removal.
      name: 'halves of a /16 behind a broad rule that is a finding alone',
      policy: carve,
      egress: [
        { to: [block('10.0.0.0/8')], ports: [kubelet] },
        { to: [block('10.1.0.0/17')], ports: [kubelet, https] },
        { to: [block('10.1.128.0/17')], ports: [kubelet] },
      ],
      want: [{ to: [block('10.1.0.0/17')], ports: [https] }],
      changes: [
        'spec.egress[0]: removed; it allowed only sensitive node ports 10250/TCP',
        'spec.egress[1]: carved sensitive node ports 10250/TCP out of its ports',
        'spec.egress[2]: removed; it allowed only sensitive node ports 10250/TCP',
      ],
    },
    {
      name: 'blocks of many rules, each with other ports, some outside the private ranges',
      policy: carve,
      egress: [{ to: [block('8.8.8.0/24')], ports: [kubelet] }, ...QUARTERS.map((c) => ({ to: [block(c)], ports: [kubelet, https] }))],
      want: [{ to: [block('8.8.8.0/24')], ports: [kubelet] }, ...QUARTERS.map((c) => ({ to: [block(c)], ports: [https] }))],
      changes: [1, 2, 3, 4].map((i) => `spec.egress[${i}]: carved sensitive node ports 10250/TCP out of its ports`),
    },
  ])('$name', ({ policy: p, egress, want, changes }) => {
    const np = networkPolicy({ policyTypes: ['Egress'], egress: withIds(egress) });
    expect(exposures(np, [p]).length).toBeGreaterThan(0);
    const result = run(np, [p]);
    expect(specOf(result.object).egress!.map(({ 'x-id': _, ...r }) => r)).toEqual(want);
    expect(result.changes).toEqual(changes);
    expect(result.skipped).toEqual([]);
    expect(claimedButLeft(result, [p])).toEqual([]);
    expect(opened(np, result.object)).toEqual([]);
    expect(run(result.object, [p]).changes).toEqual([]);
  });

  it('the union finding names every rule that adds to it, the first as its path', () => {
    const np = networkPolicy({
      egress: [
        { to: [block('10.0.0.0/17')], ports: [kubelet] },
        { to: [block('8.8.8.0/24')], ports: [kubelet] },
        { to: [block('10.0.128.0/18')], ports: [kubelet] },
        { to: [block('10.0.192.0/18')], ports: [kubelet] },
      ],
    });
    const [f] = exposures(np, [carve]);
    expect({ key: f.key, path: f.path, relatedPaths: f.relatedPaths }).toEqual({
      key: 'netpol-sensitive-exposure|egress|union|kubelet-api',
      path: 'spec.egress[0]',
      relatedPaths: ['spec.egress[2]', 'spec.egress[3]'],
    });
  });
});

// Kinds whose rules are ordered or carry actions stay reported, not rewritten: every rule that
// adds to the union is named, and nothing about the object changes.
describe('carve-out of blocks that reach the nodes together: reported kinds', () => {
  const kubeletAnp = [{ portNumber: { protocol: 'TCP', port: 10250 } }];
  const cilium = [{ ports: [{ port: '10250', protocol: 'TCP' }] }];
  it.each<{ name: string; object: KubeObject; skipped: string[] }>([
    {
      name: 'an AdminNetworkPolicy with an earlier Deny that takes out part of the blocks',
      object: {
        apiVersion: 'policy.networking.k8s.io/v1alpha1',
        kind: 'AdminNetworkPolicy',
        metadata: { name: 'cluster-egress' },
        spec: {
          priority: 10,
          subject: { namespaces: {} },
          egress: [
            { action: 'Deny', to: [{ networks: ['10.0.0.0/24'] }], ports: kubeletAnp },
            { action: 'Allow', to: [{ networks: ['10.0.0.0/17'] }], ports: kubeletAnp },
            { action: 'Allow', to: [{ networks: ['10.0.128.0/17'] }], ports: kubeletAnp },
            { action: 'Allow', to: [{ networks: ['10.1.0.0/17'] }], ports: kubeletAnp },
          ],
        },
      },
      skipped: ['spec.egress[1]', 'spec.egress[2]', 'spec.egress[3]'].map(
        (p) => `${p}: exposes sensitive node ports; AdminNetworkPolicy objects are reported, not rewritten`,
      ),
    },
    {
      name: 'a CiliumNetworkPolicy with toCIDR in one rule and toCIDRSet in another',
      object: {
        apiVersion: 'cilium.io/v2',
        kind: 'CiliumNetworkPolicy',
        metadata: { name: 'c', namespace: 'team-a' },
        spec: {
          endpointSelector: {},
          egress: [
            { toCIDR: ['10.0.0.0/17'], toPorts: cilium },
            { toCIDRSet: [{ cidr: '10.0.128.0/17' }], toPorts: cilium },
          ],
        },
      },
      skipped: ['spec.egress[0]', 'spec.egress[1]'].map((p) => `${p}: exposes sensitive node ports; Cilium policies are reported, not rewritten`),
    },
  ])('$name', ({ object, skipped }) => {
    expect(exposures(object, [carve]).map((f) => f.key)).toEqual(['netpol-sensitive-exposure|egress|union|kubelet-api']);
    const result = run(object, [carve]);
    expect(result.object).toEqual(object);
    expect(result.changes).toEqual([]);
    expect(result.skipped).toEqual(skipped);
    expect(claimedButLeft(result, [carve])).toEqual([]);
  });
});

// ---- Properties --------------------------------------------------------------------------

const portEntry = makePortEntry(fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 10245, max: 10260 }), fc.constantFrom(10250, 10255, 443)));
const ports = fc.oneof(
  fc.option(fc.array(portEntry, { maxLength: 4 }), { nil: undefined }),
  fc.subarray<PolicyPort>([{ port: 10250 }, { protocol: 'TCP', port: 10255 }, { protocol: 'TCP', port: 443 }], { minLength: 1 }),
);

const toText = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/** The CIDR of `prefix` bits holding `start + offset`, as its first address and prefix. */
const aligned = (start: number, offset: number, prefix: number) => {
  const size = 2 ** (32 - prefix);
  return { first: start + Math.floor(offset / size) * size, prefix };
};

/**
 * An ipBlock with a CIDR of `minPrefix` to `maxPrefix` bits inside `base`/`within`, and up to
 * two excepts inside it (the API server refuses an except outside its CIDR).
 */
const ipBlock = (base: number, within: number, minPrefix: number, maxPrefix: number, withExcepts: boolean) =>
  fc
    .record({
      prefix: fc.integer({ min: minPrefix, max: maxPrefix }),
      offset: fc.integer({ min: 0, max: 2 ** (32 - within) - 1 }),
      except: fc.array(fc.record({ more: fc.integer({ min: 1, max: 8 }), offset: fc.nat() }), { maxLength: withExcepts ? 2 : 0 }),
    })
    .map(({ prefix, offset, except }) => {
      const c = aligned(base, offset, prefix);
      const excepts = except
        .filter((e) => prefix + e.more <= 32)
        .map((e) => aligned(c.first, e.offset % 2 ** (32 - prefix), prefix + e.more))
        .map((e) => `${toText(e.first)}/${e.prefix}`);
      return { cidr: `${toText(c.first)}/${prefix}`, ...(excepts.length ? { except: excepts } : {}) };
    });

function rules(block: fc.Arbitrary<Obj>): fc.Arbitrary<Obj[]> {
  const peer = fc.oneof(
    { weight: 6, arbitrary: block.map((b): Obj => ({ ipBlock: b })) },
    { weight: 1, arbitrary: fc.constant<Obj>({ podSelector: { matchLabels: { app: 'metrics' } } }) },
  );
  const to = fc.option(fc.array(peer, { minLength: 1, maxLength: 3 }), { nil: undefined, freq: 8 });
  return fc
    .array(fc.record({ to, ports }), { minLength: 1, maxLength: 5 })
    .map((rs) => rs.map(({ to: peers, ports: ps }, id) => ({ 'x-id': id, ...(peers ? { to: peers } : {}), ...(ps ? { ports: ps } : {}) })));
}

const TEN = 10 * 2 ** 24;

describe('carve-out of blocks that reach the nodes together (property-based)', () => {
  function holds(p: CompiledPolicy, egress: Obj[], policyTypes: boolean): void {
    const np = networkPolicy(policyTypes ? { policyTypes: ['Egress'], egress } : { egress });
    const result = run(np, [p]);
    expect(claimedButLeft(result, [p])).toEqual([]);
    expect(result.skipped).toEqual([]);
    expect(opened(np, result.object)).toEqual([]);
    const again = run(result.object, [p]);
    expect(again.changes).toEqual([]);
  }

  it('with known node addresses: one pass leaves no finding and opens nothing', () => {
    // Nodes and blocks inside 10.0.0.0/24, so blocks hold several nodes, one, or none.
    const node = ipBlock(TEN, 24, 24, 32, false).map((b) => b.cidr);
    fc.assert(
      fc.property(fc.array(node, { minLength: 1, maxLength: 3 }), rules(ipBlock(TEN, 24, 24, 32, true)), fc.boolean(), (nodes, egress, policyTypes) => {
        holds(policy({ nodeCIDRs: nodes, remediation: { netpolCarveOut: true } }), egress, policyTypes);
      }),
      { numRuns: 150 },
    );
  });

  it('with assumed node addresses: blocks that are broad alone and blocks that add up', () => {
    // /15 to /20 blocks of 10.0.0.0/14 (a /16 or wider is a finding alone, /17s and
    // narrower only together) and /20s of public space, which never count.
    const block = fc.oneof(ipBlock(TEN, 14, 15, 20, true), ipBlock(8 * 2 ** 24, 16, 20, 20, false));
    fc.assert(
      fc.property(rules(block), fc.boolean(), (egress, policyTypes) => holds(carve, egress, policyTypes)),
      { numRuns: 150 },
    );
  });
});
