// Every Kubernetes API call portcullis makes, per process. Each process runs as its own
// ServiceAccount with its own roles, and a test checks both ways: the code makes exactly these
// calls (run against the test API server), and the manifests' RBAC grants exactly these per
// ServiceAccount (ClusterRole for cluster scope, Role in portcullis-system for the rest).
//
// The webhook faces the network, so it holds only what admission reads: no pods or workload
// specs (their env often carries secrets), no reports, no leases, no secrets or configmaps
// (its certificate and policy arrive as mounted volumes, read by the kubelet). PortPolicy
// status has one writer, the controller; the webhook only reads PortPolicies.
// `scan --cluster` runs with the user's own credentials and needs a subset of the
// controller's reads.
export interface ApiCall {
  group: string; // '' for the core group
  resource: string;
  verbs: readonly string[];
  /** 'cluster': ClusterRole; 'own-namespace': Role in portcullis-system only. */
  scope: 'cluster' | 'own-namespace';
  why: string;
  /**
   * A grant no call of ours uses but another API server's authorizer asks for before it
   * answers one (Calico's tiered policy RBAC); the RBAC holds it, the code never calls it.
   */
  authorizationOnly?: true;
}

export type ApiProcess = 'webhook' | 'controller';

/** The ServiceAccount each process runs as, in portcullis-system. */
export const SERVICE_ACCOUNTS: Record<ApiProcess, string> = {
  webhook: 'portcullis-webhook',
  controller: 'portcullis-controller',
};

const WEBHOOK: readonly ApiCall[] = [
  {
    group: '',
    resource: 'namespaces',
    verbs: ['get', 'list', 'watch'],
    scope: 'cluster',
    why: 'namespace labels decide tenancy; get for a namespace created a moment ago',
  },
  { group: '', resource: 'nodes', verbs: ['list', 'watch'], scope: 'cluster', why: 'node addresses for the network-policy rule' },
  { group: '', resource: 'services', verbs: ['list', 'watch'], scope: 'cluster', why: 'node ports in use, for allocation' },
  { group: 'portcullis.dev', resource: 'portpolicies', verbs: ['list', 'watch'], scope: 'cluster', why: 'the active policy set' },
];

const AUDIT_READ = ['list', 'watch'] as const;
const REPORT_WRITE = ['get', 'list', 'create', 'update', 'delete'] as const;

const CONTROLLER: readonly ApiCall[] = [
  { group: '', resource: 'namespaces', verbs: AUDIT_READ, scope: 'cluster', why: 'namespace labels decide tenancy' },
  { group: '', resource: 'nodes', verbs: AUDIT_READ, scope: 'cluster', why: 'node addresses for the network-policy rule' },
  { group: '', resource: 'services', verbs: AUDIT_READ, scope: 'cluster', why: 'audit' },
  { group: '', resource: 'pods', verbs: AUDIT_READ, scope: 'cluster', why: 'audit of standalone pods' },
  { group: '', resource: 'replicationcontrollers', verbs: AUDIT_READ, scope: 'cluster', why: 'audit' },
  { group: '', resource: 'podtemplates', verbs: AUDIT_READ, scope: 'cluster', why: 'audit' },
  { group: 'apps', resource: 'deployments', verbs: AUDIT_READ, scope: 'cluster', why: 'audit' },
  { group: 'apps', resource: 'replicasets', verbs: AUDIT_READ, scope: 'cluster', why: 'audit' },
  { group: 'apps', resource: 'statefulsets', verbs: AUDIT_READ, scope: 'cluster', why: 'audit' },
  { group: 'apps', resource: 'daemonsets', verbs: AUDIT_READ, scope: 'cluster', why: 'audit' },
  { group: 'batch', resource: 'jobs', verbs: AUDIT_READ, scope: 'cluster', why: 'audit' },
  { group: 'batch', resource: 'cronjobs', verbs: AUDIT_READ, scope: 'cluster', why: 'audit' },
  { group: 'networking.k8s.io', resource: 'networkpolicies', verbs: AUDIT_READ, scope: 'cluster', why: 'audit' },
  { group: 'cilium.io', resource: 'ciliumnetworkpolicies', verbs: AUDIT_READ, scope: 'cluster', why: 'audit' },
  { group: 'cilium.io', resource: 'ciliumclusterwidenetworkpolicies', verbs: AUDIT_READ, scope: 'cluster', why: 'audit' },
  { group: 'policy.networking.k8s.io', resource: 'adminnetworkpolicies', verbs: AUDIT_READ, scope: 'cluster', why: 'audit' },
  { group: 'policy.networking.k8s.io', resource: 'baselineadminnetworkpolicies', verbs: AUDIT_READ, scope: 'cluster', why: 'audit' },
  { group: 'policy.networking.k8s.io', resource: 'clusternetworkpolicies', verbs: AUDIT_READ, scope: 'cluster', why: 'audit' },
  { group: 'projectcalico.org', resource: 'networkpolicies', verbs: AUDIT_READ, scope: 'cluster', why: 'audit (Calico API server, or v3 CRDs)' },
  { group: 'projectcalico.org', resource: 'globalnetworkpolicies', verbs: AUDIT_READ, scope: 'cluster', why: 'audit (Calico API server, or v3 CRDs)' },
  // The Calico API server (and Calico's webhook in front of v3 CRDs) also checks these
  // pseudo-resources before it lists a tier's policies: without them a list leaves out the
  // policies of tiers the caller may not see.
  {
    group: 'projectcalico.org',
    resource: 'tiers',
    verbs: ['get'],
    scope: 'cluster',
    why: 'Calico tiered RBAC: see the policies of every tier',
    authorizationOnly: true,
  },
  {
    group: 'projectcalico.org',
    resource: 'tier.networkpolicies',
    verbs: AUDIT_READ,
    scope: 'cluster',
    why: 'Calico tiered RBAC for networkpolicies',
    authorizationOnly: true,
  },
  {
    group: 'projectcalico.org',
    resource: 'tier.globalnetworkpolicies',
    verbs: AUDIT_READ,
    scope: 'cluster',
    why: 'Calico tiered RBAC for globalnetworkpolicies',
    authorizationOnly: true,
  },
  { group: 'crd.projectcalico.org', resource: 'networkpolicies', verbs: AUDIT_READ, scope: 'cluster', why: 'audit where projectcalico.org/v3 is not served' },
  {
    group: 'crd.projectcalico.org',
    resource: 'globalnetworkpolicies',
    verbs: AUDIT_READ,
    scope: 'cluster',
    why: 'audit where projectcalico.org/v3 is not served',
  },
  { group: 'portcullis.dev', resource: 'portpolicies', verbs: AUDIT_READ, scope: 'cluster', why: 'the active policy set' },
  {
    group: 'portcullis.dev',
    resource: 'portpolicies/status',
    verbs: ['update'],
    scope: 'cluster',
    why: 'report invalid policies in their status (the one writer)',
  },
  { group: 'wgpolicyk8s.io', resource: 'policyreports', verbs: REPORT_WRITE, scope: 'cluster', why: 'background audit results' },
  {
    group: 'wgpolicyk8s.io',
    resource: 'clusterpolicyreports',
    verbs: REPORT_WRITE,
    scope: 'cluster',
    why: 'background audit results for cluster-scoped objects',
  },
  { group: 'openreports.io', resource: 'reports', verbs: REPORT_WRITE, scope: 'cluster', why: 'background audit results with --report-format openreports' },
  {
    group: 'openreports.io',
    resource: 'clusterreports',
    verbs: REPORT_WRITE,
    scope: 'cluster',
    why: 'background audit results for cluster-scoped objects with --report-format openreports',
  },
  {
    group: 'coordination.k8s.io',
    resource: 'leases',
    verbs: ['get', 'create', 'update'],
    scope: 'own-namespace',
    why: 'leader election among controller replicas',
  },
];

export const API_CALLS: Record<ApiProcess, readonly ApiCall[]> = { webhook: WEBHOOK, controller: CONTROLLER };

/** `group/resource:verb` for each call of a process, sorted: the form tests compare. */
export function grantsOf(calls: readonly ApiCall[], scope?: ApiCall['scope']): string[] {
  return calls
    .filter((c) => scope === undefined || c.scope === scope)
    .flatMap((c) => c.verbs.map((v) => `${c.group}/${c.resource}:${v}`))
    .sort();
}
