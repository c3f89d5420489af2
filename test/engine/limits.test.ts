// The engine's bounded work (limits.ts): objects far larger than ordinary ones are evaluated
// in full and give the right findings, and an object over a limit yields one error finding
// per rule that stops, at that rule's action, saying which limit and its value. No timing
// here: test/hostile/engine-limits.ts evaluates objects just under each limit and asserts
// the time they take.
import { readFileSync } from 'node:fs';
import { evaluate } from '../../src/engine/evaluate.js';
import { ENGINE_LIMITS, NETWORK_POLICY_CIDRS, NETWORK_POLICY_LIST_ITEMS, ORDERED_RULE_STEPS, POD_SPEC_PORTS, type Limit } from '../../src/engine/limits.js';
import type { CompiledPolicy } from '../../src/engine/policy/model.js';
import type { Finding } from '../../src/engine/types.js';
import { cluster, defaultPolicy, defaultSpec, policy, resource } from './helpers.js';

type Obj = Record<string, unknown>;

/** n distinct /32s scattered over the IPv4 space (a multiplicative hash of the index). */
const scattered = (n: number, skip: (a: number) => boolean = () => false): string[] => {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    const a = Math.imul(i + 1, 2654435761) >>> 0;
    if (!skip(a)) out.push(`${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/32`);
  }
  return out;
};
const inNodes = (a: number) => a >>> 2 === 10 << 22; // 10.0.0.0/30

const netpol = (egress: Obj[]) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'n' },
  spec: { podSelector: {}, policyTypes: ['Egress'], egress },
});
const toKubelet = (ipBlock: Obj) => ({ to: [{ ipBlock }], ports: [{ port: 10250, protocol: 'TCP' }] });

const podWith = (containers: number, portsEach: number, hostPort = 10250) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'big' },
  spec: {
    containers: Array.from({ length: containers }, (_, i) => ({
      name: `c${i}`,
      image: 'registry.example/app:1',
      ports: Array.from({ length: portsEach }, (_, j) => ({ containerPort: 8000 + j, hostPort: hostPort + j })),
    })),
  },
});

// Known node addresses 10.0.0.0/30: the rule counts how many of them an ipBlock keeps.
const withNodes = (action: 'deny' | 'warn' = 'deny'): CompiledPolicy =>
  policy({ ...defaultSpec, nodeCIDRs: ['10.0.0.0/30'], rules: { ...defaultSpec.rules, 'netpol-sensitive-exposure': action } }, 'nodes');

const ofRule = (findings: Finding[], rule: string) => findings.filter((f) => f.rule === rule);

describe('large objects are evaluated in full', () => {
  it.each([
    // 31,997 scattered excepts plus three of the four node addresses: one node address is left.
    {
      name: '32,000 scattered excepts leaving one node address',
      except: [...scattered(31_997, inNodes), '10.0.0.0/32', '10.0.0.1/32', '10.0.0.2/32'],
      want: 0,
    },
    // The same count with only one node address excepted: three are left.
    { name: '32,000 scattered excepts leaving three node addresses', except: [...scattered(31_999, inNodes), '10.0.0.3/32'], want: 1 },
    // The excepts again, every one repeated: the arithmetic merges repeats.
    { name: '32,000 excepts, each twice', except: [...scattered(16_000, inNodes), ...scattered(16_000, inNodes), '10.0.0.3/32'], want: 1 },
  ])('a NetworkPolicy with $name', ({ except, want }) => {
    expect(except.length).toBeGreaterThanOrEqual(32_000);
    const e = evaluate(resource(netpol([toKubelet({ cidr: '0.0.0.0/0', except })])), [withNodes()], cluster());
    const found = ofRule(e.findings, 'netpol-sensitive-exposure');
    expect(found.map((f) => [f.status, f.path, f.value])).toEqual(want ? [['fail', 'spec.egress[0]', 10250]] : []);
    // The message names a few excepts and counts the rest, whatever the list holds.
    for (const f of found) expect(f.message).toMatch(new RegExp(`except (\\S+, ){4}\\S+ and ${except.length - 5} more`));
    for (const f of found) expect(f.message.length).toBeLessThan(600);
  });

  it('an IPv6 ipBlock with 32,000 scattered excepts', () => {
    const except = scattered(32_000).map((_, i) => `fd00::${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}/128`);
    const p = policy({ ...defaultSpec, nodeCIDRs: ['fd00::/120'] }, 'v6');
    const findings = (ex: string[]) =>
      ofRule(evaluate(resource(netpol([toKubelet({ cidr: 'fd00::/64', except: ex })])), [p], cluster()).findings, 'netpol-sensitive-exposure');
    // fd00::/120 is fd00::0-ff: the excepts hold all 256 of them, so no node address is left ...
    expect(findings(except)).toEqual([]);
    // ... until the except list stops at fd00::fd, leaving fd00::fe and fd00::ff.
    expect(findings(except.filter((e) => !/^fd00::0:f[ef]\/128$/.test(e))).map((f) => f.value)).toEqual([10250]);
  });

  it('a Pod with 100,000 containers on host port 10250 gets one finding per container', () => {
    const e = evaluate(resource(podWith(100_000, 1)), [defaultPolicy()], cluster(), { outcomes: false });
    const found = ofRule(e.findings, 'hostport-reserved');
    expect(found).toHaveLength(100_000);
    expect(found.every((f) => f.status === 'fail' && f.value === 10250)).toBe(true);
    expect(new Set(found.map((f) => f.path)).size).toBe(100_000);
    expect(found.at(-1)!.path).toBe('spec.containers[99999].ports[0].hostPort');
  });
});

/** The one error finding a rule gives for an object over `limit`, with where it went over. */
const limitFinding = (findings: Finding[], rule: string, limit: Limit) => {
  const found = ofRule(findings, rule);
  expect(found).toHaveLength(1);
  expect(found[0]).toMatchObject({ status: 'error', value: null });
  expect(found[0].message).toContain(`limit of ${limit.value.toLocaleString('en-US')} ${limit.counts} (${limit.name}`);
  return found[0];
};

describe('an object over a limit gets an error finding at the rule action', () => {
  const overCidrs = NETWORK_POLICY_CIDRS.value + 1;
  it.each([
    { name: 'one ipBlock with more excepts than the CIDR limit', egress: [toKubelet({ cidr: '0.0.0.0/0', except: scattered(overCidrs - 1) })] },
    {
      name: 'the CIDR limit reached across many ipBlocks',
      egress: Array.from({ length: 4 }, () => toKubelet({ cidr: '0.0.0.0/0', except: scattered(Math.ceil(overCidrs / 4)) })),
    },
  ])('NetworkPolicy: $name', ({ egress }) => {
    for (const action of ['deny', 'warn'] as const) {
      const e = evaluate(resource(netpol(egress)), [withNodes(action)], cluster());
      const f = limitFinding(e.findings, 'netpol-sensitive-exposure', NETWORK_POLICY_CIDRS);
      expect(f.action).toBe(action);
      expect(e.outcomes.filter((o) => o.rule === 'netpol-sensitive-exposure')).toEqual([]);
    }
  });

  it('NetworkPolicy: more list items than the limit, however they are spread', () => {
    // Peers that are pod selectors: no CIDR at all, only list items.
    const peers = Array.from({ length: NETWORK_POLICY_LIST_ITEMS.value / 2 }, () => ({ podSelector: {} }));
    const e = evaluate(resource(netpol([{ to: peers }, { to: peers, ports: [{ port: 10250 }] }])), [withNodes()], cluster());
    limitFinding(e.findings, 'netpol-sensitive-exposure', NETWORK_POLICY_LIST_ITEMS);
  });

  it.each([
    { name: 'many containers', containers: POD_SPEC_PORTS.value + 1, portsEach: 1, at: `spec.containers[${POD_SPEC_PORTS.value}].ports` },
    { name: 'one container with many ports', containers: 1, portsEach: POD_SPEC_PORTS.value + 1, at: 'spec.containers[0].ports' },
  ])('Pod with more port entries than the limit: $name', ({ containers, portsEach, at }) => {
    const tenanted = policy({
      ...defaultSpec,
      tenants: [{ name: 't', namespaces: ['default'], allowedHostPorts: [] }],
      rules: { ...defaultSpec.rules, 'hostport-not-allowed': 'warn' },
    });
    const e = evaluate(resource(podWith(containers, portsEach, 1)), [tenanted], cluster(), { outcomes: false });
    // Both host-port rules stop; each reports where the count went over, at its own action.
    expect(limitFinding(e.findings, 'hostport-reserved', POD_SPEC_PORTS)).toMatchObject({ action: 'deny', path: at });
    expect(limitFinding(e.findings, 'hostport-not-allowed', POD_SPEC_PORTS)).toMatchObject({ action: 'warn', path: at });
    expect(e.findings).toHaveLength(2);
  });

  it('Calico policy whose deny rules crossed with later allows go over the step budget', () => {
    // A Deny of 3,000 scattered addresses, then 2,000 Allows to everything on 10250: each allow
    // is the whole space minus the 3,000, far past the budget long before the last rule.
    const deny = { action: 'Deny', protocol: 'TCP', destination: { nets: scattered(3_000), ports: [10250] } };
    const allows = Array.from({ length: 2_000 }, () => ({ action: 'Allow', protocol: 'TCP', destination: { nets: ['0.0.0.0/0'], ports: [10250] } }));
    const object = {
      apiVersion: 'projectcalico.org/v3',
      kind: 'NetworkPolicy',
      metadata: { name: 'n', namespace: 'team-a' },
      spec: { types: ['Egress'], egress: [deny, ...allows] },
    };
    const e = evaluate(resource(object, 'team-a'), [withNodes()], cluster());
    expect(limitFinding(e.findings, 'netpol-sensitive-exposure', ORDERED_RULE_STEPS).path).toMatch(/^spec\.egress\[\d+\]$/);
  });
});

describe('docs/limits.md', () => {
  const text = readFileSync(new URL('../../docs/limits.md', import.meta.url), 'utf8');
  const engine = text.slice(text.indexOf('## Engine'));
  it.each(ENGINE_LIMITS.map((limit) => ({ name: limit.name, limit })))('lists $name with its value', ({ limit }) => {
    expect(engine).toContain(`| \`${limit.name}\` | ${limit.value.toLocaleString('en-US')} |`);
  });
});
