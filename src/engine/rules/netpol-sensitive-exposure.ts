// netpol-sensitive-exposure: a network policy that lets pods reach a sensitive node port
// (the kubelet's 10250/10255 by default) broadly. The kubelet API runs exec, logs and
// port-forward for any container on the node; reaching it from any pod is the path
// attackers take from one compromised pod to the node's secrets. The kubelet is not a pod,
// so what counts is egress from pods to node addresses, and ingress to nodes in a Cilium
// host policy; a pod-level ingress rule on 10250 (metrics-server listens there) never is.
import { ruleHash, type NetRule, type Peer, type PortSel } from '../facts/network-rules.js';
import { EMPTY_SET, intersect, isEmpty, isSubset, overlaps, size, union } from '../net/address-set.js';
import type { IpBlock } from '../net/ip-block.js';
import type { NodeAddresses } from '../net/node-addresses.js';
import { formatRange, inRange } from '../ports.js';
import type { PortEntry } from '../policy/model.js';
import type { Rule, RuleFinding } from './rule.js';

// Thresholds from the rule's specification (issue 2): with assumed node addresses an ipBlock
// counts as broad from /16 (IPv4) or /48 (IPv6) up, so a /16 covers a typical cluster's node
// subnet and a /48 a typical IPv6 site allocation (RFC 6177); host-policy CIDR sources alike.
const BROAD_PREFIX = { 4: 16, 6: 48 } as const;

// Cilium entities that contain the nodes (host = the local node, remote-node = the others,
// cluster and all include both); world is outside the cluster.
const NODE_ENTITIES = new Set(['host', 'remote-node', 'cluster', 'all']);
const ONLY_NODE_ENTITIES = new Set(['host', 'remote-node']);
const BROAD_SOURCE_ENTITIES = new Set(['world', 'world-ipv4', 'world-ipv6', 'all', 'cluster']);
// kube-apiserver runs on control-plane nodes: the entity reaches them on its own port.
const KUBE_APISERVER_PORT = 6443;

const protocolCovers = (sel: PortSel, entry: PortEntry): boolean =>
  sel.protocol === 'ANY' || entry.protocol === 'ANY' || sel.protocol === entry.protocol;

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
  ports === 'all' || ports.some((sel) => sel.range === null && protocolCovers(sel, entry));

function blockReachesNodes(block: IpBlock, nodes: NodeAddresses): boolean {
  if (nodes.known) {
    return size(intersect(block.addresses, nodes.set)) >= 2n || (!isEmpty(nodes.set) && isSubset(nodes.set, block.addresses));
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
  const addresses = blocks.reduce(union, EMPTY_SET);
  return isSubset(addresses, nodes.set) && (size(addresses) >= 2n || (!isEmpty(nodes.set) && isSubset(nodes.set, addresses)));
}

function sourcesBroad(peers: NetRule['peers']): boolean {
  if (peers === 'all') return true;
  return peers.some(
    (p) => (p.type === 'entity' && BROAD_SOURCE_ENTITIES.has(p.entity)) || (p.type === 'ipBlock' && p.block.prefix <= BROAD_PREFIX[p.block.version]),
  );
}

function describePeer(p: Peer): string {
  switch (p.type) {
    case 'ipBlock':
      return p.except.length ? `${p.block.cidr} except ${p.except.join(', ')}` : p.block.cidr;
    case 'pods':
      return 'selected pods';
    case 'entity':
      return `entity ${p.entity}`;
    case 'nodes':
      return 'nodes';
    case 'other':
      return p.what;
  }
}

const describePeers = (peers: NetRule['peers'], none: string): string => (peers === 'all' ? none : peers.map(describePeer).join(', ') || 'nothing');

function check(rule: NetRule, entry: PortEntry, nodes: () => NodeAddresses): RuleFinding | null {
  const named = namedPort(rule.ports, entry);
  const allowsAll = allowsAllOf(rule.ports, entry);
  // Most rules name neither this port nor every port: nothing to judge, nothing to build.
  if (named === null && !allowsAll) return null;
  if (rule.direction === 'host-ingress') {
    if (!sourcesBroad(rule.peers)) return null;
    const port = named ?? entry.range.lo;
    return {
      path: rule.path,
      value: port,
      message:
        `host-policy ingress rule opens ${sensitive(entry, port)} on the nodes to ${describePeers(rule.peers, 'every source')}; ` +
        `allow it only from the control plane (entities kube-apiserver, remote-node, host)`,
      key: findingKey(rule, entry),
    };
  }
  if (named !== null && reachesNodesBroadly(rule.peers, nodes(), entry)) {
    const fix = viaIpBlock(rule) ? 'allow the port only to pod selectors, or except the node addresses from the ipBlock' : 'allow the port only to pod selectors';
    return {
      path: rule.path,
      value: named,
      message:
        `egress rule lets pods reach ${sensitive(entry, named)} on ${nodeWord(rule, nodes())}${rule.peers === 'all' ? '' : ` (to: ${describePeers(rule.peers, '')})`}; ${fix}`,
      key: findingKey(rule, entry),
    };
  }
  if (allowsAll && targetsNodes(rule.peers, nodes())) {
    return {
      path: rule.path,
      value: entry.range.lo,
      message:
        `egress rule allows every ${protocolText(entry)} port, ${sensitive(entry, entry.range.lo)} included, to node addresses ` +
        `(to: ${describePeers(rule.peers, 'every destination')}); list only the ports the pods need (not ${formatRange(entry.range)})`,
      key: findingKey(rule, entry),
    };
  }
  return null;
}

const protocolText = (entry: PortEntry): string => (entry.protocol === 'ANY' ? 'any protocol' : entry.protocol);

const sensitive = (entry: PortEntry, port: number): string => `${entry.name} ${port}/${protocolText(entry)}`;

const findingKey = (rule: NetRule, entry: PortEntry): string => `netpol-sensitive-exposure|${rule.direction}|${ruleHash(rule)}|${entry.name}`;

const viaIpBlock = (rule: NetRule): boolean => rule.peers !== 'all' && rule.peers.some((p) => p.type === 'ipBlock');

function nodeWord(rule: NetRule, nodes: NodeAddresses): string {
  if (rule.peers === 'all') return 'the nodes (the rule allows every destination)';
  if (!viaIpBlock(rule)) return 'the nodes';
  return nodes.known ? 'node addresses' : 'likely node addresses (private ranges; set nodeCIDRs to be exact)';
}

export const netpolSensitiveExposure: Rule<'netpol-sensitive-exposure'> = {
  id: 'netpol-sensitive-exposure',
  title: 'Network policy opens a sensitive node port broadly',
  defaultAction: 'deny',
  category: 'Network policies',
  lane: null,
  help:
    'A NetworkPolicy egress rule (or Cilium egress rule) that names a sensitive port (kubelet 10250/10255 by default) with ' +
    'destinations that include node addresses broadly, or that allows every port to destinations that are only nodes, lets ' +
    'pods reach the kubelet API. So does an ingress rule of a Cilium host policy (CiliumClusterwideNetworkPolicy with ' +
    'nodeSelector) that opens the port to broad sources. Allow such ports only to pod selectors, except the node addresses ' +
    'from ipBlocks, or set nodeCIDRs so the analysis is exact. On Cilium defaults, CIDR selectors do not match node ' +
    'addresses, so CIDR-based findings are latent there until a CNI setting or a migration activates them.',
  appliesTo: (kind) => kind.type === 'network-policy' || kind.type === 'cilium-policy',
  check({ facts, policy, nodes }) {
    const out: RuleFinding[] = [];
    for (const rule of facts.networkRules) {
      for (const entry of policy.sensitivePorts) {
        const f = check(rule, entry, nodes);
        if (f) out.push(f);
      }
    }
    return out;
  },
};

