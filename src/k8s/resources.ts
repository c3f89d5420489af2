// The Kubernetes resources portcullis reads and writes, with their REST paths. Every path the
// code builds comes from here, so API_CALLS (the RBAC list) and the code cannot drift apart
// unnoticed: a test checks that each resource here appears in API_CALLS.

export interface ResourceType {
  group: string; // '' for the core group
  version: string;
  resource: string; // plural, as in the URL and in RBAC rules
  kind: string;
  namespaced: boolean;
  /**
   * The API whose objects these CRDs store, when both may be served: the objects are audited
   * through that API, and through these CRDs only where the API is not served.
   */
  storageOf?: ResourceType;
}

const r = (group: string, version: string, resource: string, kind: string, namespaced: boolean, storageOf?: ResourceType): ResourceType =>
  storageOf ? { group, version, resource, kind, namespaced, storageOf } : { group, version, resource, kind, namespaced };

export const NAMESPACES = r('', 'v1', 'namespaces', 'Namespace', false);
export const NODES = r('', 'v1', 'nodes', 'Node', false);
export const SERVICES = r('', 'v1', 'services', 'Service', true);
export const PODS = r('', 'v1', 'pods', 'Pod', true);
export const REPLICATION_CONTROLLERS = r('', 'v1', 'replicationcontrollers', 'ReplicationController', true);
export const POD_TEMPLATES = r('', 'v1', 'podtemplates', 'PodTemplate', true);
export const DEPLOYMENTS = r('apps', 'v1', 'deployments', 'Deployment', true);
export const REPLICA_SETS = r('apps', 'v1', 'replicasets', 'ReplicaSet', true);
export const STATEFUL_SETS = r('apps', 'v1', 'statefulsets', 'StatefulSet', true);
export const DAEMON_SETS = r('apps', 'v1', 'daemonsets', 'DaemonSet', true);
export const JOBS = r('batch', 'v1', 'jobs', 'Job', true);
export const CRON_JOBS = r('batch', 'v1', 'cronjobs', 'CronJob', true);
export const NETWORK_POLICIES = r('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy', true);
export const CILIUM_NETWORK_POLICIES = r('cilium.io', 'v2', 'ciliumnetworkpolicies', 'CiliumNetworkPolicy', true);
export const CILIUM_CLUSTERWIDE_NETWORK_POLICIES = r('cilium.io', 'v2', 'ciliumclusterwidenetworkpolicies', 'CiliumClusterwideNetworkPolicy', false);
// policy.networking.k8s.io (kubernetes-sigs/network-policy-api): v1alpha1 until v0.1.x,
// ClusterNetworkPolicy in v1alpha2 from v0.2.0. All cluster-scoped.
export const ADMIN_NETWORK_POLICIES = r('policy.networking.k8s.io', 'v1alpha1', 'adminnetworkpolicies', 'AdminNetworkPolicy', false);
export const BASELINE_ADMIN_NETWORK_POLICIES = r('policy.networking.k8s.io', 'v1alpha1', 'baselineadminnetworkpolicies', 'BaselineAdminNetworkPolicy', false);
export const CLUSTER_NETWORK_POLICIES = r('policy.networking.k8s.io', 'v1alpha2', 'clusternetworkpolicies', 'ClusterNetworkPolicy', false);
// Calico: projectcalico.org/v3 is served by the Calico API server (an aggregated API) or, in
// newer installs without it, as CRDs; crd.projectcalico.org/v1 are the CRDs that store the
// same objects when the Calico API server is used, and the only API when neither is.
export const CALICO_NETWORK_POLICIES = r('projectcalico.org', 'v3', 'networkpolicies', 'NetworkPolicy', true);
export const CALICO_GLOBAL_NETWORK_POLICIES = r('projectcalico.org', 'v3', 'globalnetworkpolicies', 'GlobalNetworkPolicy', false);
export const CALICO_CRD_NETWORK_POLICIES = r('crd.projectcalico.org', 'v1', 'networkpolicies', 'NetworkPolicy', true, CALICO_NETWORK_POLICIES);
export const CALICO_CRD_GLOBAL_NETWORK_POLICIES = r(
  'crd.projectcalico.org',
  'v1',
  'globalnetworkpolicies',
  'GlobalNetworkPolicy',
  false,
  CALICO_GLOBAL_NETWORK_POLICIES,
);
export const PORT_POLICIES = r('portcullis.dev', 'v1alpha1', 'portpolicies', 'PortPolicy', false);
export const POLICY_REPORTS = r('wgpolicyk8s.io', 'v1alpha2', 'policyreports', 'PolicyReport', true);
export const CLUSTER_POLICY_REPORTS = r('wgpolicyk8s.io', 'v1alpha2', 'clusterpolicyreports', 'ClusterPolicyReport', false);
export const OPEN_REPORTS = r('openreports.io', 'v1alpha1', 'reports', 'Report', true);
export const OPEN_CLUSTER_REPORTS = r('openreports.io', 'v1alpha1', 'clusterreports', 'ClusterReport', false);
export const LEASES = r('coordination.k8s.io', 'v1', 'leases', 'Lease', true);

/** The kinds the engine checks, in the order a scan lists them (an API before the CRDs that store it). */
export const AUDITED: readonly ResourceType[] = [
  SERVICES,
  PODS,
  REPLICATION_CONTROLLERS,
  POD_TEMPLATES,
  DEPLOYMENTS,
  REPLICA_SETS,
  STATEFUL_SETS,
  DAEMON_SETS,
  JOBS,
  CRON_JOBS,
  NETWORK_POLICIES,
  CILIUM_NETWORK_POLICIES,
  CILIUM_CLUSTERWIDE_NETWORK_POLICIES,
  ADMIN_NETWORK_POLICIES,
  BASELINE_ADMIN_NETWORK_POLICIES,
  CLUSTER_NETWORK_POLICIES,
  CALICO_NETWORK_POLICIES,
  CALICO_GLOBAL_NETWORK_POLICIES,
  CALICO_CRD_NETWORK_POLICIES,
  CALICO_CRD_GLOBAL_NETWORK_POLICIES,
];

export const ALL_RESOURCES: readonly ResourceType[] = [
  NAMESPACES,
  NODES,
  ...AUDITED,
  PORT_POLICIES,
  POLICY_REPORTS,
  CLUSTER_POLICY_REPORTS,
  OPEN_REPORTS,
  OPEN_CLUSTER_REPORTS,
  LEASES,
];

export const apiVersionOf = (t: ResourceType): string => (t.group ? `${t.group}/${t.version}` : t.version);

/** The collection path: all namespaces when `namespace` is null (or the kind is cluster-scoped). */
export function collectionPath(t: ResourceType, namespace: string | null = null): string {
  const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  return t.namespaced && namespace !== null ? `${base}/namespaces/${encodeURIComponent(namespace)}/${t.resource}` : `${base}/${t.resource}`;
}

export function objectPath(t: ResourceType, namespace: string | null, name: string): string {
  return `${collectionPath(t, t.namespaced ? namespace : null)}/${encodeURIComponent(name)}`;
}

export function withQuery(path: string, query: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}
