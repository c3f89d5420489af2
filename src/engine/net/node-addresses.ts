// The node addresses N that network-policy analysis compares destinations with.
import { setOf, union, type AddressSet } from './address-set.js';
import { parseBlock, parseBlockOrThrow, type Block } from './cidr.js';

export interface NodeAddresses {
  /** True when N comes from nodeCIDRs or the cluster's Nodes; false when it is the assumed private ranges. */
  readonly known: boolean;
  readonly set: AddressSet;
}

// Without node addresses, nodes are assumed to sit in private address space: RFC 1918
// (10/8, 172.16/12, 192.168/16) and RFC 4193 unique local IPv6 (fc00::/7).
export const ASSUMED_NODE_CIDRS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'] as const;
const ASSUMED: NodeAddresses = { known: false, set: setOf(ASSUMED_NODE_CIDRS.map(parseBlockOrThrow)) };

/**
 * N = the policy's nodeCIDRs together with the cluster's node addresses; assumed when both are
 * empty. A cluster address that does not parse is ignored: it comes from a Node's status,
 * which the tenant does not write.
 */
export function nodeAddresses(nodeCIDRs: readonly Block[], clusterAddresses: readonly string[]): NodeAddresses {
  const fromCluster = clusterAddresses.map(parseBlock).filter((b): b is Block => typeof b !== 'string');
  if (nodeCIDRs.length === 0 && fromCluster.length === 0) return ASSUMED;
  return { known: true, set: union(setOf(nodeCIDRs), setOf(fromCluster)) };
}
