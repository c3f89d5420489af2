// netpol-sensitive-exposure in CEL, for networking.k8s.io/v1 NetworkPolicy
// (src/engine/rules/netpol-sensitive-exposure.ts, src/engine/facts/network-rules.ts): an
// egress rule in effect that names a sensitive port with destinations reaching the nodes
// broadly, or allows every port to destinations that are only nodes.
//
// A VAP cannot read Node objects: the node addresses N are the policy's nodeCIDRs, or, with
// none, the assumed private ranges (as `scan` does offline). Address arithmetic uses the
// Kubernetes CIDR library (Kubernetes 1.31+) with every parse guarded by isCIDR, and
// containment written as prefixLength and containsIP (containsCIDR masks its argument only
// from 1.33). Where an except list carves part of a range out (the exact answer needs interval
// arithmetic), the VAP does not judge the peer: the webhook does.
import { parseBlockOrThrow, type Block } from '../../../engine/net/cidr.js';
import { ASSUMED_NODE_CIDRS } from '../../../engine/net/node-addresses.js';
import { formatRange } from '../../../engine/ports.js';
import type { PortEntry } from '../../../engine/policy/model.js';
import { NETWORK_POLICIES } from '../../../k8s/resources.js';
import { list, listAt, mapAt, str } from '../cel.js';
import type { Variable } from '../scope.js';
import type { RuleCompiler } from './rule.js';

/** Beyond these a NetworkPolicy is left to the webhook: they bound the cost (docs/vap.md, "Cost"). */
export const MAX_EGRESS_RULES = 64;
export const MAX_PEERS_AND_PORTS = 128;
export const MAX_EXCEPTS = 64;

// With assumed node addresses an ipBlock counts from /16 (IPv4) or /48 (IPv6) up (the engine's BROAD_PREFIX).
const BROAD_PREFIX = { 4: 16, 6: 48 } as const;

const IP_BLOCK = 'has(p.ipBlock) && type(p.ipBlock) == map && has(p.ipBlock.cidr) && type(p.ipBlock.cidr) == string';
const EXCEPTS = '(has(p.ipBlock.except) && type(p.ipBlock.except) == list ? p.ipBlock.except.filter(e, type(e) == string) : [])';

/** `a` (a CEL CIDR) contains the CIDR `b`, without containsCIDR. */
const contains = (a: string, b: string) => `(${a}.prefixLength() <= ${b}.prefixLength() && ${a}.containsIP(${b}.ip()))`;
const overlap = (a: string, b: string) => `(${contains(a, b)} || ${contains(b, a)})`;

/** No except of the peer overlaps the CIDR `range` (so the peer's addresses there are whole). */
const exceptsClear = (range: string) => `${EXCEPTS}.all(e, isCIDR(e) && !${overlap('cidr(e)', range)})`;

function variablesFor(prefix: string, root: string): Variable[] {
  const v = (name: string) => (prefix ? `${prefix}${name[0].toUpperCase()}${name.slice(1)}` : name);
  const spec = `variables.${v('netpolSpec')}`;
  const egress = listAt(spec, 'egress');
  const to = listAt('r', 'to');
  const ports = listAt('r', 'ports');
  // What decides the finding: the ports and the ipBlocks (selectors read as one kind of peer).
  const fingerprint = `{'ports': ${ports}, 'to': ${to}.map(p, type(p) == map && ${IP_BLOCK} ? p.ipBlock : {})}`;
  return [
    { name: v('netpolSpec'), expression: `${root} == null ? {} : ${mapAt(root, 'spec')}` },
    {
      // API server defaulting: without policyTypes, Egress is in effect only with egress rules.
      name: v('egressInEffect'),
      expression: `size(${listAt(spec, 'policyTypes')}) > 0 ? 'Egress' in ${listAt(spec, 'policyTypes')} : size(${egress}) > 0`,
    },
    {
      name: v('netpolTooBig'),
      expression:
        `size(${egress}) > ${MAX_EGRESS_RULES} || ${egress}.map(r, type(r) == map ? size(${to}) + size(${ports}) : 0).sum() > ${MAX_PEERS_AND_PORTS} || ` +
        `${egress}.map(r, type(r) == map ? ${to}.map(p, type(p) == map && has(p.ipBlock) && type(p.ipBlock) == map ? size(${EXCEPTS}) : 0).sum() : 0).sum() > ${MAX_EXCEPTS}`,
    },
    {
      name: v('egressRules'),
      expression: `variables.${v('egressInEffect')} ? ${egress}.filter(r, type(r) == map).map(r, {'to': ${to}, 'ports': ${ports}, 'fp': ${fingerprint}}) : []`,
    },
  ];
}

const PROTOCOL = "(has(p.protocol) && type(p.protocol) == string && p.protocol in ['TCP', 'UDP', 'SCTP'] ? p.protocol : 'TCP')";
const END = '(has(p.endPort) && type(p.endPort) == int && p.endPort >= p.port ? p.endPort : p.port)';

function covers(entry: PortEntry): string {
  return entry.protocol === 'ANY' ? 'true' : `${PROTOCOL} == ${str(entry.protocol)}`;
}

/** The rule names a port of the entry by number or range. */
const names = (entry: PortEntry) =>
  `r.ports.exists(p, type(p) == map && has(p.port) && type(p.port) == int && ${covers(entry)} && p.port <= ${entry.range.hi} && ${END} >= ${entry.range.lo})`;

/** The rule allows every port of the entry's protocol. */
const allowsAll = (entry: PortEntry) => `(size(r.ports) == 0 || r.ports.exists(p, type(p) == map && !has(p.port) && ${covers(entry)}))`;

interface NodeRanges {
  /** True when N is the policy's nodeCIDRs, false for the assumed private ranges. */
  known: boolean;
  /** Disjoint blocks of N (a block inside another is dropped at export). */
  blocks: Block[];
}

function nodeRanges(nodeCIDRs: readonly Block[]): NodeRanges {
  const known = nodeCIDRs.length > 0;
  const all = known ? [...nodeCIDRs] : ASSUMED_NODE_CIDRS.map(parseBlockOrThrow);
  const inside = (a: Block, b: Block) => a.version === b.version && a.start >= b.start && a.end <= b.end;
  // A block inside another is dropped (of two equal ones, the later), so no address counts twice.
  const blocks = all.filter((a, i) => !all.some((b, j) => j !== i && inside(a, b) && (!inside(b, a) || j < i)));
  return { known, blocks };
}

/** A block as text cidr() reads: dotted IPv4, or eight hexadecimal groups. */
function cidrText(b: Block): string {
  if (b.version === 4) return `${[24n, 16n, 8n, 0n].map((s) => String((b.start >> s) & 0xffn)).join('.')}/${b.prefix}`;
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((s) => ((b.start >> s) & 0xffffn).toString(16));
  return `${groups.join(':')}/${b.prefix}`;
}

/**
 * The ipBlock peer `p` reaches the nodes broadly: with assumed addresses, a block of /16 or
 * wider (IPv4; /48 IPv6) meeting a private range no except touches; with nodeCIDRs, at least
 * two node addresses or all of N in it, outside the excepts.
 */
function reaches(n: NodeRanges): string {
  const c = 'cidr(p.ipBlock.cidr)';
  const max = (b: Block) => (b.version === 4 ? 32 : 128);
  // The part of N's block `k` the peer's cidr covers: the block itself, or the cidr inside it.
  const parts = n.blocks.map((b) => {
    const k = `cidr(${str(cidrText(b))})`;
    const meets = `${c}.ip().family() == ${b.version} && ${overlap(c, k)}`;
    const whole = `(${contains(c, k)} ? ${exceptsClear(k)} : ${exceptsClear(c)})`;
    return { b, k, meets, whole };
  });
  if (!n.known) {
    const broad = `(${c}.ip().family() == 4 ? ${c}.prefixLength() <= ${BROAD_PREFIX[4]} : ${c}.prefixLength() <= ${BROAD_PREFIX[6]})`;
    return `(${IP_BLOCK} && isCIDR(p.ipBlock.cidr) && ${broad} && (${parts.map((x) => `(${x.meets} && ${x.whole})`).join(' || ')}))`;
  }
  // Addresses counted per block of N, up to two: a part wider than one address counts two.
  const count = list(
    parts.map((x) => `(${x.meets} && ${x.whole} ? (${contains(c, x.k)} ? ${x.b.prefix < max(x.b) ? 2 : 1} : (${c}.prefixLength() < ${max(x.b)} ? 2 : 1)) : 0)`),
  );
  const allOfN = parts
    .map((x) => `(${x.b.version === 4 ? `${c}.ip().family() == 4` : `${c}.ip().family() == 6`} && ${contains(c, x.k)} && ${exceptsClear(x.k)})`)
    .join(' && ');
  return `(${IP_BLOCK} && isCIDR(p.ipBlock.cidr) && (${count}.sum() >= 2 || (${allOfN})))`;
}

/** Every destination is an ipBlock inside N (no except), together two addresses or all of N. */
function targets(n: NodeRanges): string {
  if (!n.known) return 'false';
  const c = 'cidr(p.ipBlock.cidr)';
  const inN = n.blocks.map((b) => contains(`cidr(${str(cidrText(b))})`, c)).join(' || ');
  const single = 'cidr(p.ipBlock.cidr).prefixLength() == (cidr(p.ipBlock.cidr).ip().family() == 4 ? 32 : 128)';
  const two = `r.to.exists(p, !(${single})) || r.to.exists(a, r.to.exists(p, cidr(a.ipBlock.cidr).ip() != cidr(p.ipBlock.cidr).ip()))`;
  const allOfN = n.blocks.map((b) => `r.to.exists(p, ${contains(c, `cidr(${str(cidrText(b))})`)})`).join(' && ');
  return (
    `(size(r.to) > 0 && r.to.all(p, type(p) == map && ${IP_BLOCK} && isCIDR(p.ipBlock.cidr) && size(${EXCEPTS}) == 0 && (${inN})) && ` +
    `(${two} || (${allOfN})))`
  );
}

export const netpolSensitiveExposure: RuleCompiler = (policy) => {
  const n = nodeRanges(policy.nodeCIDRs);
  const reach = `(size(r.to) == 0 || r.to.exists(p, type(p) == map && ${reaches(n)}))`;
  const target = targets(n);
  const nodeWord = n.known ? 'node addresses' : 'likely node addresses (private ranges; set nodeCIDRs to be exact)';
  const toText =
    "(size(r.to) == 0 ? 'every destination' : r.to.map(p, type(p) == map && has(p.ipBlock) && type(p.ipBlock) == map && has(p.ipBlock.cidr) ? string(p.ipBlock.cidr) : 'selected pods').join(', '))";
  const perEntry = policy.sensitivePorts.map((e) => {
    const what = `${e.name} ${formatRange(e.range)}/${e.protocol === 'ANY' ? 'any protocol' : e.protocol}`;
    const message =
      `(${names(e)} && ${reach} ? ${str(`egress rule lets pods reach ${what} on `)} + (size(r.to) == 0 ? 'the nodes (the rule allows every destination)' : ${str(nodeWord)} + ' (to: ' + ${toText} + ')') + ` +
      `'; allow the port only to pod selectors, or except the node addresses from the ipBlock' : ` +
      `${str(`egress rule allows every ${e.protocol === 'ANY' ? 'any protocol' : e.protocol} port, ${what} included, to node addresses (to: `)} + ${toText} + ${str(`); list only the ports the pods need (not ${formatRange(e.range)})`)})`;
    const found = `((${names(e)} && ${reach}) || (${allowsAll(e)} && ${target}))`;
    return `(${found} ? [{'count': 1, 'carried': variables.oldEgressRules.exists(o, o.fp == r.fp), 'message': ${message}}] : [])`;
  });
  return {
    rule: 'netpol-sensitive-exposure',
    resources: [NETWORK_POLICIES],
    variables: [...variablesFor('', 'object'), ...variablesFor('old', 'oldObject')],
    records: perEntry.length === 0 ? '[]' : `variables.egressRules.map(r, ${perEntry.join(' + ')})`,
    skip: 'variables.netpolTooBig || variables.oldNetpolTooBig',
    limitations: [
      'CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, admin network policies and Calico policies are not checked; the webhook checks them',
      'node addresses are the policy nodeCIDRs or the assumed private ranges: a VAP cannot read Node objects',
      'an ipBlock whose except list cuts part of a node range, or whose cidr cidr() refuses (IPv4-mapped IPv6, leading zeros), is not judged',
      `NetworkPolicies with more than ${MAX_EGRESS_RULES} egress rules, ${MAX_PEERS_AND_PORTS} peers and ports or ${MAX_EXCEPTS} excepts, new or old, are not checked (cost budget)`,
      'on UPDATE, a rule counts as the old one when its ports and ipBlocks are the same (selectors are not compared)',
    ],
    carriedMeaning: "'a new NetworkPolicy like this will be denied'",
  };
};
