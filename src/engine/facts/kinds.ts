// Which kinds the engine checks, and where each workload kind keeps its pod spec.
// Kinds are matched by API group and kind, not version: apps/v1beta2 or batch/v1beta1
// objects from older manifests keep their pod specs in the same place.

export type CheckedKind =
  | { type: 'workload'; podSpecPath: readonly string[] }
  | { type: 'service' }
  | { type: 'network-policy' }
  | { type: 'cilium-policy'; clusterwide: boolean }
  /** policy.networking.k8s.io: AdminNetworkPolicy and BaselineAdminNetworkPolicy (v1alpha1), ClusterNetworkPolicy (v1alpha2). */
  | { type: 'admin-network-policy'; api: 'anp' | 'banp' | 'cnp' }
  /** Calico's NetworkPolicy (namespaced) and GlobalNetworkPolicy, projectcalico.org/v3 or crd.projectcalico.org/v1. */
  | { type: 'calico-policy'; global: boolean };

const TEMPLATE = ['spec', 'template', 'spec'] as const;

/** group/kind → what it is; the core group is "". */
const KINDS: ReadonlyMap<string, CheckedKind> = new Map<string, CheckedKind>([
  ['/Pod', { type: 'workload', podSpecPath: ['spec'] }],
  ['/ReplicationController', { type: 'workload', podSpecPath: TEMPLATE }],
  ['/PodTemplate', { type: 'workload', podSpecPath: ['template', 'spec'] }],
  ['apps/Deployment', { type: 'workload', podSpecPath: TEMPLATE }],
  ['apps/ReplicaSet', { type: 'workload', podSpecPath: TEMPLATE }],
  ['apps/StatefulSet', { type: 'workload', podSpecPath: TEMPLATE }],
  ['apps/DaemonSet', { type: 'workload', podSpecPath: TEMPLATE }],
  // extensions/v1beta1 served these until Kubernetes 1.16; old manifests still carry them.
  ['extensions/Deployment', { type: 'workload', podSpecPath: TEMPLATE }],
  ['extensions/ReplicaSet', { type: 'workload', podSpecPath: TEMPLATE }],
  ['extensions/DaemonSet', { type: 'workload', podSpecPath: TEMPLATE }],
  ['batch/Job', { type: 'workload', podSpecPath: TEMPLATE }],
  ['batch/CronJob', { type: 'workload', podSpecPath: ['spec', 'jobTemplate', 'spec', 'template', 'spec'] }],
  ['/Service', { type: 'service' }],
  ['networking.k8s.io/NetworkPolicy', { type: 'network-policy' }],
  ['extensions/NetworkPolicy', { type: 'network-policy' }],
  ['cilium.io/CiliumNetworkPolicy', { type: 'cilium-policy', clusterwide: false }],
  ['cilium.io/CiliumClusterwideNetworkPolicy', { type: 'cilium-policy', clusterwide: true }],
  ['policy.networking.k8s.io/AdminNetworkPolicy', { type: 'admin-network-policy', api: 'anp' }],
  ['policy.networking.k8s.io/BaselineAdminNetworkPolicy', { type: 'admin-network-policy', api: 'banp' }],
  ['policy.networking.k8s.io/ClusterNetworkPolicy', { type: 'admin-network-policy', api: 'cnp' }],
  ['projectcalico.org/NetworkPolicy', { type: 'calico-policy', global: false }],
  ['projectcalico.org/GlobalNetworkPolicy', { type: 'calico-policy', global: true }],
  ['crd.projectcalico.org/NetworkPolicy', { type: 'calico-policy', global: false }],
  ['crd.projectcalico.org/GlobalNetworkPolicy', { type: 'calico-policy', global: true }],
]);

// Groups whose kinds change shape between versions: only the version read here is checked.
// Cilium serves its policies as cilium.io/v2 only (v2alpha1 holds other kinds); the admin
// network policies moved from v1alpha1 (AdminNetworkPolicy, BaselineAdminNetworkPolicy) to
// v1alpha2 (ClusterNetworkPolicy, with other port fields) in network-policy-api v0.2.0;
// Calico's v3 API and its v1 backing CRDs hold the same spec.
const VERSIONED: ReadonlyMap<string, string> = new Map([
  ['cilium.io/CiliumNetworkPolicy', 'cilium.io/v2'],
  ['cilium.io/CiliumClusterwideNetworkPolicy', 'cilium.io/v2'],
  ['policy.networking.k8s.io/AdminNetworkPolicy', 'policy.networking.k8s.io/v1alpha1'],
  ['policy.networking.k8s.io/BaselineAdminNetworkPolicy', 'policy.networking.k8s.io/v1alpha1'],
  ['policy.networking.k8s.io/ClusterNetworkPolicy', 'policy.networking.k8s.io/v1alpha2'],
  ['projectcalico.org/NetworkPolicy', 'projectcalico.org/v3'],
  ['projectcalico.org/GlobalNetworkPolicy', 'projectcalico.org/v3'],
  ['crd.projectcalico.org/NetworkPolicy', 'crd.projectcalico.org/v1'],
  ['crd.projectcalico.org/GlobalNetworkPolicy', 'crd.projectcalico.org/v1'],
]);
const VERSIONED_GROUPS: ReadonlySet<string> = new Set([...VERSIONED.keys()].map((k) => k.slice(0, k.lastIndexOf('/'))));

/** The kind names the engine checks, sorted: the only kinds a finding can be about. */
export const CHECKED_KIND_NAMES: readonly string[] = [...new Set([...KINDS.keys()].map((k) => k.slice(k.indexOf('/') + 1)))].sort();

export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

// Kind first, then group: most documents of a repository (ConfigMaps, Secrets, RBAC) are
// ruled out by one lookup of their kind, without building a key string.
const BY_KIND: ReadonlyMap<string, ReadonlyMap<string, CheckedKind>> = (() => {
  const byKind = new Map<string, Map<string, CheckedKind>>();
  for (const [groupKind, checked] of KINDS) {
    const slash = groupKind.indexOf('/');
    const kind = groupKind.slice(slash + 1);
    if (!byKind.has(kind)) byKind.set(kind, new Map());
    byKind.get(kind)!.set(groupKind.slice(0, slash), checked);
  }
  return byKind;
})();

export function checkedKind(apiVersion: string, kind: string): CheckedKind | null {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return null;
  const groups = BY_KIND.get(kind);
  if (groups === undefined) return null;
  const group = apiGroup(apiVersion);
  const checked = groups.get(group);
  if (checked === undefined) return null;
  if (VERSIONED_GROUPS.has(group) && VERSIONED.get(`${group}/${kind}`) !== apiVersion) return null;
  return checked;
}

/** Kinds that live outside every namespace: their findings carry no namespace and no tenant. */
export const isClusterScoped = (kind: CheckedKind): boolean =>
  (kind.type === 'cilium-policy' && kind.clusterwide) || kind.type === 'admin-network-policy' || (kind.type === 'calico-policy' && kind.global);

export const isCheckedKind = (apiVersion: string, kind: string): boolean => checkedKind(apiVersion, kind) !== null;
