// Objects are cut down to what the rules read as they arrive from a list or watch, so a cache
// of 150,000 pods holds names and ports, not env, volumes, status and managedFields (a pod as
// the API server serves it is 3-10 kB of JSON; stripped, a few hundred bytes).
// The fields kept follow the engine's facts: src/engine/facts/{host-ports,node-ports}.ts.
import type { KubeObject } from '../engine/types.js';
import { apiVersionOf, type ResourceType } from '../k8s/resources.js';

type Obj = Record<string, any>;

/** What every cached object keeps: identity and the version that tells an update from a replay. */
export interface CachedMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  /** The controlling workload of an owned object kept for its host ports (see strip()). */
  owner?: { kind: string; name: string };
}

export interface Cached extends KubeObject {
  metadata: KubeObject['metadata'] & CachedMeta;
}

/**
 * Owners whose pod template the audit checks, so a pod (or ReplicaSet, Job) they control repeats
 * a template already audited: its finding belongs to the owner. Pods owned by anything else
 * (a Node for mirror pods of static pods, a custom resource's operator) are audited themselves.
 */
const TEMPLATE_OWNERS: Readonly<Record<string, readonly string[]>> = {
  Pod: ['apps/ReplicaSet', '/ReplicationController', 'apps/StatefulSet', 'apps/DaemonSet', 'batch/Job'],
  ReplicaSet: ['apps/Deployment'],
  Job: ['batch/CronJob'],
};

/** The controlling owner when it is an audited workload kind; such objects are not cached. */
export function templateOwner(kind: string, raw: Obj): { kind: string; name: string } | null {
  const owners = TEMPLATE_OWNERS[kind];
  if (!owners) return null;
  for (const ref of (raw.metadata?.ownerReferences ?? []) as Obj[]) {
    const apiVersion = String(ref.apiVersion ?? '');
    const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
    if (ref.controller === true && owners.includes(`${group}/${ref.kind}`)) {
      return { kind: ref.kind, name: ref.name };
    }
  }
  return null;
}

/**
 * True when a pod spec can give a host-port finding: a hostPort, or hostNetwork. An owned pod
 * (or ReplicaSet, Job) without either adds nothing its owner's template does not already say.
 */
export function exposesHost(kind: string, raw: Obj): boolean {
  const spec = (kind === 'Pod' ? raw.spec : raw.spec?.template?.spec) as Obj | undefined;
  if (!spec || typeof spec !== 'object') return false;
  if (spec.hostNetwork === true) return true;
  for (const k of ['containers', 'initContainers', 'ephemeralContainers']) {
    for (const c of (Array.isArray(spec[k]) ? spec[k] : []) as Obj[]) {
      for (const p of (Array.isArray(c?.ports) ? c.ports : []) as Obj[]) if (typeof p?.hostPort === 'number' && p.hostPort > 0) return true;
    }
  }
  return false;
}

function meta(raw: Obj, labels: boolean): CachedMeta {
  const m = raw.metadata ?? {};
  const out: CachedMeta = { name: m.name ?? m.generateName ?? '', uid: m.uid, resourceVersion: m.resourceVersion };
  if (m.namespace) out.namespace = m.namespace;
  if (labels && m.labels) out.labels = m.labels;
  return out;
}

function ports(list: unknown): Obj[] | undefined {
  if (!Array.isArray(list)) return undefined;
  return list.map((p: Obj) => {
    const o: Obj = {};
    if (p?.name !== undefined) o.name = p.name;
    if (p?.containerPort !== undefined) o.containerPort = p.containerPort;
    if (p?.hostPort !== undefined) o.hostPort = p.hostPort;
    if (p?.protocol !== undefined) o.protocol = p.protocol;
    return o;
  });
}

function containers(list: unknown): Obj[] | undefined {
  if (!Array.isArray(list)) return undefined;
  return list.map((c: Obj) => {
    const o: Obj = { name: c?.name };
    const p = ports(c?.ports);
    if (p) o.ports = p;
    return o;
  });
}

export function podSpec(spec: Obj | undefined): Obj | undefined {
  if (!spec || typeof spec !== 'object') return undefined;
  const o: Obj = {};
  if (spec.hostNetwork !== undefined) o.hostNetwork = spec.hostNetwork;
  for (const k of ['containers', 'initContainers', 'ephemeralContainers']) {
    const c = containers(spec[k]);
    if (c) o[k] = c;
  }
  return o;
}

function template(spec: Obj | undefined): Obj | undefined {
  return spec?.template ? { template: { spec: podSpec(spec.template.spec) } } : undefined;
}

function service(spec: Obj | undefined): Obj {
  const s = spec ?? {};
  const o: Obj = {};
  for (const k of ['type', 'healthCheckNodePort', 'allocateLoadBalancerNodePorts', 'externalTrafficPolicy']) if (s[k] !== undefined) o[k] = s[k];
  if (Array.isArray(s.ports)) {
    o.ports = s.ports.map((p: Obj) => {
      const q: Obj = {};
      for (const k of ['name', 'port', 'protocol', 'nodePort']) if (p?.[k] !== undefined) q[k] = p[k];
      return q;
    });
  }
  return o;
}

/** Node addresses the network-policy rule uses: InternalIP and ExternalIP. */
export function nodeAddressesOf(raw: Obj): string[] {
  return ((raw.status?.addresses ?? []) as Obj[]).filter((a) => a?.type === 'InternalIP' || a?.type === 'ExternalIP').map((a) => String(a.address));
}

/**
 * Cuts a listed or watched object down for the cache. Returns null for objects that are not
 * kept: pods, ReplicaSets and Jobs controlled by an audited workload, unless they use host
 * ports. Those few are kept with `metadata.owner`, and the audit checks them only while their
 * owner is not in the cache (deleted, or its template has no host port that the pod has).
 */
export function strip(type: ResourceType, raw: Obj): Cached | null {
  const base = (metadata: CachedMeta, rest: Obj = {}): Cached => ({ apiVersion: apiVersionOf(type), kind: type.kind, metadata, ...rest }) as Cached;
  switch (type.kind) {
    case 'Namespace':
      return base(meta(raw, true));
    case 'Node':
      return base(meta(raw, false), { addresses: nodeAddressesOf(raw) });
    case 'Service':
      return base(meta(raw, false), { spec: service(raw.spec) });
    case 'Pod':
    case 'ReplicaSet':
    case 'Job': {
      const owner = templateOwner(type.kind, raw);
      if (owner && !exposesHost(type.kind, raw)) return null;
      const m = meta(raw, false);
      if (owner) m.owner = owner;
      return base(m, { spec: type.kind === 'Pod' ? podSpec(raw.spec) : template(raw.spec) });
    }
    case 'PodTemplate':
      return base(meta(raw, false), { template: { spec: podSpec(raw.template?.spec) } });
    case 'ReplicationController':
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
      return base(meta(raw, false), { spec: template(raw.spec) });
    case 'CronJob':
      return base(meta(raw, false), { spec: { jobTemplate: { spec: template(raw.spec?.jobTemplate?.spec) } } });
    case 'NetworkPolicy':
      return base(meta(raw, false), { spec: raw.spec });
    case 'CiliumNetworkPolicy':
    case 'CiliumClusterwideNetworkPolicy': {
      const rest: Obj = {};
      if (raw.spec !== undefined) rest.spec = raw.spec;
      if (raw.specs !== undefined) rest.specs = raw.specs;
      return base(meta(raw, false), rest);
    }
    case 'PortPolicy': {
      const m = meta(raw, false) as CachedMeta & { generation?: number };
      m.generation = raw.metadata?.generation;
      return base(m, { spec: raw.spec, status: raw.status });
    }
    default:
      return base(meta(raw, true), { spec: raw.spec });
  }
}
