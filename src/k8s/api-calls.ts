// Every Kubernetes API call portcullis makes, in one list. The manifests' RBAC is checked
// against it by a test: the ClusterRole grants exactly these (cluster scope), the Role in
// portcullis-system the namespaced ones.
export interface ApiCall {
  group: string; // '' for the core group
  resource: string;
  verbs: readonly string[];
  /** 'cluster': ClusterRole; 'own-namespace': Role in portcullis-system only. */
  scope: 'cluster' | 'own-namespace';
  why: string;
}

export const API_CALLS: readonly ApiCall[] = [
  { group: '', resource: 'namespaces', verbs: ['get', 'list', 'watch'], scope: 'cluster', why: 'namespace labels decide tenancy' },
  { group: '', resource: 'nodes', verbs: ['list', 'watch'], scope: 'cluster', why: 'node addresses for the network-policy rule' },
  { group: '', resource: 'services', verbs: ['list', 'watch'], scope: 'cluster', why: 'node ports in use; audit' },
  { group: '', resource: 'pods', verbs: ['list', 'watch'], scope: 'cluster', why: 'audit of standalone pods' },
  { group: '', resource: 'replicationcontrollers', verbs: ['list', 'watch'], scope: 'cluster', why: 'audit' },
  { group: '', resource: 'podtemplates', verbs: ['list', 'watch'], scope: 'cluster', why: 'audit' },
  { group: 'apps', resource: 'deployments', verbs: ['list', 'watch'], scope: 'cluster', why: 'audit' },
  { group: 'apps', resource: 'replicasets', verbs: ['list', 'watch'], scope: 'cluster', why: 'audit' },
  { group: 'apps', resource: 'statefulsets', verbs: ['list', 'watch'], scope: 'cluster', why: 'audit' },
  { group: 'apps', resource: 'daemonsets', verbs: ['list', 'watch'], scope: 'cluster', why: 'audit' },
  { group: 'batch', resource: 'jobs', verbs: ['list', 'watch'], scope: 'cluster', why: 'audit' },
  { group: 'batch', resource: 'cronjobs', verbs: ['list', 'watch'], scope: 'cluster', why: 'audit' },
  { group: 'networking.k8s.io', resource: 'networkpolicies', verbs: ['list', 'watch'], scope: 'cluster', why: 'audit' },
  { group: 'cilium.io', resource: 'ciliumnetworkpolicies', verbs: ['list', 'watch'], scope: 'cluster', why: 'audit' },
  { group: 'cilium.io', resource: 'ciliumclusterwidenetworkpolicies', verbs: ['list', 'watch'], scope: 'cluster', why: 'audit' },
  { group: 'portcullis.dev', resource: 'portpolicies', verbs: ['list', 'watch'], scope: 'cluster', why: 'the active policy set' },
  { group: 'portcullis.dev', resource: 'portpolicies/status', verbs: ['update'], scope: 'cluster', why: 'report invalid policies in their status' },
  { group: 'wgpolicyk8s.io', resource: 'policyreports', verbs: ['get', 'list', 'create', 'update', 'delete'], scope: 'cluster', why: 'background audit results' },
  { group: 'wgpolicyk8s.io', resource: 'clusterpolicyreports', verbs: ['get', 'list', 'create', 'update', 'delete'], scope: 'cluster', why: 'background audit results for cluster-scoped objects' },
  { group: 'openreports.io', resource: 'reports', verbs: ['get', 'list', 'create', 'update', 'delete'], scope: 'cluster', why: 'background audit results with --report-format openreports' },
  { group: 'openreports.io', resource: 'clusterreports', verbs: ['get', 'list', 'create', 'update', 'delete'], scope: 'cluster', why: 'background audit results for cluster-scoped objects with --report-format openreports' },
  { group: 'coordination.k8s.io', resource: 'leases', verbs: ['get', 'create', 'update'], scope: 'own-namespace', why: 'leader election among controller replicas' },
];
