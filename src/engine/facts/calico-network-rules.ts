// Calico's NetworkPolicy (namespaced) and GlobalNetworkPolicy, read into NetRules. Both
// groups hold the same spec: projectcalico.org/v3 (api/pkg/apis/projectcalico/v3,
// policy_common.go) and the crd.projectcalico.org/v1 CRDs that store it
// (libcalico-go/lib/apis/crd.projectcalico.org/v1). Two things can open the kubelet:
// - an egress rule of a policy that applies to pods, whose destination selects nodes: `nets`
//   holding node addresses, or a selector over host endpoints (Calico's objects for node
//   interfaces, which kube-controllers creates for every node when automatic host endpoints
//   are on);
// - an ingress rule of a GlobalNetworkPolicy that applies to host endpoints, from broad sources.
// Rules within one policy are ordered: Allow opens, Deny and Pass end the policy's evaluation
// for the traffic (Pass hands it to the next tier), Log matches and goes on. Across policies
// (`order`, tiers) nothing is judged: each policy is read alone.
import { ipBlock } from '../net/ip-block.js';
import { PROTOCOLS, type PortRange } from '../ports.js';
import type { NetRule, Peer, PortProtocol, PortSel, RuleAction } from './network-rules.js';
import { isObj, listAt, objAt, portNumber, type Obj } from './object.js';

const ACTIONS: Readonly<Record<string, RuleAction>> = { Allow: 'allow', Deny: 'deny', Pass: 'pass' };

// Labels only host endpoints carry: the one kube-controllers puts on the automatic host
// endpoints it creates (with the node's own labels, node-role.kubernetes.io/* and
// kubernetes.io/hostname among them), and `kubernetes-host`, the label Calico's host
// protection guides put on host endpoints they create by hand.
const HOST_LABEL = /projectcalico\.org\/created-by|kubernetes-host|node-role\.kubernetes\.io\/|node\.kubernetes\.io\/|kubernetes\.io\/hostname/;

/** A selector that picks host endpoints: it names a host label and negates nothing (`!`, `!=`, `not in`). */
export const selectsHosts = (selector: string): boolean => HOST_LABEL.test(selector) && !/!|\bnot\s+in\b/.test(selector);

const selectsAll = (selector: string | undefined): boolean => selector === undefined || selector.trim() === '' || selector.trim() === 'all()';

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

// Protocols by name or IANA number (numorstring.Protocol); others (ICMP, UDPLite) have no port here.
const PROTOCOL_NAMES: Readonly<Record<string, PortProtocol>> = { TCP: 'TCP', UDP: 'UDP', SCTP: 'SCTP', '6': 'TCP', '17': 'UDP', '132': 'SCTP' };

export function calicoNetworkRules(object: Obj, global: boolean): NetRule[] {
  const spec = objAt(object, 'spec') ?? {};
  const egress = listAt(spec, 'egress') ?? [];
  const ingress = listAt(spec, 'ingress') ?? [];
  // `types` unset is defaulted from the rules present: Egress when there are egress rules,
  // Ingress when there are ingress rules or no egress rules (GlobalNetworkPolicySpec.Types).
  const types = (listAt(spec, 'types') ?? []).filter((t): t is string => typeof t === 'string');
  const egressInEffect = types.length ? types.includes('Egress') : egress.length > 0;
  const ingressInEffect = types.length ? types.includes('Ingress') : ingress.length > 0 || egress.length === 0;
  const applies = appliesTo(spec, global);
  // Concatenated, not push(...rules): a policy's rules can outnumber a call's arguments.
  const egressRules = egressInEffect && applies.pods ? rules(egress, 'spec.egress', 'egress', global) : [];
  const ingressRules = ingressInEffect && applies.hosts ? rules(ingress, 'spec.ingress', 'host-ingress', global) : [];
  return egressRules.concat(ingressRules);
}

/**
 * Which endpoints the policy applies to. A namespaced NetworkPolicy applies to the pods of
 * its namespace only. A GlobalNetworkPolicy applies to host endpoints when its selector is
 * all() (or empty) without a namespace or service-account selector, or names a host label;
 * it applies to pods unless the selector picks host endpoints alone, or the policy is
 * preDNAT or doNotTrack (which Calico applies to host endpoints only).
 */
function appliesTo(spec: Obj, global: boolean): { pods: boolean; hosts: boolean } {
  if (!global) return { pods: true, hosts: false };
  const selector = text(spec.selector) ?? '';
  const narrowed = text(spec.namespaceSelector)?.trim() || text(spec.serviceAccountSelector)?.trim();
  const hosts = (!narrowed && selectsAll(selector)) || selectsHosts(selector);
  const hostOnly = spec.preDNAT === true || spec.doNotTrack === true || (selectsHosts(selector) && !selector.includes('||'));
  return { pods: !hostOnly, hosts };
}

function rules(list: unknown[], at: string, direction: NetRule['direction'], global: boolean): NetRule[] {
  return list.flatMap((rule, i): NetRule[] => {
    if (!isObj(rule)) return [];
    const action = typeof rule.action === 'string' && Object.hasOwn(ACTIONS, rule.action) ? ACTIONS[rule.action] : undefined;
    // Log is not terminal: it matches and evaluation goes on, so it neither opens nor hides.
    if (action === undefined) return [];
    const source = objAt(rule, 'source') ?? {};
    const destination = objAt(rule, 'destination') ?? {};
    // Egress is judged by destination, host ingress by source; the other side, when set,
    // narrows which packets the rule matches (some pods, some host addresses).
    const judged = direction === 'egress' ? destination : source;
    const other = direction === 'egress' ? source : destination;
    const otherSet = Object.keys(other).some((k) => k !== 'ports' && k !== 'notPorts' && other[k] !== undefined && other[k] !== null);
    return [
      {
        path: `${at}[${i}]`,
        direction,
        action,
        narrowed: otherSet || rule.ipVersion !== undefined || rule.http !== undefined,
        peers: peers(judged, global),
        ports: ports(rule, destination),
        written: rule,
      },
    ];
  });
}

/** What an EntityRule selects; 'all' when it sets none of its address or endpoint fields. */
function peers(entity: Obj, global: boolean): Peer[] | 'all' {
  if (entity.services !== undefined && entity.services !== null) return [{ type: 'other', what: 'services' }];
  const notSelector = text(entity.notSelector);
  // Host endpoints taken out again: whatever else the rule selects, it is not the nodes.
  if (notSelector && selectsHosts(notSelector)) return [{ type: 'other', what: `not ${notSelector}` }];
  const selected = endpoints(entity, global);
  const nets = listAt(entity, 'nets');
  const notNets = (listAt(entity, 'notNets') ?? []).filter((n): n is string => typeof n === 'string');
  let blocks: Peer[] | null = null;
  if (nets)
    blocks = nets.map((n): Peer =>
      typeof n === 'string' ? { type: 'ipBlock', block: ipBlock(n, notNets), except: notNets } : { type: 'other', what: 'nets' },
    );
  // notNets alone: every address outside them.
  else if (notNets.length) blocks = ['0.0.0.0/0', '::/0'].map((n): Peer => ({ type: 'ipBlock', block: ipBlock(n, notNets), except: notNets }));
  if (blocks === null) return selected;
  if (selected === 'all') return blocks;
  // Both set: a packet must match both. Pods inside the nets are pods; node addresses
  // inside the nets are judged by the nets.
  return selected.some((p) => p.type === 'nodes' || p.type === 'endpoints') ? blocks : selected;
}

function endpoints(entity: Obj, global: boolean): Peer[] | 'all' {
  const selector = text(entity.selector);
  const namespaceSelector = text(entity.namespaceSelector)?.trim();
  if (selector === undefined && !namespaceSelector && entity.serviceAccounts === undefined) return 'all';
  // global(): host endpoints and global network sets, never pods.
  if (namespaceSelector === 'global()') {
    if (selectsAll(selector)) return [{ type: 'endpoints', selector: 'global()', what: 'host endpoints and global network sets (global())' }];
    if (selectsHosts(selector!)) return [{ type: 'nodes', selector: selector!.trim(), what: `host endpoints ${selector!.trim()}` }];
    return [{ type: 'other', what: `global() ${selector!.trim()}` }];
  }
  if (namespaceSelector || entity.serviceAccounts !== undefined || !global || selector === undefined) return [{ type: 'pods' }];
  // A GlobalNetworkPolicy's selector alone ranges over every endpoint, host endpoints included.
  if (selectsHosts(selector)) return [{ type: 'nodes', selector: selector.trim(), what: `host endpoints ${selector.trim()}` }];
  if (selectsAll(selector)) return [{ type: 'endpoints', selector: 'all()', what: 'every endpoint (all())' }];
  return [{ type: 'pods' }];
}

/** Calico ports: a number, "n", "lo:hi" or a name (a named port: never judged). */
function portRanges(list: unknown[]): PortRange[] {
  return list.flatMap((p): PortRange[] => {
    const n = portNumber(p);
    if (n !== undefined) return [{ lo: n, hi: n }];
    const m = typeof p === 'string' ? /^\s*(\d+):(\d+)\s*$/.exec(p) : null;
    return m && Number(m[1]) <= Number(m[2]) ? [{ lo: Number(m[1]), hi: Number(m[2]) }] : [];
  });
}

/** `ranges` minus `minus`, in order. */
function subtractRanges(ranges: readonly PortRange[], minus: readonly PortRange[]): PortRange[] {
  let out = [...ranges];
  for (const m of minus) {
    out = out.flatMap((r) => {
      if (m.hi < r.lo || m.lo > r.hi) return [r];
      const parts: PortRange[] = [];
      if (r.lo < m.lo) parts.push({ lo: r.lo, hi: m.lo - 1 });
      if (r.hi > m.hi) parts.push({ lo: m.hi + 1, hi: r.hi });
      return parts;
    });
  }
  return out;
}

function protocolsOf(rule: Obj): PortProtocol[] {
  const name = (v: unknown) => (v === undefined || v === null ? undefined : String(v).toUpperCase());
  const protocol = name(rule.protocol);
  const notProtocol = name(rule.notProtocol);
  const not = notProtocol === undefined ? undefined : PROTOCOL_NAMES[notProtocol];
  if (protocol === undefined) return not === undefined ? ['ANY'] : PROTOCOLS.filter((p) => p !== not);
  const p = PROTOCOL_NAMES[protocol];
  return p === undefined || p === not ? [] : [p];
}

/** The destination ports the rule opens; Calico requires a protocol whenever ports are set. */
function ports(rule: Obj, destination: Obj): PortSel[] | 'all' {
  const protocols = protocolsOf(rule);
  const listed = listAt(destination, 'ports');
  const notPorts = portRanges(listAt(destination, 'notPorts') ?? []);
  if (listed === undefined) {
    if (notPorts.length === 0 && protocols.length === 1 && protocols[0] === 'ANY') return 'all';
    return protocols.map((protocol) => (notPorts.length ? { protocol, range: null, except: notPorts } : { protocol, range: null }));
  }
  const ranges = subtractRanges(portRanges(listed), notPorts);
  return protocols.flatMap((protocol) => ranges.map((range) => ({ protocol, range })));
}
