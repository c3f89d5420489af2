// Real-looking objects for the test API server: what kubectl get -o json shows, status and
// managedFields included, so the tests also prove that stripping keeps what the rules need.
type Obj = Record<string, any>;

export const namespace = (name: string, labels: Record<string, string> = {}): Obj => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } },
  spec: { finalizers: ['kubernetes'] },
  status: { phase: 'Active' },
});

export const node = (name: string, internalIP: string, externalIP?: string): Obj => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  spec: { podCIDR: '10.244.0.0/24' },
  status: {
    addresses: [
      { type: 'InternalIP', address: internalIP },
      ...(externalIP ? [{ type: 'ExternalIP', address: externalIP }] : []),
      { type: 'Hostname', address: name },
    ],
    capacity: { cpu: '4', memory: '16Gi', pods: '110' },
    nodeInfo: { kubeletVersion: 'v1.34.1', containerRuntimeVersion: 'containerd://2.1.0' },
  },
});

export const service = (ns: string, name: string, nodePorts: number[] = [], extra: Obj = {}): Obj => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace: ns, name, labels: { app: name }, managedFields: [{ manager: 'kubectl', operation: 'Update' }] },
  spec: {
    type: nodePorts.length ? 'NodePort' : 'ClusterIP',
    clusterIP: '10.96.0.10',
    selector: { app: name },
    ports: (nodePorts.length ? nodePorts : [0]).map((p, i) => ({
      name: `p${i}`,
      port: 80 + i,
      targetPort: 8080 + i,
      protocol: 'TCP',
      ...(p ? { nodePort: p } : {}),
    })),
    ...extra,
  },
  status: { loadBalancer: {} },
});

const container = (name: string, ports: Obj[]) => ({
  name,
  image: `registry.example/${name}:1.0`,
  env: [{ name: 'DB_PASSWORD', value: 'hunter2' }],
  resources: { requests: { cpu: '10m' } },
  ports,
});

export const pod = (ns: string, name: string, ports: Obj[], owner?: { apiVersion: string; kind: string; name: string }): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace: ns, name, ownerReferences: owner ? [{ ...owner, uid: `uid-${owner.name}`, controller: true, blockOwnerDeletion: true }] : undefined },
  spec: { containers: [container('app', ports)], nodeName: 'node-1', volumes: [{ name: 'data', emptyDir: {} }] },
  status: { phase: 'Running', podIP: '10.244.1.7' },
});

const template = (ports: Obj[], hostNetwork = false) => ({ metadata: { labels: { app: 'x' } }, spec: { hostNetwork, containers: [container('app', ports)] } });

export const deployment = (ns: string, name: string, ports: Obj[], hostNetwork = false): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { namespace: ns, name },
  spec: { replicas: 3, selector: { matchLabels: { app: name } }, template: template(ports, hostNetwork) },
  status: { replicas: 3 },
});

export const replicaSet = (ns: string, name: string, ports: Obj[], owner?: string): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: {
    namespace: ns,
    name,
    ownerReferences: owner ? [{ apiVersion: 'apps/v1', kind: 'Deployment', name: owner, uid: `uid-${owner}`, controller: true }] : undefined,
  },
  spec: { replicas: 3, selector: { matchLabels: { app: name } }, template: template(ports) },
});

export const cronJob = (ns: string, name: string, ports: Obj[]): Obj => ({
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { namespace: ns, name },
  spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [container('job', ports)] } } } } },
});

export const job = (ns: string, name: string, ports: Obj[], cronOwner?: string): Obj => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: {
    namespace: ns,
    name,
    ownerReferences: cronOwner ? [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cronOwner, uid: `uid-${cronOwner}`, controller: true }] : undefined,
  },
  spec: { template: { spec: { restartPolicy: 'Never', containers: [container('job', ports)] } } },
});

/** Egress to `cidr` on 10250: exposes kubelets when the block holds node addresses. */
export const kubeletEgress = (ns: string, name: string, cidr: string): Obj => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { namespace: ns, name },
  spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr } }], ports: [{ protocol: 'TCP', port: 10250 }] }] },
});

export const portPolicy = (name: string, spec: Obj): Obj => ({ apiVersion: 'portcullis.dev/v1alpha1', kind: 'PortPolicy', metadata: { name }, spec });
