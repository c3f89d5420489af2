// AdmissionReviews built the way the API server builds them: request.kind and resource
// from the object, name empty on CREATE with generateName, object null on DELETE,
// oldObject on UPDATE, options per operation.
import { randomUUID } from 'node:crypto';

export type Obj = Record<string, any>;

const PLURALS: Record<string, string> = {
  Pod: 'pods',
  Service: 'services',
  Deployment: 'deployments',
  DaemonSet: 'daemonsets',
  StatefulSet: 'statefulsets',
  ReplicaSet: 'replicasets',
  Job: 'jobs',
  CronJob: 'cronjobs',
  NetworkPolicy: 'networkpolicies',
  CiliumNetworkPolicy: 'ciliumnetworkpolicies',
  CiliumClusterwideNetworkPolicy: 'ciliumclusterwidenetworkpolicies',
  AdminNetworkPolicy: 'adminnetworkpolicies',
  BaselineAdminNetworkPolicy: 'baselineadminnetworkpolicies',
  ClusterNetworkPolicy: 'clusternetworkpolicies',
  GlobalNetworkPolicy: 'globalnetworkpolicies',
  ConfigMap: 'configmaps',
  Secret: 'secrets',
  PortPolicy: 'portpolicies',
};

const OPTIONS: Record<string, Obj> = {
  CREATE: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions', fieldManager: 'kubectl-client-side-apply', fieldValidation: 'Strict' },
  UPDATE: { apiVersion: 'meta.k8s.io/v1', kind: 'UpdateOptions', fieldManager: 'kubectl-client-side-apply', fieldValidation: 'Strict' },
  DELETE: { apiVersion: 'meta.k8s.io/v1', kind: 'DeleteOptions', propagationPolicy: 'Background' },
};

export interface ReviewInput {
  operation?: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  object: Obj;
  oldObject?: Obj | null;
  dryRun?: boolean;
  subResource?: string;
  uid?: string;
}

export function admissionReview(input: ReviewInput): Obj {
  const operation = input.operation ?? 'CREATE';
  const subject = input.object;
  const [group, version] = subject.apiVersion.includes('/') ? subject.apiVersion.split('/') : ['', subject.apiVersion];
  const kind = { group, version, kind: subject.kind };
  const resource = { group, version, resource: PLURALS[subject.kind] ?? `${subject.kind.toLowerCase()}s` };
  const request: Obj = {
    uid: input.uid ?? randomUUID(),
    kind,
    resource,
    requestKind: kind,
    requestResource: resource,
    name: subject.metadata?.name ?? '',
    operation,
    userInfo: { username: 'alice@example.com', uid: 'b7c1a6f0-1e2d-4c3b-9a8f-0d1e2f3a4b5c', groups: ['team-a-developers', 'system:authenticated'] },
    object: operation === 'DELETE' ? null : input.object,
    oldObject: operation === 'CREATE' ? null : (input.oldObject ?? (operation === 'DELETE' ? input.object : null)),
    dryRun: input.dryRun ?? false,
    options: OPTIONS[operation] ?? null,
  };
  if (subject.metadata?.namespace) request.namespace = subject.metadata.namespace;
  if (input.subResource) {
    request.subResource = input.subResource;
    request.requestSubResource = input.subResource;
  }
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request };
}
