// The admin network policies of sig-network (kubernetes-sigs/network-policy-api), read into
// NetRules: policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy and BaselineAdminNetworkPolicy
// (apis/v1alpha1) and their v0.2.0 successor, v1alpha2 ClusterNetworkPolicy (apis/v1alpha2).
// Their subjects are pods (host-networked pods excluded), so only egress rules can reach the
// nodes; ingress rules guard pods and are not read. Rules within one object are ordered:
// the first that matches decides, so a Deny or Pass hides a later Allow for the same traffic.
import { ipBlock } from '../net/ip-block.js';
import type { NetRule, Peer, PortProtocol, PortSel, RuleAction } from './network-rules.js';
import { portRange } from './network-rules.js';
import { protocolOrTcp } from '../ports.js';
import { isObj, listAt, objAt, type Obj } from './object.js';

// The actions each kind's CRD accepts (its kubebuilder enum). Allow (Accept in v1alpha2)
// opens; Deny and Pass end the object's evaluation for the traffic. Any other action is one
// the API server refuses: the rule is not read.
const ACTIONS: Readonly<Record<'anp' | 'banp' | 'cnp', Readonly<Record<string, RuleAction>>>> = {
  anp: { Allow: 'allow', Deny: 'deny', Pass: 'pass' },
  banp: { Allow: 'allow', Deny: 'deny' },
  cnp: { Accept: 'allow', Deny: 'deny', Pass: 'pass' },
};

export function adminNetworkRules(object: Obj, api: 'anp' | 'banp' | 'cnp'): NetRule[] {
  const spec = objAt(object, 'spec') ?? {};
  return (listAt(spec, 'egress') ?? []).flatMap((rule, i): NetRule[] => {
    if (!isObj(rule)) return [];
    const action = typeof rule.action === 'string' && Object.hasOwn(ACTIONS[api], rule.action) ? ACTIONS[api][rule.action] : undefined;
    if (action === undefined) return [];
    const to = listAt(rule, 'to') ?? [];
    return [
      {
        path: `spec.egress[${i}]`,
        direction: 'egress',
        action,
        narrowed: false,
        // `to` is required with at least one peer; an empty list matches nothing.
        peers: to.flatMap(peer),
        ports: api === 'cnp' ? protocols(rule) : ports(rule),
        written: rule,
      },
    ];
  });
}

/**
 * Exactly one field is set per peer (a `networks` peer gives one block per CIDR). A peer with none (a newer CRD's field) is, as the API
 * says, "fail closed": it matches nothing for an Allow; as a Deny or Pass it is read as
 * matching nothing too, which can only keep a later Allow's finding.
 */
function peer(p: unknown): Peer[] {
  if (!isObj(p)) return [{ type: 'other', what: 'invalid peer' }];
  if (p.namespaces !== undefined || p.pods !== undefined) return [{ type: 'pods' }];
  // nodes: a label selector over Node objects; empty selects every node. Its addresses are
  // those in each Node's status.addresses.
  if (isObj(p.nodes)) {
    const selector = canonicalSelector(p.nodes);
    return [{ type: 'nodes', selector, what: selector === '' ? 'nodes' : `nodes ${selector}` }];
  }
  // networks: up to 25 CIDRs, each judged as its own block (like one ipBlock each).
  const networks = listAt(p, 'networks');
  if (networks)
    return networks.map((n): Peer => (typeof n === 'string' ? { type: 'ipBlock', block: ipBlock(n), except: [] } : { type: 'other', what: 'networks' }));
  if (p.domainNames !== undefined) return [{ type: 'other', what: 'domainNames' }];
  return [{ type: 'other', what: 'empty peer' }];
}

function canonicalSelector(sel: Obj): string {
  const labels = objAt(sel, 'matchLabels') ?? {};
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${String(labels[k])}`);
  for (const e of listAt(sel, 'matchExpressions') ?? []) {
    if (!isObj(e)) continue;
    const values = (listAt(e, 'values') ?? []).map(String).sort();
    parts.push(`${String(e.key)} ${String(e.operator)}${values.length ? ` (${values.join(',')})` : ''}`);
  }
  return parts.sort().join(',');
}

const protocolOf: (v: unknown) => PortProtocol = protocolOrTcp;

/** v1alpha1 `ports`: absent is every port; portNumber and portRange default to TCP. */
function ports(rule: Obj): PortSel[] | 'all' {
  const list = listAt(rule, 'ports');
  if (list === undefined) return 'all';
  return list.flatMap((entry): PortSel[] => {
    if (!isObj(entry)) return [];
    const number = objAt(entry, 'portNumber');
    if (number && typeof number.port === 'number') return [{ protocol: protocolOf(number.protocol), range: portRange(number.port, number.port) }];
    const range = objAt(entry, 'portRange');
    if (range && typeof range.start === 'number') return [{ protocol: protocolOf(range.protocol), range: portRange(range.start, range.end) }];
    // namedPort resolves against pods' container ports, never a node listener (the CRD
    // refuses it next to nodes and networks peers).
    return [];
  });
}

/** v1alpha2 `protocols`: absent is every port; tcp/udp/sctp with destinationPort number or range. */
function protocols(rule: Obj): PortSel[] | 'all' {
  const list = listAt(rule, 'protocols');
  if (list === undefined) return 'all';
  return list.flatMap((entry): PortSel[] => {
    if (!isObj(entry)) return [];
    for (const key of ['tcp', 'udp', 'sctp'] as const) {
      const proto = objAt(entry, key);
      if (!proto) continue;
      const protocol = key.toUpperCase() as PortProtocol;
      const port = objAt(proto, 'destinationPort');
      if (!port) return [{ protocol, range: null }];
      if (typeof port.number === 'number') return [{ protocol, range: portRange(port.number, port.number) }];
      const range = objAt(port, 'range');
      if (range && typeof range.start === 'number') return [{ protocol, range: portRange(range.start, range.end) }];
      return [];
    }
    // destinationNamedPort: a pod's container port name, never a node listener.
    return [];
  });
}
