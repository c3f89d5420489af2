// netpol-sensitive-exposure: a network policy that lets pods reach a sensitive node port
// (the kubelet's 10250/10255 by default) broadly. The kubelet API runs exec, logs and
// port-forward for any container on the node; reaching it from any pod is the path
// attackers take from one compromised pod to the node's secrets. The kubelet is not a pod,
// so what counts is egress from pods to node addresses, and ingress to nodes in a host policy
// (Cilium's, Calico's for host endpoints); a pod-level ingress rule on 10250 (metrics-server
// listens there) never is. Only allowing rules open; where a kind orders its rules (the admin
// network policies, Calico), an earlier deny or pass for the same traffic hides a later allow.
import { ruleHash, type NetRule, type Peer, type PortSel } from '../facts/network-rules.js';
import type { CheckedKind } from '../facts/kinds.js';
import {
  EMPTY_SET,
  countCommon,
  countCommonOf,
  intersect,
  isEmpty,
  isSubset,
  overlaps,
  setOf,
  size,
  sizeOf,
  subtract,
  unionAll,
  type AddressSet,
} from '../net/address-set.js';
import { parseBlockOrThrow } from '../net/cidr.js';
import { Budget, ORDERED_RULE_STEPS } from '../limits.js';
import type { IpBlock } from '../net/ip-block.js';
import type { NodeAddresses } from '../net/node-addresses.js';
import { formatRange, inRange, rangeContains, rangesOverlap } from '../ports.js';
import type { PortEntry } from '../policy/model.js';
import type { Rule, RuleFinding } from './rule.js';

// Thresholds (docs/rules.md, "What counts, for every kind"): with assumed node addresses an ipBlock
// counts as broad from /16 (IPv4) or /48 (IPv6) up, so a /16 covers a typical cluster's node
// subnet and a /48 a typical IPv6 site allocation (RFC 6177); host-policy CIDR sources alike.
const BROAD_PREFIX = { 4: 16, 6: 48 } as const;
// What one such block holds, which the blocks an object opens to a port must reach together.
const BROAD_SIZE = { 4: 2n ** BigInt(32 - BROAD_PREFIX[4]), 6: 2n ** BigInt(128 - BROAD_PREFIX[6]) } as const;

// Cilium entities that contain the nodes (host = the local node, remote-node = the others,
// cluster and all include both); world is outside the cluster.
const NODE_ENTITIES = new Set(['host', 'remote-node', 'cluster', 'all']);
const ONLY_NODE_ENTITIES = new Set(['host', 'remote-node']);
const BROAD_SOURCE_ENTITIES = new Set(['world', 'world-ipv4', 'world-ipv6', 'all', 'cluster']);
// kube-apiserver runs on control-plane nodes: the entity reaches them on its own port.
const KUBE_APISERVER_PORT = 6443;

const protocolCovers = (sel: PortSel, entry: PortEntry): boolean => sel.protocol === 'ANY' || entry.protocol === 'ANY' || sel.protocol === entry.protocol;

/** The lowest port of the entry that the rule names by number or range, or null. */
function namedPort(ports: NetRule['ports'], entry: PortEntry): number | null {
  if (ports === 'all') return null;
  let lowest: number | null = null;
  for (const sel of ports) {
    if (!sel.range || !protocolCovers(sel, entry)) continue;
    const lo = Math.max(sel.range.lo, entry.range.lo);
    if (lo <= Math.min(sel.range.hi, entry.range.hi) && (lowest === null || lo < lowest)) lowest = lo;
  }
  return lowest;
}

const allowsAllOf = (ports: NetRule['ports'], entry: PortEntry): boolean =>
  ports === 'all' || ports.some((sel) => sel.range === null && protocolCovers(sel, entry) && !(sel.except ?? []).some((e) => rangeContains(e, entry.range)));

function blockReachesNodes(block: IpBlock, nodes: NodeAddresses): boolean {
  if (nodes.known) {
    // Counted only up to two, so a cluster's thousands of node addresses are not walked per peer.
    return countCommon(block.addresses, nodes.set, 2n) >= 2n || (!isEmpty(nodes.set) && isSubset(nodes.set, block.addresses));
  }
  return block.prefix <= BROAD_PREFIX[block.version] && overlaps(block.addresses, nodes.set);
}

function reachesNodesBroadly(peers: NetRule['peers'], nodes: NodeAddresses, entry: PortEntry): boolean {
  if (peers === 'all') return true;
  return peers.some((p) => {
    switch (p.type) {
      case 'ipBlock':
        return blockReachesNodes(p.block, nodes);
      case 'nodes':
      case 'endpoints':
        return true;
      case 'entity':
        return NODE_ENTITIES.has(p.entity) || (p.entity === 'kube-apiserver' && inRange(entry.range, KUBE_APISERVER_PORT));
      default:
        return false;
    }
  });
}

/** Destinations that are nothing but nodes: all-ports access there is node access. */
function targetsNodes(peers: NetRule['peers'], nodes: NodeAddresses): boolean {
  if (peers === 'all' || peers.length === 0) return false;
  const nodeOnly = peers.every((p) => p.type === 'ipBlock' || p.type === 'nodes' || (p.type === 'entity' && ONLY_NODE_ENTITIES.has(p.entity)));
  if (!nodeOnly) return false;
  const blocks = peers.flatMap((p) => (p.type === 'ipBlock' ? [p.block.addresses] : []));
  if (blocks.length === 0) return true;
  if (!nodes.known) return false;
  const addresses = unionAll(blocks);
  return isSubset(addresses, nodes.set) && (size(addresses) >= 2n || (!isEmpty(nodes.set) && isSubset(nodes.set, addresses)));
}

function sourcesBroad(peers: NetRule['peers']): boolean {
  if (peers === 'all') return true;
  return peers.some(
    (p) =>
      (p.type === 'entity' && BROAD_SOURCE_ENTITIES.has(p.entity)) ||
      p.type === 'endpoints' ||
      (p.type === 'ipBlock' && p.block.prefix <= BROAD_PREFIX[p.block.version]),
  );
}

// A message names a few peers and excepts and counts the rest: a policy may list hundreds of
// thousands (limits.ts), and the message is copied into every report of the finding.
const LISTED_IN_MESSAGE = 5;

function someOf<T>(items: readonly T[], describe: (item: T) => string): string {
  const shown = items.slice(0, LISTED_IN_MESSAGE).map(describe).join(', ');
  return items.length > LISTED_IN_MESSAGE ? `${shown} and ${items.length - LISTED_IN_MESSAGE} more` : shown;
}

function describePeer(p: Peer): string {
  switch (p.type) {
    case 'ipBlock':
      return p.except.length ? `${p.block.cidr} except ${someOf(p.except, String)}` : p.block.cidr;
    case 'pods':
      return 'selected pods';
    case 'entity':
      return `entity ${p.entity}`;
    case 'nodes':
      return p.what ?? 'nodes';
    case 'endpoints':
      return p.what;
    case 'other':
      return p.what;
  }
}

const describePeers = (peers: NetRule['peers'], none: string): string => (peers === 'all' ? none : someOf(peers, describePeer) || 'nothing');

function check(rule: NetRule, peers: NetRule['peers'], entry: PortEntry, nodes: () => NodeAddresses, kind: CheckedKind): RuleFinding | null {
  const named = namedPort(rule.ports, entry);
  const allowsAll = allowsAllOf(rule.ports, entry);
  // Most rules name neither this port nor every port: nothing to judge, nothing to build.
  if (named === null && !allowsAll) return null;
  if (rule.direction === 'host-ingress') {
    if (!sourcesBroad(peers)) return null;
    const port = named ?? entry.range.lo;
    const fix =
      kind.type === 'calico-policy'
        ? 'the control plane nodes (their nets or host endpoints)'
        : 'the control plane (entities kube-apiserver, remote-node, host)';
    return {
      path: rule.path,
      value: port,
      message: `host-policy ingress rule opens ${sensitive(entry, port)} on the nodes to ${describePeers(peers, 'every source')}; allow it only from ${fix}`,
      key: findingKey(rule, entry),
    };
  }
  if (named !== null && reachesNodesBroadly(peers, nodes(), entry)) {
    const fix = viaIpBlock(peers)
      ? 'allow the port only to pod selectors, or except the node addresses from the ipBlock'
      : 'allow the port only to pod selectors';
    return {
      path: rule.path,
      value: named,
      message: `egress rule lets pods reach ${sensitive(entry, named)} on ${nodeWord(peers, nodes())}${peers === 'all' ? '' : ` (to: ${describePeers(peers, '')})`}; ${fix}`,
      key: findingKey(rule, entry),
    };
  }
  if (allowsAll && targetsNodes(peers, nodes())) {
    return {
      path: rule.path,
      value: entry.range.lo,
      message:
        `egress rule allows every ${protocolText(entry)} port, ${sensitive(entry, entry.range.lo)} included, to node addresses ` +
        `(to: ${describePeers(peers, 'every destination')}); list only the ports the pods need (not ${formatRange(entry.range)})`,
      key: findingKey(rule, entry),
    };
  }
  return null;
}

const protocolText = (entry: PortEntry): string => (entry.protocol === 'ANY' ? 'any protocol' : entry.protocol);

const sensitive = (entry: PortEntry, port: number): string => `${entry.name} ${port}/${protocolText(entry)}`;

const findingKey = (rule: NetRule, entry: PortEntry): string => `netpol-sensitive-exposure|${rule.direction}|${ruleHash(rule)}|${entry.name}`;

const viaIpBlock = (peers: NetRule['peers']): boolean => peers !== 'all' && peers.some((p) => p.type === 'ipBlock');

function nodeWord(peers: NetRule['peers'], nodes: NodeAddresses): string {
  if (peers === 'all') return 'the nodes (the rule allows every destination)';
  if (!viaIpBlock(peers)) return 'the nodes';
  return nodes.known ? 'node addresses' : 'likely node addresses (private ranges; set nodeCIDRs to be exact)';
}

// --- first match: what earlier deny and pass rules of the same object take away ----------

/** The traffic to one sensitive port that earlier deny or pass rules of one direction match. */
interface Blocked {
  all: boolean;
  /** Every node: a nodes peer with an empty selector, or Calico's all() / global(). */
  allNodes: boolean;
  addresses: AddressSet;
  /** Selector-based peers blocked as written (`nodes:<selector>`, `endpoints:<selector>`, `entity:<name>`). */
  selectors: Set<string>;
  /** Whether `addresses` hold every node address, as last worked out, and for which addresses. */
  nodesCovered?: { for: AddressSet; covered: boolean };
}

const EVERY_ADDRESS = setOf(['0.0.0.0/0', '::/0'].map(parseBlockOrThrow));

const selectorKey = (p: Peer): string | null => {
  if (p.type === 'nodes') return `nodes:${p.selector ?? ''}`;
  if (p.type === 'endpoints') return `endpoints:${p.selector}`;
  if (p.type === 'entity') return `entity:${p.entity}`;
  return null;
};

/** A deny or pass hides an allow only for a port it matches entirely, on the entry's protocol. */
function coversEntry(ports: NetRule['ports'], entry: PortEntry): boolean {
  if (ports === 'all') return true;
  return ports.some(
    (sel) =>
      (sel.protocol === 'ANY' || sel.protocol === entry.protocol) &&
      (sel.range !== null ? rangeContains(sel.range, entry.range) : !(sel.except ?? []).some((e) => rangesOverlap(e, entry.range))),
  );
}

const intervalCount = (a: AddressSet): number => a.v4.length + a.v6.length;

function block(into: Blocked, peers: NetRule['peers'], steps: Budget, path: string): void {
  if (peers === 'all') {
    into.all = true;
    return;
  }
  // The rule's blocks are merged in one sort: a union per peer would be quadratic in the peers.
  const addresses = [into.addresses];
  for (const p of peers) {
    if (p.type === 'ipBlock') addresses.push(p.block.addresses);
    if ((p.type === 'nodes' && !p.selector) || p.type === 'endpoints') into.allNodes = true;
    const key = selectorKey(p);
    if (key !== null) into.selectors.add(key);
  }
  if (addresses.length > 1) {
    steps.spend(
      addresses.reduce((n, a) => n + intervalCount(a), 0),
      path,
    );
    into.addresses = unionAll(addresses);
  }
}

/**
 * The peers of an allow rule that earlier rules leave open: 'all' or a list, from which
 * whatever a deny or pass before it already matched is taken out (an ipBlock loses the
 * blocked addresses; a selector peer goes when the same selector, or every node, was blocked).
 */
function unblocked(rule: NetRule, b: Blocked, nodes: NodeAddresses, steps: Budget): NetRule['peers'] {
  if (b.all) return [];
  const peers = rule.peers;
  if (rule.direction === 'host-ingress') {
    if (peers === 'all') return isSubset(EVERY_ADDRESS, b.addresses) ? [] : 'all';
    return peers.filter((p) => {
      if (p.type === 'ipBlock') {
        steps.spend(intervalCount(p.block.addresses), rule.path);
        return !isSubset(p.block.addresses, b.addresses);
      }
      const key = selectorKey(p);
      return key === null || !b.selectors.has(key);
    });
  }
  // Worked out again only when the blocked addresses changed, not for every allow rule.
  if (!b.allNodes && b.nodesCovered?.for !== b.addresses) {
    steps.spend(intervalCount(nodes.set), rule.path);
    b.nodesCovered = { for: b.addresses, covered: !isEmpty(nodes.set) && isSubset(nodes.set, b.addresses) };
  }
  const nodesBlocked = b.allNodes || b.nodesCovered!.covered;
  if (peers === 'all') return nodesBlocked ? [] : 'all';
  return peers.flatMap((p): Peer[] => {
    switch (p.type) {
      case 'ipBlock': {
        if (b.allNodes) return [];
        const left = subtract(p.block.addresses, b.addresses);
        steps.spend(intervalCount(p.block.addresses) + intervalCount(left), rule.path);
        if (isEmpty(left)) return [];
        return [left === p.block.addresses ? p : { ...p, block: { ...p.block, addresses: left } }];
      }
      case 'nodes':
      case 'endpoints':
        return nodesBlocked || b.selectors.has(selectorKey(p)!) ? [] : [p];
      case 'entity':
        return b.selectors.has(selectorKey(p)!) ? [] : [p];
      default:
        return [p];
    }
  });
}

// --- the union: what all the rules of one object open to a sensitive port together -------

type IpBlockPeer = Extract<Peer, { type: 'ipBlock' }>;

/** The ipBlocks one allow rule opens to a sensitive port, after excepts and earlier deny or pass rules. */
interface Opened {
  rule: NetRule;
  blocks: readonly IpBlockPeer[];
}

/** Per direction and sensitive port: what the rules opened, in rule order, and whether one was a finding alone. */
interface Openings {
  foundAlone: boolean;
  opened: Opened[];
  blocks: number;
}

/**
 * The ipBlock peers of a peer list, kept per list: a rule's peers are the same list for every
 * sensitive port (unless deny or pass rules cut them), so they are picked out once, and the
 * union of two ports opened by the same rules is recognised by identity (UnionCache).
 */
class IpBlocks {
  readonly #of = new Map<readonly Peer[], readonly IpBlockPeer[]>();

  of(peers: readonly Peer[]): readonly IpBlockPeer[] {
    let blocks = this.#of.get(peers);
    if (!blocks) this.#of.set(peers, (blocks = peers.filter((p): p is IpBlockPeer => p.type === 'ipBlock')));
    return blocks;
  }
}

/**
 * The blocks a rule adds to the union for this port: every ipBlock of a rule that names the
 * port (or, for host ingress, opens it at all), and the blocks of a rule that allows every
 * port to node addresses alone (what targetsNodes judges: with known nodes, blocks inside N).
 * A rule that allows every port to broader destinations adds nothing: allowing everything
 * there is no worse than no policy, as for one rule alone.
 */
function opened(rule: NetRule, peers: NetRule['peers'], entry: PortEntry, nodes: () => NodeAddresses, ipBlocks: IpBlocks): readonly IpBlockPeer[] {
  if (peers === 'all') return [];
  const named = namedPort(rule.ports, entry) !== null;
  if (named || (rule.direction === 'host-ingress' && allowsAllOf(rule.ports, entry))) return ipBlocks.of(peers);
  if (rule.direction === 'host-ingress' || !allowsAllOf(rule.ports, entry)) return [];
  const n = nodes();
  const nodeOnly = peers.every((p) => p.type === 'ipBlock' || p.type === 'nodes' || (p.type === 'entity' && ONLY_NODE_ENTITIES.has(p.entity)));
  const blocks = ipBlocks.of(peers);
  return n.known && nodeOnly && blocks.every((p) => isSubset(p.block.addresses, n.set)) ? blocks : [];
}

/**
 * Whether the union of the opened blocks reaches what one broad block would: with known node
 * addresses, two of them or all; with assumed ones, as many addresses of the assumed ranges as
 * a /16 (/48) holds; for host ingress, as many sources as a /16 (/48).
 */
function unionBroad(direction: NetRule['direction'], union: AddressSet, nodes: NodeAddresses): boolean {
  if (direction === 'host-ingress') return sizeOf(union, 4) >= BROAD_SIZE[4] || sizeOf(union, 6) >= BROAD_SIZE[6];
  if (nodes.known) return countCommon(union, nodes.set, 2n) >= 2n || (!isEmpty(nodes.set) && isSubset(nodes.set, union));
  const inside = intersect(union, nodes.set);
  return sizeOf(inside, 4) >= BROAD_SIZE[4] || sizeOf(inside, 6) >= BROAD_SIZE[6];
}

/**
 * What the union could hold at most, block by block (a block inside another counted twice):
 * below the threshold, the union cannot reach it, and the sort is not needed. Most objects with
 * many blocks are in that case (public addresses, a few private ones).
 */
function mayBeBroad(direction: NetRule['direction'], opened: readonly Opened[], nodes: NodeAddresses): boolean {
  const knownNodes = direction === 'egress' && nodes.known;
  const within = direction === 'host-ingress' ? EVERY_ADDRESS : nodes.set;
  let v4 = 0n;
  let v6 = 0n;
  for (const o of opened) {
    for (const b of o.blocks) {
      if (knownNodes) {
        // Two node addresses of either version, or the one address of a one-address N.
        v4 += countCommon(b.block.addresses, within, 2n);
        if (v4 >= 2n) return true;
      } else {
        v4 += countCommonOf(b.block.addresses, within, 4, BROAD_SIZE[4]);
        v6 += countCommonOf(b.block.addresses, within, 6, BROAD_SIZE[6]);
        if (v4 >= BROAD_SIZE[4] || v6 >= BROAD_SIZE[6]) return true;
      }
    }
  }
  return knownNodes && v4 > 0n && size(nodes.set) === 1n;
}

/**
 * The union of the last openings, kept for the next: the sensitive ports of a policy (10250
 * and 10255) are mostly opened by the same rules, whose blocks then need one sort, not one per
 * port. Comparing two openings costs a pass over their rules, the sort n log n in their blocks.
 */
class UnionCache {
  #opened: readonly Opened[] = [];
  #union: AddressSet = EMPTY_SET;

  of(opened: readonly Opened[]): AddressSet {
    const last = this.#opened;
    if (opened.length !== last.length || opened.some((o, i) => o.blocks !== last[i].blocks)) {
      this.#opened = opened;
      const sets: AddressSet[] = [];
      for (const o of opened) for (const b of o.blocks) sets.push(b.block.addresses);
      this.#union = unionAll(sets);
    }
    return this.#union;
  }
}

/**
 * A finding when the blocks opened to one port add up to a broad destination (or source) while
 * no rule was a finding alone. The work is one sort and merge of the opened blocks per port
 * (intervals.ts), as for reading them: bounded by the CIDRs an object may hold (limits.ts
 * NETWORK_POLICY_CIDRS) and, for blocks that earlier deny or pass rules cut, by the steps
 * already counted for the cuts.
 */
function unionFinding(
  direction: NetRule['direction'],
  o: Openings,
  entry: PortEntry,
  nodes: NodeAddresses,
  kind: CheckedKind,
  unions: UnionCache,
): RuleFinding | null {
  // One block is judged by the rule that holds it: only two or more can add up to more.
  if (o.foundAlone || o.blocks < 2 || !mayBeBroad(direction, o.opened, nodes) || !unionBroad(direction, unions.of(o.opened), nodes)) return null;
  // The blocks that count: those holding node addresses (for host ingress, every source).
  const counted = o.opened
    .map((x) => (direction === 'host-ingress' ? x : { rule: x.rule, blocks: x.blocks.filter((b) => overlaps(b.block.addresses, nodes.set)) }))
    .filter((x) => x.blocks.length > 0);
  const port = namedPort(counted[0].rule.ports, entry) ?? entry.range.lo;
  const path = counted[0].rule.path;
  const finding: RuleFinding = { path, value: port, message: unionMessage(direction, counted, entry, port, nodes, kind), key: unionKey(direction, entry) };
  // Every rule that adds to the union, for a remediation that must cut the port from each
  // (a Cilium rule with toCIDR and toCIDRSet is two facts with one path, named once).
  const related = [...new Set(counted.map((x) => x.rule.path))].filter((p) => p !== path);
  if (related.length > 0) finding.relatedPaths = related;
  return finding;
}

function unionMessage(
  direction: NetRule['direction'],
  counted: readonly Opened[],
  entry: PortEntry,
  port: number,
  nodes: NodeAddresses,
  kind: CheckedKind,
): string {
  const one = counted.length === 1;
  const where = `${one ? 'rule' : 'rules'} ${someOf(
    counted.map((x) => x.rule.path),
    String,
  )}`;
  // At most LISTED_IN_MESSAGE blocks are described; the rest are only counted.
  const shown: IpBlockPeer[] = [];
  let total = 0;
  for (const x of counted) {
    for (const b of x.blocks) if (shown.length < LISTED_IN_MESSAGE) shown.push(b);
    total += x.blocks.length;
  }
  const peers = `${shown.map(describePeer).join(', ')}${total > shown.length ? ` and ${total - shown.length} more` : ''}`;
  const together = `${one ? 'its' : 'their'} ipBlocks together`;
  if (direction === 'host-ingress') {
    const fix =
      kind.type === 'calico-policy'
        ? 'the control plane nodes (their nets or host endpoints)'
        : 'the control plane (entities kube-apiserver, remote-node, host)';
    return (
      `host-policy ingress ${where} ${one ? 'opens' : 'open'} ${sensitive(entry, port)} on the nodes to broad sources: ${together} hold as many ` +
      `addresses as a /${BROAD_PREFIX[4]} (/${BROAD_PREFIX[6]}) (from: ${peers}); allow it only from ${fix}`
    );
  }
  const reach = nodes.known
    ? `node addresses: ${together} hold two or more of them`
    : `likely node addresses (private ranges; set nodeCIDRs to be exact): ${together} hold as many of them as a /${BROAD_PREFIX[4]} (/${BROAD_PREFIX[6]})`;
  return `egress ${where} ${one ? 'lets' : 'let'} pods reach ${sensitive(entry, port)} on ${reach} (to: ${peers}); allow the port only to pod selectors, or except the node addresses from the ipBlocks`;
}

// One union finding per direction and sensitive port: an UPDATE keeps it (as carried over)
// while the object's blocks still add up, whichever rules hold them.
const unionKey = (direction: NetRule['direction'], entry: PortEntry): string => `netpol-sensitive-exposure|${direction}|union|${entry.name}`;

export const netpolSensitiveExposure: Rule<'netpol-sensitive-exposure'> = {
  id: 'netpol-sensitive-exposure',
  title: 'Network policy opens a sensitive node port broadly',
  defaultAction: 'deny',
  category: 'Network policies',
  lane: null,
  help:
    'A NetworkPolicy egress rule (or a Cilium, AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy or Calico egress rule) that names a sensitive port (kubelet 10250/10255 by default) with ' +
    'destinations that include node addresses broadly, or that allows every port to destinations that are only nodes, lets ' +
    'pods reach the kubelet API. So does an ingress rule of a host policy (CiliumClusterwideNetworkPolicy with ' +
    'nodeSelector, Calico GlobalNetworkPolicy for host endpoints) that opens the port to broad sources. Only allowing rules ' +
    'count; an earlier Deny or Pass in the same object hides a later Allow for the same traffic. Allow such ports only to pod selectors, except the node addresses ' +
    'from ipBlocks, or set nodeCIDRs so the analysis is exact. On Cilium defaults, CIDR selectors do not match node ' +
    'addresses, so CIDR-based findings are latent there until a CNI setting or a migration activates them.',
  appliesTo: (kind) => kind.type === 'network-policy' || kind.type === 'cilium-policy' || kind.type === 'admin-network-policy' || kind.type === 'calico-policy',
  check({ facts, policy, nodes, kind }) {
    const out: RuleFinding[] = [];
    // Per direction and sensitive port; only kinds with deny or pass rules ever fill it.
    let blocked: Map<string, Blocked> | null = null;
    // The work of weighing deny and pass rules against later allows is a product no object
    // size bounds (limits.ts ORDERED_RULE_STEPS): counted, and stopped past the budget.
    const steps = new Budget(ORDERED_RULE_STEPS);
    const entries = policy.sensitivePorts;
    // Per direction and sensitive port, in rule order, so the first block names the first rule.
    const openings = new Map<string, Openings>();
    const ipBlocks = new IpBlocks();
    for (const rule of facts.networkRules) {
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i];
        const key = `${rule.direction}|${i}`;
        if (rule.action !== 'allow') {
          if (rule.narrowed || !coversEntry(rule.ports, entry)) continue;
          blocked ??= new Map();
          let b = blocked.get(key);
          if (!b) blocked.set(key, (b = { all: false, allNodes: false, addresses: EMPTY_SET, selectors: new Set() }));
          block(b, rule.peers, steps, rule.path);
          continue;
        }
        const b = blocked?.get(key);
        const peers = b ? unblocked(rule, b, nodes(), steps) : rule.peers;
        const f = check(rule, peers, entry, nodes, kind);
        let o = openings.get(key);
        if (f) {
          out.push(f);
          if (o) o.foundAlone = true;
          else openings.set(key, { foundAlone: true, opened: [], blocks: 0 });
          continue;
        }
        if (o?.foundAlone) continue;
        const more = opened(rule, peers, entry, nodes, ipBlocks);
        if (more.length === 0) continue;
        if (!o) openings.set(key, (o = { foundAlone: false, opened: [], blocks: 0 }));
        o.opened.push({ rule, blocks: more });
        o.blocks += more.length;
      }
    }
    // Blocks that no rule opens broadly alone may still do so together (split into /17s, one
    // /32 per node): judged once per direction and port, over what every rule opened.
    const unions = new UnionCache();
    for (const [key, o] of openings) {
      const [direction, i] = key.split('|');
      const f = unionFinding(direction as NetRule['direction'], o, entries[Number(i)], nodes(), kind, unions);
      if (f) out.push(f);
    }
    return out;
  },
};
