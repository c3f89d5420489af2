// Objects are cut down to what the rules read as they arrive from a list or watch, so a cache
// of 150,000 pods holds names and ports, not env, volumes, status and managedFields (a pod as
// the API server serves it is 3-10 kB of JSON; stripped, a few hundred bytes).
// The fields kept are the ones the engine's facts read, listed beside the code that reads them
// (POD_SPEC_FIELDS, SERVICE_FIELDS), and workloads keep their pod spec where the engine's kind
// table says it is.
import { podSpecFacts, POD_SPEC_FIELDS } from '../engine/facts/host-ports.js';
import { checkedKind } from '../engine/facts/kinds.js';
import { SERVICE_FIELDS } from '../engine/facts/node-ports.js';
import { isObj } from '../engine/facts/object.js';
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
 * True when a pod spec can give a host-port finding: a host port, or hostNetwork, as the
 * engine's host-port facts read them. An owned pod (or ReplicaSet, Job) without either adds
 * nothing its owner's template does not already say.
 */
export function exposesHost(type: ResourceType, raw: Obj): boolean {
  const kind = checkedKind(apiVersionOf(type), type.kind);
  const facts = kind && isObj(raw) ? podSpecFacts(raw, kind) : null;
  return facts !== null && (facts.hostNetwork || facts.hostPorts.length > 0);
}

function meta(raw: Obj, labels: boolean): CachedMeta {
  const m = raw.metadata ?? {};
  const out: CachedMeta = { name: m.name ?? m.generateName ?? '', uid: m.uid, resourceVersion: m.resourceVersion };
  if (m.namespace) out.namespace = m.namespace;
  if (labels && m.labels) out.labels = m.labels;
  return out;
}

/**
 * What reserved-port ownership reads (src/engine/facts/owners.ts): owner references by kind
 * and name, the pod-template-hash label that names a Deployment through its ReplicaSet, and
 * the mirror annotation of a static pod.
 */
export function keepOwnership(raw: Obj, m: CachedMeta & Obj): void {
  const refs = raw.metadata?.ownerReferences;
  if (Array.isArray(refs) && refs.length > 0) {
    m.ownerReferences = refs.map((r: Obj) => ({ apiVersion: r?.apiVersion, kind: r?.kind, name: r?.name, controller: r?.controller }));
  }
  const hash = raw.metadata?.labels?.['pod-template-hash'];
  if (typeof hash === 'string') m.labels = { 'pod-template-hash': hash };
  const mirror = raw.metadata?.annotations?.['kubernetes.io/config.mirror'];
  if (typeof mirror === 'string') m.annotations = { 'kubernetes.io/config.mirror': mirror };
}

/** The listed fields of an object that are set; null for a list item that is not an object. */
function pick(o: unknown, fields: readonly string[]): Obj | null {
  if (!isObj(o)) return null;
  const out: Obj = {};
  for (const k of fields) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

// List items keep their places: a finding's path names them by index.
function containers(list: unknown): (Obj | null)[] | undefined {
  if (!Array.isArray(list)) return undefined;
  return list.map((c) => {
    const o = pick(c, POD_SPEC_FIELDS.container);
    if (o && Array.isArray(c.ports)) o.ports = c.ports.map((p: unknown) => pick(p, POD_SPEC_FIELDS.port));
    return o;
  });
}

export function podSpec(spec: unknown): Obj | undefined {
  const o = pick(spec, POD_SPEC_FIELDS.spec);
  if (!o) return undefined;
  for (const k of POD_SPEC_FIELDS.containerLists) {
    const c = containers((spec as Obj)[k]);
    if (c) o[k] = c;
  }
  return o;
}

/** Only the pod spec, stripped, at the path the engine's kind table gives (spec.template.spec, ...). */
function podSpecAt(raw: Obj, path: readonly string[]): Obj {
  let at: unknown = raw;
  for (const key of path) at = isObj(at) ? at[key] : undefined;
  let out: Obj | undefined = podSpec(at);
  if (!out) return {};
  for (const key of [...path].reverse()) out = { [key]: out };
  return out;
}

function service(spec: unknown): Obj {
  const o = pick(spec, SERVICE_FIELDS.spec) ?? {};
  const ports = isObj(spec) ? spec.ports : undefined;
  if (Array.isArray(ports)) o.ports = ports.map((p: unknown) => pick(p, SERVICE_FIELDS.port) ?? {});
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
    case 'PortPolicy': {
      const m = meta(raw, false) as CachedMeta & { generation?: number };
      m.generation = raw.metadata?.generation;
      return base(m, { spec: raw.spec, status: raw.status });
    }
  }
  const kind = checkedKind(apiVersionOf(type), type.kind);
  switch (kind?.type) {
    case 'service':
      return base(meta(raw, false), { spec: service(raw.spec) });
    case 'workload': {
      const owner = templateOwner(type.kind, raw);
      if (owner && !exposesHost(type, raw)) return null;
      const m = meta(raw, false);
      if (owner) m.owner = owner;
      keepOwnership(raw, m);
      return base(m, podSpecAt(raw, kind.podSpecPath));
    }
    // Network policies are small and their rules read deep into them: kept whole.
    case 'network-policy':
    case 'admin-network-policy':
    case 'calico-policy':
      return base(meta(raw, false), { spec: raw.spec });
    case 'cilium-policy': {
      const rest: Obj = {};
      if (raw.spec !== undefined) rest.spec = raw.spec;
      if (raw.specs !== undefined) rest.specs = raw.specs;
      return base(meta(raw, false), rest);
    }
    default:
      return base(meta(raw, true), { spec: raw.spec });
  }
}
