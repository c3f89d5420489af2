// Which kinds the engine checks, and where each workload kind keeps its pod spec.
// Kinds are matched by API group and kind, not version: apps/v1beta2 or batch/v1beta1
// objects from older manifests keep their pod specs in the same place.

export type CheckedKind =
  | { type: 'workload'; podSpecPath: readonly string[] }
  | { type: 'service' }
  | { type: 'network-policy' }
  | { type: 'cilium-policy'; clusterwide: boolean };

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
]);

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
  // Cilium serves its policies as cilium.io/v2 only; v2alpha1 holds other kinds.
  if (group === 'cilium.io' && apiVersion !== 'cilium.io/v2') return null;
  return groups.get(group) ?? null;
}

export const isCheckedKind = (apiVersion: string, kind: string): boolean => checkedKind(apiVersion, kind) !== null;
