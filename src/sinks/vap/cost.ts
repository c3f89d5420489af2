// Worst-case runtime cost of the exported expressions, against the API server's limits: it
// stops one expression past 1,000,000 cost units and one evaluation of a policy and binding
// past 10,000,000 (k8s.io/apiserver/pkg/apis/cel/config.go: PerCallLimit,
// RuntimeCELCostBudget), and the error goes to failurePolicy: Fail, a denial. The export
// refuses a policy whose estimate goes over either, naming the rule.
//
// How the estimates are made (docs/vap.md, "Cost"): cel-go's runtime cost tracker charges
// about 1 unit per evaluated node (field selection, comparison, call, literal element,
// macro step) and, for strings, 0.1 per character compared, concatenated or matched
// (`matches` charges length × pattern length × 0.1). Each constant below is the count of
// such nodes in the generated text for one step, rounded up generously; the sizes come from
// the guards that leave larger objects to the webhook (MAX_CONTAINERS, MAX_PORT_ENTRIES,
// MAX_SERVICE_PORTS) and from the policy itself (catalog entries, tenants, exemptions).
import type { CompiledPolicy } from '../../engine/policy/model.js';
import type { RuleId } from '../../engine/types.js';
import { MAX_SERVICE_PORTS } from './service.js';
import { MAX_CONTAINERS, MAX_PORT_ENTRIES } from './workload.js';

export const PER_EXPRESSION_LIMIT = 1_000_000;
export const PER_EVALUATION_LIMIT = 10_000_000;

/** Longest Kubernetes name (DNS-1123 label for namespaces, subdomain for objects): bounds string costs. */
const NAME = 253;
/** A generated message: the fixed words, names and numbers of one finding. */
const MESSAGE = 400;

export interface CostEstimate {
  /** Variable name, or `validation` / `messageExpression`. */
  expression: string;
  cost: number;
}

const strCost = (chars: number) => Math.ceil(chars * 0.1);

/** The tenant and exemption variables: every glob, selector term and name compared once. */
function scopeCosts(policy: CompiledPolicy, rule: RuleId): CostEstimate[] {
  const globCost = (g: string) => (/[*?]/.test(g) ? 5 + strCost(NAME * (g.length * 2 + 2)) : 3 + strCost(NAME));
  let tenant = 4;
  for (const t of policy.spec.tenants ?? []) {
    tenant += 3 + (t.namespaces ?? []).reduce((a, g) => a + globCost(g), 0);
    const s = t.namespaceSelector;
    tenant +=
      Object.keys(s?.matchLabels ?? {}).length * (8 + strCost(2 * NAME)) +
      (s?.matchExpressions ?? []).reduce((a, e) => a + 8 + (e.values?.length ?? 0) * (2 + strCost(NAME)), 0);
  }
  let exempt = 0;
  for (const e of policy.spec.exemptions ?? []) {
    if (!(e.rules ?? ['*']).some((r) => r === '*' || r === rule)) continue;
    exempt += 3 + [...(e.namespaces ?? []), ...(e.kinds ?? []), ...(e.names ?? [])].reduce((a, g) => a + 10 + globCost(g), 0);
  }
  return [{ expression: 'namespaceLabels', cost: 12 }, { expression: 'tenant', cost: tenant }, ...(exempt > 0 ? [{ expression: 'exempt', cost: exempt }] : [])];
}

/** The pod-spec variables, once for the object and once for the old object. */
function workloadCosts(): CostEstimate[] {
  const C = MAX_CONTAINERS;
  const P = MAX_PORT_ENTRIES;
  // podSpec: four kind tests and up to ten guarded steps; tooBig: three sizes, the
  // concatenation (C elements) and one guarded size per container; hostPorts: per container
  // about 20 nodes, per port entry about 60 (two guarded port reads with the string form,
  // the protocol, the container name with its indexOf over at most C containers) and 15
  // for the effective record.
  const perObject: CostEstimate[] = [
    { expression: 'podSpec', cost: 60 },
    { expression: 'hostNetwork', cost: 10 },
    { expression: 'podTooBig', cost: 10 + C * 12 },
    { expression: 'hostPorts', cost: 30 + C * 20 + P * (60 + C + 15 + strCost(2 * NAME)) },
  ];
  return [...perObject, ...perObject.map((e) => ({ expression: `old${e.expression[0].toUpperCase()}${e.expression.slice(1)}`, cost: e.cost }))];
}

function serviceCosts(): CostEstimate[] {
  const S = MAX_SERVICE_PORTS;
  // Per port: the name (with its indexOf over at most S ports), protocol and node-port reads
  // and the record, about 50 nodes plus the key's characters.
  const perObject: CostEstimate[] = [
    { expression: 'serviceSpec', cost: 12 },
    { expression: 'serviceType', cost: 8 },
    { expression: 'serviceTooBig', cost: 6 },
    { expression: 'nodePorts', cost: 40 + S * (50 + S + strCost(2 * NAME)) },
    { expression: 'allocatesNodePorts', cost: 25 },
  ];
  return [...perObject, ...perObject.map((e) => ({ expression: `old${e.expression[0].toUpperCase()}${e.expression.slice(1)}`, cost: e.cost }))];
}

/** The records walk: validation (one exists) and message (filter, first and count). */
function recordWalk(records: number): CostEstimate[] {
  return [
    { expression: 'validation', cost: 10 + records * 4 },
    { expression: 'messageExpression', cost: 20 + records * 12 + strCost(3 * MESSAGE) },
  ];
}

/** Every expression of one rule's ValidatingAdmissionPolicy with its worst-case cost. */
export function estimateCosts(policy: CompiledPolicy, rule: RuleId): CostEstimate[] {
  const P = MAX_PORT_ENTRIES;
  const S = MAX_SERVICE_PORTS;
  const R = policy.reservedPorts.length;
  const maxAllowed = Math.max(0, ...policy.tenants.map((t) => t.allowedHostPorts?.length ?? 0));
  const T = policy.tenants.length;
  switch (rule) {
    case 'hostport-reserved':
      // Per host port: the catalog filter (R entries, about 10 nodes each) three times, the
      // old object's host ports (P records, 8 nodes each) once, and the message.
      return [
        ...scopeCosts(policy, rule),
        ...workloadCosts(),
        { expression: 'catalog', cost: 5 + R * 6 },
        { expression: 'findings', cost: 20 + P * (30 * R + 8 * P + strCost(MESSAGE + NAME)) },
        ...recordWalk(P),
      ];
    case 'hostport-not-allowed':
      return [
        ...scopeCosts(policy, rule),
        ...workloadCosts(),
        { expression: 'findings', cost: 20 + 3 * T + P * (6 * maxAllowed + 8 * P + strCost(MESSAGE + NAME)) + 20 },
        ...recordWalk(P + 1),
      ];
    case 'nodeport-range':
      return [
        ...scopeCosts(policy, rule),
        ...serviceCosts(),
        { expression: 'findings', cost: 20 + 3 * T + (S + 1) * (8 + 6 * (S + 1) + strCost(MESSAGE + NAME)) },
        ...recordWalk(S + 1),
      ];
    case 'nodeport-not-allowed':
      return [...scopeCosts(policy, rule), ...serviceCosts(), { expression: 'findings', cost: 30 + T + strCost(MESSAGE) }, ...recordWalk(1)];
    case 'netpol-sensitive-exposure': {
      // Rules ≤ 64, peers and ports ≤ 128 and excepts ≤ 64 in all rules together. Per
      // sensitive entry, over all rules: the ports walk (about 25 nodes a port), per ipBlock
      // peer about 40 nodes per block of N, 30 per except and block (isCIDR, two
      // containsIP), the message joining the peers (60 characters each), and each finding's
      // fingerprint compared with every old rule's, which costs at most the old rules' 128
      // peers and ports (3 fields each) in all.
      const K = Math.max(policy.nodeCIDRs.length, 4);
      const E = policy.sensitivePorts.length;
      const known = policy.nodeCIDRs.length > 0;
      const found = 128 * 25 + 128 * 40 * K + 64 * 30 * K;
      const perEntry = found + 64 * (128 * 3 + 10) + strCost(128 * 60);
      // The union (rules/netpol-sensitive-exposure.ts), per entry and for the object and the old
      // object: the blocks the rules open (the ports walk, 40 nodes per peer and block of N,
      // 30 per except and block, join and split of at most 128 CIDRs of 50 characters), the
      // distinct ones (assumed N: indexOf over at most 128 strings, for each of 128 indexes),
      // each parsed once (30), and every pair of blocks compared (15 nodes).
      const opened = 64 * 20 + 128 * 25 + 128 * (30 + 40 * K) + 64 * 30 * K + strCost(3 * 128 * 50);
      const blocks = (known ? 0 : 128 * (6 + 128 * (1 + strCost(50)))) + 128 * 30;
      const union = 128 * 128 * 15 + 128 * 30 + 10;
      const unjudged = 64 * 20 + 128 * (10 + 20 * K);
      const unionCosts: CostEstimate[] = [];
      for (let i = 0; i < E; i++) {
        for (const prefix of ['', 'old']) {
          const name = (n: string) => (prefix ? `old${n[0].toUpperCase()}${n.slice(1)}` : n);
          unionCosts.push(
            { expression: name(`netpolOpened${i}`), cost: opened },
            { expression: name(`netpolBlocks${i}`), cost: blocks },
            { expression: name(`netpolUnion${i}`), cost: union },
          );
        }
        unionCosts.push({ expression: `oldNetpolUnjudged${i}`, cost: unjudged });
      }
      return [
        { expression: 'netpolTooBig', cost: 2 * (10 + 64 * 20 + 128 * 15) },
        { expression: 'egressRules', cost: 2 * (20 + 64 * 30 + 128 * 20) },
        { expression: 'netpolPowers', cost: 60 },
        ...unionCosts,
        // Each entry's test runs three times for the rules (to select the rule, to count, for
        // the message) and twice more for the union (is any rule a finding alone, in the
        // object and in the old object), plus the union's message.
        { expression: 'findings', cost: 20 + E * (3 * perEntry + 2 * found + 60 + strCost(MESSAGE + 6 * 50)) },
        ...recordWalk(64 * Math.max(1, E) + E),
      ];
    }
    case 'service-external-ips': {
      // Per address (at most 256): isIP, the trim, every allowed and node CIDR (10 each), the
      // old addresses (256 string comparisons of 45 characters at most) and the message.
      const X = 256;
      const A = Math.max(policy.allowedExternalIPs.length, ...policy.tenants.map((t) => t.allowedExternalIPs.length)) + policy.nodeCIDRs.length;
      return [
        ...scopeCosts(policy, rule),
        ...serviceCosts(),
        { expression: 'externalIPs', cost: 2 * (10 + X * 8) },
        { expression: 'findings', cost: 20 + 3 * T + X * (20 + 3 * 10 * A + X * (1 + strCost(45)) + strCost(MESSAGE)) },
        ...recordWalk(X),
      ];
    }
    default:
      return [];
  }
}

/** The estimates that go over a limit, as messages; [] when the policy fits. */
export function overBudget(policy: CompiledPolicy, rule: RuleId, costs: readonly CostEstimate[]): string[] {
  const problems = costs
    .filter((c) => c.cost > PER_EXPRESSION_LIMIT)
    .map(
      (c) =>
        `${rule}: ${c.expression} may cost ${c.cost.toLocaleString('en-US')}, over the API server's ${PER_EXPRESSION_LIMIT.toLocaleString('en-US')} per expression`,
    );
  const total = costs.reduce((a, c) => a + c.cost, 0);
  if (total > PER_EVALUATION_LIMIT)
    problems.push(`${rule}: one evaluation may cost ${total.toLocaleString('en-US')}, over the API server's ${PER_EVALUATION_LIMIT.toLocaleString('en-US')}`);
  return problems.map((p) => `policy ${policy.name}: ${p}; the webhook enforces this rule for such a policy`);
}
