// Kinds that live outside any namespace: their resources get namespace null, whatever the
// manifest says, as the API server ignores metadata.namespace for them. Keyed by kind alone:
// no namespaced kind in common use shares a name with one of these.
const CLUSTER_SCOPED_KINDS = new Set([
  // core and built-in API groups (kubectl api-resources --namespaced=false, Kubernetes 1.34)
  'Namespace',
  'Node',
  'PersistentVolume',
  'ComponentStatus',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'APIService',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'MutatingAdmissionPolicy',
  'MutatingAdmissionPolicyBinding',
  'StorageClass',
  'CSIDriver',
  'CSINode',
  'VolumeAttachment',
  'PriorityClass',
  'RuntimeClass',
  'IngressClass',
  'IPAddress',
  'ServiceCIDR',
  'CertificateSigningRequest',
  'ClusterTrustBundle',
  'FlowSchema',
  'PriorityLevelConfiguration',
  'DeviceClass',
  'PodSecurityPolicy',
  // CRDs this tool meets: Cilium, its own policy, the reports it writes, common companions
  'CiliumClusterwideNetworkPolicy',
  'CiliumNode',
  'CiliumIdentity',
  'CiliumExternalWorkload',
  'CiliumLoadBalancerIPPool',
  'CiliumClusterwideEnvoyConfig',
  // the admin network policies of policy.networking.k8s.io, and Calico's cluster-scoped kinds
  'AdminNetworkPolicy',
  'BaselineAdminNetworkPolicy',
  'ClusterNetworkPolicy',
  'GlobalNetworkPolicy',
  'GlobalNetworkSet',
  'HostEndpoint',
  'Tier',
  'StagedGlobalNetworkPolicy',
  'PortPolicy',
  'ClusterPolicyReport',
  'ClusterReport',
  'ClusterIssuer',
  'ClusterPolicy',
  'GatewayClass',
]);

export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED_KINDS.has(kind);
}
