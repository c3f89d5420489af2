// Network-policy facts: every rule that can let pods reach the nodes, normalised from
// networking.k8s.io NetworkPolicy, cilium.io/v2 CiliumNetworkPolicy /
// CiliumClusterwideNetworkPolicy, the admin network policies of policy.networking.k8s.io
// (admin-network-rules.ts) and Calico's policies (calico-network-rules.ts) into one shape
// (action, peers and ports) that the rule judges.
import { ipBlock, type IpBlock } from '../net/ip-block.js';
import { PROTOCOLS, protocolOrTcp, type PortRange, type Protocol } from '../ports.js';
import { adminNetworkRules } from './admin-network-rules.js';
import { calicoNetworkRules } from './calico-network-rules.js';
import type { CheckedKind } from './kinds.js';
import { isObj, listAt, objAt, portNumber, type Obj } from './object.js';

export type PortProtocol = Protocol | 'ANY';

/** A port entry; `range` null means every port of the protocol. Named ports are dropped: they never match a node listener. */
export interface PortSel {
  readonly protocol: PortProtocol;
  readonly range: PortRange | null;
  /** With range null: ports taken out again (Calico notPorts without ports). */
  readonly except?: readonly PortRange[];
}

export type Peer =
  | { readonly type: 'ipBlock'; readonly block: IpBlock; readonly except: readonly string[] }
  | { readonly type: 'pods' }
  | { readonly type: 'entity'; readonly entity: string }
  /** Node addresses: all nodes, or those a selector picks (`selector` as written, '' for all). */
  | { readonly type: 'nodes'; readonly selector?: string; readonly what?: string }
  /** Pods and nodes alike: a Calico selector over every endpoint (host endpoints included). */
  | { readonly type: 'endpoints'; readonly selector: string; readonly what: string }
  | { readonly type: 'other'; readonly what: string };

/**
 * What a rule does with the traffic it matches. Only allow opens; deny and pass end the
 * evaluation of the object's later rules for that traffic (first match), so they can hide a
 * later allow. Rules that do neither (Calico Log) are not kept.
 */
export type RuleAction = 'allow' | 'deny' | 'pass';

export interface NetRule {
  /** Path of the rule from the object root: spec.egress[0], specs[1].ingress[0]. */
  readonly path: string;
  /** Egress from pods, or ingress to the nodes themselves (a Cilium host policy). */
  readonly direction: 'egress' | 'host-ingress';
  readonly action: RuleAction;
  /**
   * The rule matches only part of the traffic its peers and ports say, by a condition not
   * modelled here (a Calico egress rule's source, ipVersion, notProtocol): such a deny or pass
   * hides nothing.
   */
  readonly narrowed: boolean;
  /** 'all': no L3 restriction (absent or empty `to`; Cilium: no L3 selector at all). */
  readonly peers: readonly Peer[] | 'all';
  /** 'all': every port of every protocol. */
  readonly ports: readonly PortSel[] | 'all';
  /** The rule as written: its identity (ruleHash) is computed from it when a finding needs a key. */
  readonly written: Obj;
}

export function networkRules(object: Obj, kind: CheckedKind): NetRule[] {
  if (kind.type === 'network-policy') return kubernetesRules(object);
  if (kind.type === 'cilium-policy') return ciliumRules(object, kind.clusterwide);
  if (kind.type === 'admin-network-policy') return adminNetworkRules(object, kind.api);
  if (kind.type === 'calico-policy') return calicoNetworkRules(object, kind.global);
  return [];
}

// --- networking.k8s.io/v1 NetworkPolicy -------------------------------------------------

function kubernetesRules(object: Obj): NetRule[] {
  const spec = objAt(object, 'spec') ?? {};
  const egress = listAt(spec, 'egress') ?? [];
  const policyTypes = listAt(spec, 'policyTypes');
  // API server defaulting: without policyTypes, Ingress is always in effect and Egress only
  // when the policy has egress rules. With policyTypes: [Egress] and no rules, all egress
  // is denied: nothing is opened. An empty list is defaulted like a missing one
  // (pkg/apis/networking/v1 SetDefaults_NetworkPolicy checks len(PolicyTypes) == 0).
  const egressInEffect = policyTypes?.length ? policyTypes.includes('Egress') : egress.length > 0;
  if (!egressInEffect) return [];
  return egress.flatMap((rule, i) => {
    if (!isObj(rule)) return [];
    const to = listAt(rule, 'to') ?? [];
    const ports = listAt(rule, 'ports') ?? [];
    return [
      {
        path: `spec.egress[${i}]`,
        direction: 'egress' as const,
        action: 'allow' as const,
        narrowed: false,
        peers: to.length === 0 ? ('all' as const) : to.map(kubernetesPeer),
        ports: ports.length === 0 ? ('all' as const) : ports.flatMap(kubernetesPort),
        written: rule,
      },
    ];
  });
}

function kubernetesPeer(peer: unknown): Peer {
  if (!isObj(peer)) return { type: 'other', what: 'invalid peer' };
  const block = objAt(peer, 'ipBlock');
  if (block) {
    const except = (listAt(block, 'except') ?? []).filter((e): e is string => typeof e === 'string');
    return { type: 'ipBlock', block: ipBlock(String(block.cidr ?? ''), except), except };
  }
  if (peer.podSelector !== undefined || peer.namespaceSelector !== undefined) return { type: 'pods' };
  return { type: 'other', what: 'empty peer' };
}

function kubernetesPort(entry: unknown): PortSel[] {
  if (!isObj(entry)) return [];
  const protocol = protocolOrTcp(entry.protocol);
  if (entry.port === undefined || entry.port === null) return [{ protocol, range: null }];
  // A string port is a named port (IntOrString), even when it looks numeric: the API server
  // validates it as a port name. Named ports resolve against pods, never a node listener.
  if (typeof entry.port !== 'number') return [];
  return [{ protocol, range: portRange(entry.port, entry.endPort) }];
}

export function portRange(port: number, endPort: unknown): PortRange {
  const end = typeof endPort === 'number' && endPort >= port ? endPort : port;
  return { lo: port, hi: end };
}

// --- cilium.io/v2 CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy ------------------

const EGRESS_L3: Record<string, (v: unknown) => Peer> = {
  toEndpoints: () => ({ type: 'pods' }),
  toCIDR: (v) => (typeof v === 'string' ? { type: 'ipBlock', block: ipBlock(v), except: [] } : { type: 'other', what: 'toCIDR' }),
  toCIDRSet: ciliumCidrSet,
  toEntities: (v) => ({ type: 'entity', entity: String(v).toLowerCase() }),
  toNodes: () => ({ type: 'nodes' }),
  toServices: () => ({ type: 'other', what: 'toServices' }),
  toFQDNs: () => ({ type: 'other', what: 'toFQDNs' }),
  toGroups: () => ({ type: 'other', what: 'toGroups' }),
};

const INGRESS_L3: Record<string, (v: unknown) => Peer> = {
  fromEndpoints: () => ({ type: 'pods' }),
  fromCIDR: (v) => (typeof v === 'string' ? { type: 'ipBlock', block: ipBlock(v), except: [] } : { type: 'other', what: 'fromCIDR' }),
  fromCIDRSet: ciliumCidrSet,
  fromEntities: (v) => ({ type: 'entity', entity: String(v).toLowerCase() }),
  fromNodes: () => ({ type: 'nodes' }),
  fromGroups: () => ({ type: 'other', what: 'fromGroups' }),
};

function ciliumCidrSet(v: unknown): Peer {
  if (!isObj(v) || typeof v.cidr !== 'string') return { type: 'other', what: 'cidrGroupRef' };
  const except = (listAt(v, 'except') ?? []).filter((e): e is string => typeof e === 'string');
  return { type: 'ipBlock', block: ipBlock(v.cidr, except), except };
}

function ciliumRules(object: Obj, clusterwide: boolean): NetRule[] {
  const specs: { spec: Obj; path: string }[] = [];
  const single = objAt(object, 'spec');
  if (single) specs.push({ spec: single, path: 'spec' });
  (listAt(object, 'specs') ?? []).forEach((s, i) => {
    if (isObj(s)) specs.push({ spec: s, path: `specs[${i}]` });
  });
  return specs.flatMap(({ spec, path }) => {
    // A clusterwide policy with nodeSelector is a host policy: it selects nodes, so its
    // ingress is traffic to the kubelet itself. Its egress (from the host) is not pods'.
    // Deny rules (egressDeny/ingressDeny) only take away and are never read here.
    const hostPolicy = clusterwide && isObj(spec.nodeSelector);
    const direction = hostPolicy ? ('host-ingress' as const) : ('egress' as const);
    const l3 = hostPolicy ? INGRESS_L3 : EGRESS_L3;
    const key = hostPolicy ? 'ingress' : 'egress';
    return (listAt(spec, key) ?? []).flatMap((rule, i) => {
      if (!isObj(rule)) return [];
      return [
        {
          path: `${path}.${key}[${i}]`,
          direction,
          action: 'allow' as const,
          narrowed: false,
          peers: ciliumPeers(rule, l3),
          ports: ciliumPorts(rule),
          written: rule,
        },
      ];
    });
  });
}

// An absent L3 selector is a wildcard; a present but empty list (toEntities: []) selects nothing.
function ciliumPeers(rule: Obj, l3: Record<string, (v: unknown) => Peer>): Peer[] | 'all' {
  const present = Object.keys(l3).filter((k) => rule[k] !== undefined && rule[k] !== null);
  if (present.length === 0) return 'all';
  return present.flatMap((k) => (listAt(rule, k) ?? []).map(l3[k]));
}

const CILIUM_PROTOCOLS: readonly PortProtocol[] = [...PROTOCOLS, 'ANY'];

function ciliumPorts(rule: Obj): PortSel[] | 'all' {
  const toPorts = listAt(rule, 'toPorts') ?? [];
  if (toPorts.length === 0) {
    // A rule with only icmps allows ICMP and no port of TCP, UDP or SCTP.
    return (listAt(rule, 'icmps') ?? []).length > 0 ? [] : 'all';
  }
  // Only an empty or absent toPorts leaves ports unrestricted. A toPorts entry without ports
  // (ports: [], or L7 rules alone) opens nothing: Cilium adds a port filter per listed port
  // and a wildcard only when toPorts itself is empty (pkg/policy/rule.go, mergeEgress).
  return toPorts.flatMap((pr) => {
    const ports = isObj(pr) ? (listAt(pr, 'ports') ?? []) : [];
    return ports.flatMap((p): PortSel[] => {
      if (!isObj(p)) return [];
      // Protocol ANY or omitted means every protocol; ICMP entries open no port.
      const written = typeof p.protocol === 'string' ? p.protocol.toUpperCase() : 'ANY';
      const protocol = CILIUM_PROTOCOLS.find((x) => x === written);
      if (!protocol) return [];
      if (p.port === undefined || p.port === null || p.port === '') return [{ protocol, range: null }];
      const port = portNumber(p.port);
      if (port === undefined) return []; // a named port
      // Port "0" means every port of the protocol.
      if (port === 0) return [{ protocol, range: null }];
      return [{ protocol, range: portRange(port, portNumber(p.endPort)) }];
    });
  });
}

// --- identity ----------------------------------------------------------------------------

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObj(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

// Hashing a rule costs more than judging it (canonical JSON of the whole rule), and only a
// rule with a finding needs its key: computed on first use, once per rule.
const hashes = new WeakMap<NetRule, string>();

/** Hash of the rule as written: its identity independent of its list index. */
export function ruleHash(rule: NetRule): string {
  let h = hashes.get(rule);
  if (h === undefined) {
    h = contentHash(rule.written);
    hashes.set(rule, h);
  }
  return h;
}

/** FNV-1a (32-bit) of the rule's canonical JSON: short, stable, not security-relevant. */
function contentHash(rule: Obj): string {
  let h = 0x811c9dc5;
  const text = canonical(rule);
  // By code point, without the string iterator's one-string-per-character.
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    if (cp > 0xffff) i++;
    h ^= cp;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
