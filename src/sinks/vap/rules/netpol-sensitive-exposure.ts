// netpol-sensitive-exposure in CEL, for networking.k8s.io/v1 NetworkPolicy and the egress of
// cilium.io/v2 CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy
// (src/engine/rules/netpol-sensitive-exposure.ts, src/engine/facts/network-rules.ts): an
// egress rule in effect that names a sensitive port with destinations reaching the nodes
// broadly, or allows every port to destinations that are only nodes.
//
// A VAP cannot read Node objects: the node addresses N are the policy's nodeCIDRs, or, with
// none, the assumed private ranges (as `scan` does offline). Address arithmetic uses the
// Kubernetes CIDR library (Kubernetes 1.31+) with every parse guarded by isCIDR, and
// containment written as prefixLength and containsIP (containsCIDR masks its argument only
// from 1.33). Where an except list carves part of a range out (the exact answer needs interval
// arithmetic), the VAP does not judge the peer: the webhook does. Blocks that reach the nodes
// only together (the union of what an object opens to a port) are judged too, from the CIDRs
// alone (see "the union" below).
import { parseBlockOrThrow, type Block } from '../../../engine/net/cidr.js';
import { ASSUMED_NODE_CIDRS } from '../../../engine/net/node-addresses.js';
import { formatRange } from '../../../engine/ports.js';
import type { PortEntry } from '../../../engine/policy/model.js';
import { CILIUM_CLUSTERWIDE_NETWORK_POLICIES, CILIUM_NETWORK_POLICIES, NETWORK_POLICIES } from '../../../k8s/resources.js';
import { list, listAt, mapAt, str } from '../cel.js';
import type { Variable } from '../scope.js';
import type { RuleCompiler } from './rule.js';

/** Beyond these a NetworkPolicy is left to the webhook: they bound the cost (docs/vap.md, "Cost"). */
export const MAX_EGRESS_RULES = 64;
export const MAX_PEERS_AND_PORTS = 128;
export const MAX_EXCEPTS = 64;

// With assumed node addresses an ipBlock counts from /16 (IPv4) or /48 (IPv6) up (the engine's BROAD_PREFIX).
const BROAD_PREFIX = { 4: 16, 6: 48 } as const;

// Rules are normalised, for both kinds, to {to, toAll, ports, portsAll, fp}: `to` a list of
// groups of peers {kind: ipBlock|pods|entity|nodes|other, cidr, except, entity}, `ports` a
// list of groups of ports {protocol, all, lo, hi} (Cilium nests both; a NetworkPolicy has one
// group of each).
const IP_BLOCK = "p.kind == 'ipBlock'";
const EXCEPTS = 'p.except';

/** `a` (a CEL CIDR) contains the CIDR `b`, without containsCIDR. */
const contains = (a: string, b: string) => `(${a}.prefixLength() <= ${b}.prefixLength() && ${a}.containsIP(${b}.ip()))`;
const overlap = (a: string, b: string) => `(${contains(a, b)} || ${contains(b, a)})`;

/** No except of the peer overlaps the CIDR `range` (so the peer's addresses there are whole). */
const exceptsClear = (range: string) => `${EXCEPTS}.all(e, isCIDR(e) && !${overlap('cidr(e)', range)})`;

const STRINGS = (list: string) => `(type(${list}) == list ? ${list}.filter(e, type(e) == string) : [])`;

// --- networking.k8s.io/v1 NetworkPolicy (facts/network-rules.ts kubernetesRules)
const K8S_PEER =
  "type(p) != map ? {'kind': 'other'} : (has(p.ipBlock) && type(p.ipBlock) == map ? " +
  "{'kind': 'ipBlock', 'cidr': has(p.ipBlock.cidr) && type(p.ipBlock.cidr) == string ? p.ipBlock.cidr : '', 'except': has(p.ipBlock.except) ? " +
  STRINGS('p.ipBlock.except') +
  " : []} : (has(p.podSelector) || has(p.namespaceSelector) ? {'kind': 'pods'} : {'kind': 'other'}))";
const K8S_PROTOCOL = "(has(p.protocol) && type(p.protocol) == string && p.protocol in ['TCP', 'UDP', 'SCTP'] ? p.protocol : 'TCP')";
const K8S_END = '(has(p.endPort) && type(p.endPort) == int && p.endPort >= p.port ? p.endPort : p.port)';
const K8S_PORTS =
  `[r.ports.filter(p, type(p) == map && (!has(p.port) || type(p.port) == int)).map(p, !has(p.port) ? ` +
  `{'protocol': ${K8S_PROTOCOL}, 'all': true, 'lo': 0, 'hi': 0} : {'protocol': ${K8S_PROTOCOL}, 'all': false, 'lo': p.port, 'hi': ${K8S_END}})]`;

function kubernetesRules(root: string): string {
  const spec = mapAt(root, 'spec');
  const egress = listAt(spec, 'egress');
  const types = listAt(spec, 'policyTypes');
  // API server defaulting: without policyTypes, Egress is in effect only with egress rules.
  const inEffect = `(size(${types}) > 0 ? 'Egress' in ${types} : size(${egress}) > 0)`;
  const raw = `${egress}.filter(r, type(r) == map).map(r, {'to': ${listAt('r', 'to')}, 'ports': ${listAt('r', 'ports')}})`;
  return (
    `${inEffect} ? ${raw}.map(r, {'toAll': size(r.to) == 0, 'to': [r.to.map(p, ${K8S_PEER})], 'portsAll': size(r.ports) == 0, 'ports': ${K8S_PORTS}, ` +
    `'fp': {'ports': r.ports, 'to': r.to.map(p, type(p) == map && has(p.ipBlock) ? p.ipBlock : {})}}) : []`
  );
}

// --- cilium.io/v2 CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy egress (ciliumRules)
const L3 = ['toEndpoints', 'toCIDR', 'toCIDRSet', 'toEntities', 'toNodes', 'toServices', 'toFQDNs', 'toGroups'];
const CILIUM_PEERS =
  `(has(r.toEndpoints) && type(r.toEndpoints) == list ? [r.toEndpoints.map(x, {'kind': 'pods'})] : []) + ` +
  `(has(r.toCIDR) && type(r.toCIDR) == list ? [r.toCIDR.map(x, type(x) == string ? {'kind': 'ipBlock', 'cidr': x, 'except': []} : {'kind': 'other'})] : []) + ` +
  `(has(r.toCIDRSet) && type(r.toCIDRSet) == list ? [r.toCIDRSet.map(x, type(x) == map && has(x.cidr) && type(x.cidr) == string ? ` +
  `{'kind': 'ipBlock', 'cidr': x.cidr, 'except': has(x.except) ? ${STRINGS('x.except')} : []} : {'kind': 'other'})] : []) + ` +
  `(has(r.toEntities) && type(r.toEntities) == list ? [r.toEntities.map(x, type(x) == string ? {'kind': 'entity', 'entity': x.lowerAscii()} : {'kind': 'other'})] : []) + ` +
  `(has(r.toNodes) && type(r.toNodes) == list ? [r.toNodes.map(x, {'kind': 'nodes'})] : []) + ` +
  `['toServices', 'toFQDNs', 'toGroups'].filter(k, k in r && type(r[k]) == list).map(k, r[k].map(x, {'kind': 'other'}))`;
const CILIUM_PORT_NUMBER = (f: string) => `(type(${f}) == int ? ${f} : (type(${f}) == string && ${f}.trim().matches('^[0-9]{1,9}$') ? int(${f}.trim()) : -1))`;
const CILIUM_PROTOCOL = "(has(p.protocol) && type(p.protocol) == string ? p.protocol.upperAscii() : 'ANY')";
const CILIUM_ALL_PORTS = "(!has(p.port) || p.port == '' || " + CILIUM_PORT_NUMBER('p.port') + ' == 0)';
const CILIUM_END = `(has(p.endPort) && ${CILIUM_PORT_NUMBER('p.endPort')} >= ${CILIUM_PORT_NUMBER('p.port')} ? ${CILIUM_PORT_NUMBER('p.endPort')} : ${CILIUM_PORT_NUMBER('p.port')})`;
const CILIUM_PORTS =
  `${listAt('r', 'toPorts')}.map(pr, type(pr) == map && has(pr.ports) && type(pr.ports) == list ? ` +
  `pr.ports.filter(p, type(p) == map && ${CILIUM_PROTOCOL} in ['TCP', 'UDP', 'SCTP', 'ANY'] && (${CILIUM_ALL_PORTS} || ${CILIUM_PORT_NUMBER('p.port')} > 0)).map(p, ` +
  `${CILIUM_ALL_PORTS} ? {'protocol': ${CILIUM_PROTOCOL}, 'all': true, 'lo': 0, 'hi': 0} : {'protocol': ${CILIUM_PROTOCOL}, 'all': false, 'lo': ${CILIUM_PORT_NUMBER('p.port')}, 'hi': ${CILIUM_END}}) : [])`;

function ciliumRules(root: string): string {
  // spec and specs[]; a clusterwide policy with nodeSelector is a host policy, whose egress is not pods' (left to the webhook).
  const specs = `([${mapAt(root, 'spec')}].filter(s, size(s) > 0) + ${listAt(root, 'specs')}.filter(s, type(s) == map))`;
  const host = `(${root}.kind == 'CiliumClusterwideNetworkPolicy' && has(s.nodeSelector) && type(s.nodeSelector) == map)`;
  return (
    `${specs}.filter(s, !${host} && has(s.egress) && type(s.egress) == list).map(s, s.egress.filter(r, type(r) == map).map(r, ` +
    `{'toAll': !${list(L3.map(str))}.exists(k, k in r), 'to': ${CILIUM_PEERS}, ` +
    `'portsAll': size(${listAt('r', 'toPorts')}) == 0 && size(${listAt('r', 'icmps')}) == 0, 'ports': size(${listAt('r', 'toPorts')}) == 0 ? [] : ${CILIUM_PORTS}, 'fp': r}))`
  );
}

function variablesFor(prefix: string, root: string): Variable[] {
  const v = (name: string) => (prefix ? `${prefix}${name[0].toUpperCase()}${name.slice(1)}` : name);
  const rules = `variables.${v('egressRules')}`;
  return [
    {
      // Cilium rules come one list per spec: the walks below read both kinds as groups.
      name: v('egressRules'),
      expression: `${root} == null ? [] : (${root}.kind == 'NetworkPolicy' ? [${kubernetesRules(root)}] : ${ciliumRules(root)})`,
    },
    {
      name: v('netpolTooBig'),
      expression:
        `${rules}.map(g, size(g)).sum() > ${MAX_EGRESS_RULES} || ` +
        `${rules}.map(g, g.map(r, r.to.map(x, size(x)).sum() + r.ports.map(x, size(x)).sum()).sum()).sum() > ${MAX_PEERS_AND_PORTS} || ` +
        `${rules}.map(g, g.map(r, r.to.map(x, x.map(p, p.kind == 'ipBlock' ? size(p.except) : 0).sum()).sum()).sum()).sum() > ${MAX_EXCEPTS}`,
    },
  ];
}

/** The port group entry `p` covers the sensitive entry's protocol. */
function covers(entry: PortEntry): string {
  return entry.protocol === 'ANY' ? 'true' : `(p.protocol == 'ANY' || p.protocol == ${str(entry.protocol)})`;
}

/** The rule names a port of the entry by number or range. */
const names = (entry: PortEntry) => `r.ports.exists(x, x.exists(p, !p.all && ${covers(entry)} && p.lo <= ${entry.range.hi} && p.hi >= ${entry.range.lo}))`;

/** The rule allows every port of the entry's protocol. */
const allowsAll = (entry: PortEntry) => `(r.portsAll || r.ports.exists(x, x.exists(p, p.all && ${covers(entry)})))`;

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
export function cidrText(b: Block): string {
  if (b.version === 4) return `${[24n, 16n, 8n, 0n].map((s) => String((b.start >> s) & 0xffn)).join('.')}/${b.prefix}`;
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((s) => ((b.start >> s) & 0xffffn).toString(16));
  return `${groups.join(':')}/${b.prefix}`;
}

/** Each block of N with the CEL that says the ipBlock peer `p` meets it, and that no except cuts the part it covers. */
function nodeParts(n: NodeRanges) {
  const c = 'cidr(p.cidr)';
  return n.blocks.map((b) => {
    const k = `cidr(${str(cidrText(b))})`;
    const meets = `${c}.ip().family() == ${b.version} && ${overlap(c, k)}`;
    // The part of N's block `k` the peer's cidr covers: the block itself, or the cidr inside it.
    const whole = `(${contains(c, k)} ? ${exceptsClear(k)} : ${exceptsClear(c)})`;
    return { b, k, meets, whole };
  });
}

/**
 * The ipBlock peer `p` reaches the nodes broadly: with assumed addresses, a block of /16 or
 * wider (IPv4; /48 IPv6) meeting a private range no except touches; with nodeCIDRs, at least
 * two node addresses or all of N in it, outside the excepts.
 */
function blockReaches(n: NodeRanges): string {
  const c = 'cidr(p.cidr)';
  const max = (b: Block) => (b.version === 4 ? 32 : 128);
  const parts = nodeParts(n);
  if (!n.known) {
    const broad = `(${c}.ip().family() == 4 ? ${c}.prefixLength() <= ${BROAD_PREFIX[4]} : ${c}.prefixLength() <= ${BROAD_PREFIX[6]})`;
    return `(${IP_BLOCK} && isCIDR(p.cidr) && ${broad} && (${parts.map((x) => `(${x.meets} && ${x.whole})`).join(' || ')}))`;
  }
  // Addresses counted per block of N, up to two: a part wider than one address counts two.
  const count = list(
    parts.map((x) => `(${x.meets} && ${x.whole} ? (${contains(c, x.k)} ? ${x.b.prefix < max(x.b) ? 2 : 1} : (${c}.prefixLength() < ${max(x.b)} ? 2 : 1)) : 0)`),
  );
  const allOfN = parts.map((x) => `(${c}.ip().family() == ${x.b.version} && ${contains(c, x.k)} && ${exceptsClear(x.k)})`).join(' && ');
  return `(${IP_BLOCK} && isCIDR(p.cidr) && (${count}.sum() >= 2 || (${allOfN})))`;
}

// Cilium entities that contain the nodes, and those that are only nodes (the engine's sets).
const NODE_ENTITIES = "['host', 'remote-node', 'cluster', 'all']";
const ONLY_NODE_ENTITIES = "['host', 'remote-node']";
// kube-apiserver runs on control-plane nodes: the entity reaches them on its own port.
const KUBE_APISERVER_PORT = 6443;

/** Some destination of rule `r` reaches the nodes broadly, for this sensitive entry. */
function reaches(n: NodeRanges, entry: PortEntry): string {
  const apiserver = entry.range.lo <= KUBE_APISERVER_PORT && KUBE_APISERVER_PORT <= entry.range.hi ? " || p.entity == 'kube-apiserver'" : '';
  return `(r.toAll || r.to.exists(x, x.exists(p, ${blockReaches(n)} || p.kind == 'nodes' || (p.kind == 'entity' && (p.entity in ${NODE_ENTITIES}${apiserver})))))`;
}

/** Every destination of rule `r` is a node: node peers, node entities, ipBlocks inside one block of N without excepts. */
function nodeOnlyRule(n: NodeRanges): string {
  const c = 'cidr(p.cidr)';
  const inN = n.known ? n.blocks.map((b) => contains(`cidr(${str(cidrText(b))})`, c)).join(' || ') : 'false';
  const nodeOnly = `p.kind == 'nodes' || (p.kind == 'entity' && p.entity in ${ONLY_NODE_ENTITIES}) || (${IP_BLOCK} && isCIDR(p.cidr) && size(p.except) == 0 && (${inN}))`;
  return `(!r.toAll && r.to.exists(x, size(x) > 0) && r.to.all(x, x.all(p, ${nodeOnly})))`;
}

/** Every destination is a node (nodeOnlyRule), and the ipBlocks among them are two addresses or all of N. */
function targets(n: NodeRanges): string {
  const c = 'cidr(p.cidr)';
  const anyBlock = `r.to.exists(x, x.exists(p, ${IP_BLOCK}))`;
  const single = 'cidr(p.cidr).prefixLength() == (cidr(p.cidr).ip().family() == 4 ? 32 : 128)';
  const two =
    `r.to.exists(x, x.exists(p, ${IP_BLOCK} && !(${single}))) || ` +
    `r.to.exists(x, x.exists(a, a.kind == 'ipBlock' && r.to.exists(y, y.exists(p, ${IP_BLOCK} && cidr(a.cidr).ip() != cidr(p.cidr).ip()))))`;
  const allOfN = n.known
    ? n.blocks.map((b) => `r.to.exists(x, x.exists(p, ${IP_BLOCK} && ${contains(c, `cidr(${str(cidrText(b))})`)}))`).join(' && ')
    : 'false';
  return `(${nodeOnlyRule(n)} && (!${anyBlock} || ${two} || (${allOfN})))`;
}

// --- the union: what the rules of one object open to a sensitive port together -----------
// The engine judges the blocks that every rule naming the port opens (and, with nodeCIDRs, the
// blocks of rules allowing every port to node addresses alone) together, when no rule is a
// finding alone. CEL has no interval arithmetic, but CIDRs nest or are disjoint, so the union
// of blocks without excepts is the sum over its largest blocks. The blocks are gathered into
// one flat list of strings (join and split: the API server's CEL has no flatten in every
// supported release), each distinct string taken once by its first index (indexOf over
// literal indexes: macros give none), and of equal CIDRs spelled differently the least string.

/** Literal indexes 0..MAX_PEERS_AND_PORTS-1: no object the VAP judges has more blocks. */
const INDEXES = list(Array.from({ length: MAX_PEERS_AND_PORTS }, (_, i) => String(i)));

// Weights of the blocks inside the assumed ranges, as powers of two from a literal list (CEL
// has no exponent). An IPv4 block counts its addresses (a /17 is 2^15, the threshold a /16's
// 2^16). IPv6 blocks are counted in two sums that fit int64: H in units of 2^25 for blocks of
// /103 or wider (at most 128 blocks of at most a /48's 2^55 units), and L in addresses for
// narrower ones (at most 128 × 2^24). H × 2^25 + L reaches a /48's 2^80 exactly when
// H + L / 2^25 (integer division) reaches 2^55, so the sum is exact without 128-bit integers.
const V6_UNIT_BITS = 25;
const V6_NARROWEST = 128 - V6_UNIT_BITS;
const POWERS = list(Array.from({ length: 56 }, (_, i) => String(2n ** BigInt(i))));
const V4_BROAD_BITS = 32 - BROAD_PREFIX[4];
const V6_BROAD_BITS = 128 - BROAD_PREFIX[6] - V6_UNIT_BITS;

/** The ipBlock peer `p` is one the union counts, whole (no except touches what it counts). */
function unionBlock(n: NodeRanges): string {
  if (n.known)
    return `(${IP_BLOCK} && isCIDR(p.cidr) && (${nodeParts(n)
      .map((x) => `(${x.meets} && ${x.whole})`)
      .join(' || ')}))`;
  const c = 'cidr(p.cidr)';
  const inside = n.blocks.map((b) => `(${c}.ip().family() == ${b.version} && ${contains(`cidr(${str(cidrText(b))})`, c)})`).join(' || ');
  return `(${IP_BLOCK} && isCIDR(p.cidr) && ${exceptsClear(c)} && (${inside}))`;
}

/** Rule `r` adds its blocks to the union for the entry. */
const opens = (n: NodeRanges, entry: PortEntry) => (n.known ? `(${names(entry)} || (${allowsAll(entry)} && ${nodeOnlyRule(n)}))` : names(entry));

/**
 * A block that meets N (or the assumed ranges) but that the VAP does not judge: a cidr that
 * cidr() refuses, or one with excepts. For the carried-over test of an UPDATE, which must not
 * say "new" where the engine may say "carried over".
 */
function unjudged(n: NodeRanges): string {
  const meets = nodeParts(n)
    .map((x) => `(${x.meets})`)
    .join(' || ');
  return `(${IP_BLOCK} && (!isCIDR(p.cidr) || (size(p.except) > 0 && (${meets}))))`;
}

function unionVariables(prefix: string, n: NodeRanges, entries: readonly PortEntry[]): Variable[] {
  const v = (name: string) => (prefix ? `${prefix}${name[0].toUpperCase()}${name.slice(1)}` : name);
  const rules = `variables.${v('egressRules')}`;
  return entries.flatMap((e, i): Variable[] => {
    const opened = `variables.${v(`netpolOpened${i}`)}`;
    const blocks = `variables.${v(`netpolBlocks${i}`)}`;
    const parsed = (strings: string) =>
      `${strings}.map(s, {'s': s, 'c': cidr(s), 'n': cidr(s).prefixLength(), 'ip': cidr(s).ip(), 'f': cidr(s).ip().family()})`;
    // Known N: two node addresses are two blocks that do not overlap (each holds one, or one
    // block alone holds two and is a finding by itself).
    const knownUnion = `${blocks}.exists(a, ${blocks}.exists(b, !(a.n <= b.n ? a.c.containsIP(b.ip) : b.c.containsIP(a.ip))))`;
    // Assumed N: the largest blocks (a block inside another, or equal to a lesser string, counts nothing).
    const covered = `${blocks}.exists(b, b.s != a.s && b.n <= a.n && b.c.containsIP(a.ip) && (b.n < a.n || b.s < a.s))`;
    const weight =
      `(a.f == 4 ? [a.n > ${BROAD_PREFIX[4]} ? variables.netpolPowers[32 - a.n] : variables.netpolPowers[${V4_BROAD_BITS}], 0, 0] : ` +
      `(a.n > ${V6_NARROWEST} ? [0, 0, variables.netpolPowers[128 - a.n]] : ` +
      `[0, a.n > ${BROAD_PREFIX[6]} ? variables.netpolPowers[${V6_NARROWEST} - a.n] : variables.netpolPowers[${V6_BROAD_BITS}], 0]))`;
    const assumedUnion =
      `[${blocks}.map(a, ${covered} ? [0, 0, 0] : ${weight})].exists(w, w.map(x, x[0]).sum() >= variables.netpolPowers[${V4_BROAD_BITS}] || ` +
      `w.map(x, x[1]).sum() + w.map(x, x[2]).sum() / variables.netpolPowers[${V6_UNIT_BITS}] >= variables.netpolPowers[${V6_BROAD_BITS}])`;
    return [
      {
        name: v(`netpolOpened${i}`),
        expression:
          `${rules}.map(g, g.filter(r, ${opens(n, e)}).map(r, r.to.map(x, x.filter(p, ${unionBlock(n)}).map(p, p.cidr).join(' ')).join(' ')).join(' '))` +
          `.join(' ').split(' ').filter(s, s != '')`,
      },
      {
        name: v(`netpolBlocks${i}`),
        expression: n.known ? parsed(opened) : parsed(`${INDEXES}.filter(k, k < size(${opened}) && ${opened}.indexOf(${opened}[k]) == k).map(k, ${opened}[k])`),
      },
      { name: v(`netpolUnion${i}`), expression: `size(${opened}) > 1 && (${n.known ? knownUnion : assumedUnion})` },
      ...(prefix
        ? [{ name: v(`netpolUnjudged${i}`), expression: `${rules}.exists(g, g.exists(r, ${opens(n, e)} && r.to.exists(x, x.exists(p, ${unjudged(n)}))))` }]
        : []),
    ];
  });
}

/** The union's records, one per entry whose blocks add up while no rule is a finding alone. */
function unionRecords(n: NodeRanges, entries: readonly { entry: PortEntry; found: string }[]): string {
  const reach = n.known
    ? 'node addresses: their ipBlocks together hold two or more of them'
    : `likely node addresses (private ranges; set nodeCIDRs to be exact): their ipBlocks together hold as many of them as a /${BROAD_PREFIX[4]} (/${BROAD_PREFIX[6]})`;
  const parts = entries.map(({ entry, found }, i) => {
    const opened = `variables.netpolOpened${i}`;
    const what = `${entry.name} ${formatRange(entry.range)}/${entry.protocol === 'ANY' ? 'any protocol' : entry.protocol}`;
    const shown = `${list(['0', '1', '2', '3', '4'])}.filter(k, k < size(${opened})).map(k, ${opened}[k]).join(', ')`;
    const message =
      `${str(`egress rules let pods reach ${what} on ${reach} (to: `)} + ${shown} + (size(${opened}) > 5 ? ' and ' + string(size(${opened}) - 5) + ' more' : '') + ` +
      `'); allow the port only to pod selectors, or except the node addresses from the ipBlocks'`;
    // Carried over when the old object had this union finding: its blocks added up and no rule
    // was a finding alone (the engine's key differs then), or it held a block the VAP cannot judge.
    const carried = `(!variables.oldEgressRules.exists(g, g.exists(r, ${found})) && variables.oldNetpolUnion${i}) || variables.oldNetpolUnjudged${i}`;
    const record = `{'count': 1, 'carried': ${carried}, 'message': ${message}}`;
    return `(!variables.egressRules.exists(g, g.exists(r, ${found})) && variables.netpolUnion${i} ? [${record}] : [])`;
  });
  return `[${parts.join(' + ')}]`;
}

const PEER_TEXT =
  "(p.kind == 'ipBlock' ? p.cidr : (p.kind == 'pods' ? 'selected pods' : (p.kind == 'entity' ? 'entity ' + p.entity : (p.kind == 'nodes' ? 'nodes' : 'other'))))";

export const netpolSensitiveExposure: RuleCompiler = (policy) => {
  const n = nodeRanges(policy.nodeCIDRs);
  const target = targets(n);
  const nodeWord = n.known ? 'node addresses' : 'likely node addresses (private ranges; set nodeCIDRs to be exact)';
  const toText = `(r.toAll ? 'every destination' : r.to.map(x, x.map(p, ${PEER_TEXT}).join(', ')).filter(t, t != '').join(', '))`;
  const entries = policy.sensitivePorts.map((e) => {
    const reach = reaches(n, e);
    const what = `${e.name} ${formatRange(e.range)}/${e.protocol === 'ANY' ? 'any protocol' : e.protocol}`;
    const message =
      `(${names(e)} && ${reach} ? ${str(`egress rule lets pods reach ${what} on `)} + (r.toAll ? 'the nodes (the rule allows every destination)' : ${str(nodeWord)} + ' (to: ' + ${toText} + ')') + ` +
      `'; allow the port only to pod selectors, or except the node addresses from the ipBlock' : ` +
      `${str(`egress rule allows every ${e.protocol === 'ANY' ? 'any protocol' : e.protocol} port, ${what} included, to node addresses (to: `)} + ${toText} + ${str(`); list only the ports the pods need (not ${formatRange(e.range)})`)})`;
    return { found: `((${names(e)} && ${reach}) || (${allowsAll(e)} && ${target}))`, message };
  });
  const carried = 'variables.oldEgressRules.exists(og, og.exists(o, o.toAll == r.toAll && o.portsAll == r.portsAll && o.to == r.to && o.ports == r.ports))';
  // One record per rule with findings (their count, the first one's message), one list per group,
  // and one list of the union's records.
  const messages = entries.reduceRight((rest, e) => `(${e.found} ? ${e.message} : ${rest})`, "''");
  const records =
    entries.length === 0
      ? '[]'
      : `variables.egressRules.map(g, g.filter(r, ${entries.map((e) => e.found).join(' || ')}).map(r, ` +
        `{'count': ${entries.map((e) => `(${e.found} ? 1 : 0)`).join(' + ')}, 'carried': ${carried}, 'message': ${messages}})) + ` +
        unionRecords(
          n,
          entries.map((e, i) => ({ entry: policy.sensitivePorts[i], found: e.found })),
        );
  return {
    rule: 'netpol-sensitive-exposure',
    resources: [NETWORK_POLICIES, CILIUM_NETWORK_POLICIES, CILIUM_CLUSTERWIDE_NETWORK_POLICIES],
    variables: [
      ...variablesFor('', 'object'),
      ...variablesFor('old', 'oldObject'),
      { name: 'netpolPowers', expression: POWERS },
      ...unionVariables('', n, policy.sensitivePorts),
      ...unionVariables('old', n, policy.sensitivePorts),
    ],
    records,
    skip: 'variables.netpolTooBig || variables.oldNetpolTooBig',
    limitations: [
      'admin network policies, Calico policies and the ingress of Cilium host policies (clusterwide with nodeSelector) are not checked; the webhook checks them',
      'node addresses are the policy nodeCIDRs or the assumed private ranges: a VAP cannot read Node objects',
      'an ipBlock or CIDR set whose except list cuts part of a node range, or whose cidr cidr() refuses (IPv4-mapped IPv6, leading zeros), is not judged',
      `policies with more than ${MAX_EGRESS_RULES} egress rules, ${MAX_PEERS_AND_PORTS} peers and ports or ${MAX_EXCEPTS} excepts, new or old, are not checked (cost budget)`,
      'on UPDATE, a rule counts as the old one when its ports and CIDR peers are the same (selectors are not compared)',
      'ipBlocks that reach the nodes only together are judged as the webhook judges them, except blocks with excepts or that cidr() refuses, which do not count toward the union; on UPDATE such a block in the old object makes a union finding count as carried over',
    ],
    carriedMeaning: "'a new ' + object.kind + ' like this will be denied'",
  };
};
