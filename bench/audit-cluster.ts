// A simulated cluster at Kubernetes' published scale limits (kubernetes.io "Considerations for
// large clusters": 5,000 nodes, 150,000 pods, at most 110 pods per node; 10,000 Services is
// the scalability SIG's tested Service count). Objects look like what the API server serves:
// managedFields, env, probes, status conditions, so a pod is 3-4 kB of JSON.
type Obj = Record<string, any>;

export interface ClusterShape {
  nodes: number;
  namespaces: number;
  daemonSets: number;
  deployments: number;
  replicasPerDeployment: number;
  statefulSets: number;
  replicasPerStatefulSet: number;
  cronJobs: number;
  standalonePods: number;
  services: number;
  networkPolicies: number;
}

export const FULL_SCALE: ClusterShape = {
  nodes: 5000,
  namespaces: 250,
  // kube-proxy, the CNI agent, log shipper, node exporter, CSI node plugins…: 10 per node.
  daemonSets: 10,
  deployments: 9000,
  replicasPerDeployment: 10,
  statefulSets: 500,
  replicasPerStatefulSet: 10,
  cronJobs: 200,
  standalonePods: 4800,
  services: 10000,
  networkPolicies: 1000,
};

export function podCount(s: ClusterShape): number {
  return s.daemonSets * s.nodes + s.deployments * s.replicasPerDeployment + s.statefulSets * s.replicasPerStatefulSet + s.cronJobs + s.standalonePods;
}

const pad = (n: number, w = 6) => String(n).padStart(w, '0');
const ns = (i: number) => `team-${pad(i % 1000, 3)}`;

const managedFields = (manager: string) => [
  {
    manager,
    operation: 'Update',
    apiVersion: 'v1',
    time: '2026-11-20T10:00:00Z',
    fieldsType: 'FieldsV1',
    fieldsV1: {
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:ports': {} } } },
    },
  },
  {
    manager: 'kubelet',
    operation: 'Update',
    apiVersion: 'v1',
    time: '2026-11-20T10:00:05Z',
    fieldsType: 'FieldsV1',
    subresource: 'status',
    fieldsV1: { 'f:status': { 'f:conditions': {}, 'f:containerStatuses': {}, 'f:podIP': {}, 'f:phase': {} } },
  },
];

function container(name: string, ports: Obj[]): Obj {
  return {
    name,
    image: `registry.example.com/${name}:1.27.3`,
    imagePullPolicy: 'IfNotPresent',
    args: ['--config=/etc/app/config.yaml', '--log-level=info'],
    env: [
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
      { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'db', key: 'url' } } },
      { name: 'GOMAXPROCS', value: '2' },
    ],
    ports,
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
    livenessProbe: {
      httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' },
      periodSeconds: 10,
      timeoutSeconds: 1,
      failureThreshold: 3,
      successThreshold: 1,
    },
    readinessProbe: { httpGet: { path: '/readyz', port: 8080, scheme: 'HTTP' }, periodSeconds: 5, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1 },
    volumeMounts: [
      { name: 'config', mountPath: '/etc/app' },
      { name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
    ],
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
  };
}

function podSpec(ports: Obj[], hostNetwork = false, node?: string): Obj {
  return {
    ...(hostNetwork ? { hostNetwork: true } : {}),
    ...(node ? { nodeName: node } : {}),
    containers: [container('app', ports), container('sidecar', [{ name: 'metrics', containerPort: 9102, protocol: 'TCP' }])],
    volumes: [
      { name: 'config', configMap: { name: 'app-config', defaultMode: 420 } },
      {
        name: 'kube-api-access',
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          ],
        },
      },
    ],
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    serviceAccountName: 'default',
    securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
    schedulerName: 'default-scheduler',
    tolerations: [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ],
    priority: 0,
    enableServiceLinks: true,
  };
}

const podStatus = (i: number): Obj => ({
  phase: 'Running',
  conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
    type,
    status: 'True',
    lastProbeTime: null,
    lastTransitionTime: '2026-11-20T10:00:05Z',
  })),
  hostIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
  podIP: `10.244.${(i >> 8) & 255}.${i & 255}`,
  startTime: '2026-11-20T10:00:00Z',
  containerStatuses: ['app', 'sidecar'].map((name) => ({
    name,
    ready: true,
    restartCount: 0,
    started: true,
    image: `registry.example.com/${name}:1.27.3`,
    imageID: `registry.example.com/${name}@sha256:${'ab'.repeat(32)}`,
    containerID: `containerd://${'cd'.repeat(32)}`,
    state: { running: { startedAt: '2026-11-20T10:00:04Z' } },
  })),
  qosClass: 'Burstable',
});

function pod(namespace: string, name: string, ports: Obj[], i: number, owner?: Obj, hostNetwork = false): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels: { app: name.replace(/-[a-z0-9]+$/, ''), 'pod-template-hash': '7d9f8c6b5' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-20T10:00:00Z' },
      ...(owner ? { ownerReferences: [{ ...owner, uid: `uid-${owner.name}`, controller: true, blockOwnerDeletion: true }] } : {}),
      creationTimestamp: '2026-11-20T10:00:00Z',
      managedFields: managedFields('kube-controller-manager'),
    },
    spec: podSpec(ports, hostNetwork, `node-${pad(i % 5000, 4)}`),
    status: podStatus(i),
  };
}

const template = (ports: Obj[], hostNetwork = false) => ({ metadata: { labels: { app: 'x' } }, spec: podSpec(ports, hostNetwork) });
const appPorts = [{ name: 'http', containerPort: 8080, protocol: 'TCP' }];

/** Every object of the cluster, generated one at a time. */
export function* clusterObjects(s: ClusterShape): Generator<Obj> {
  for (let n = 0; n < s.nodes; n++) {
    yield {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: `node-${pad(n, 4)}`, labels: { 'kubernetes.io/hostname': `node-${pad(n, 4)}`, 'topology.kubernetes.io/zone': `zone-${n % 3}` } },
      spec: { podCIDR: `10.244.${n % 256}.0/24` },
      status: {
        addresses: [
          { type: 'InternalIP', address: `10.0.${n >> 8}.${n & 255}` },
          { type: 'ExternalIP', address: `203.0.${n >> 8}.${n & 255}` },
          { type: 'Hostname', address: `node-${pad(n, 4)}` },
        ],
        capacity: { cpu: '16', memory: '64Gi', pods: '110' },
        nodeInfo: { kubeletVersion: 'v1.34.1', containerRuntimeVersion: 'containerd://2.1.0', osImage: 'Ubuntu 24.04 LTS' },
      },
    };
  }
  yield { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system', labels: { 'kubernetes.io/metadata.name': 'kube-system' } } };
  for (let i = 0; i < s.namespaces; i++) {
    yield {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns(i), labels: { 'kubernetes.io/metadata.name': ns(i), tenant: i % 2 ? 'blue' : 'green' } },
    };
  }
  let podIndex = 0;
  for (let d = 0; d < s.daemonSets; d++) {
    // kube-proxy and the CNI agent run on the host network with ports of the reserved catalog.
    const hostNet = d < 2;
    const ports =
      d === 0 ? [{ name: 'metrics', containerPort: 10249, protocol: 'TCP' }] : d === 1 ? [{ name: 'health', containerPort: 4240, protocol: 'TCP' }] : appPorts;
    const name = `ds-${d}`;
    yield {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { namespace: 'kube-system', name, managedFields: managedFields('helm') },
      spec: { selector: { matchLabels: { app: name } }, template: template(ports, hostNet) },
    };
    for (let n = 0; n < s.nodes; n++)
      yield pod('kube-system', `${name}-${pad(n, 5)}`, ports, podIndex++, { apiVersion: 'apps/v1', kind: 'DaemonSet', name }, hostNet);
  }
  for (let d = 0; d < s.deployments; d++) {
    const namespace = ns(d % s.namespaces);
    const name = `web-${pad(d, 5)}`;
    // One in a hundred Deployments asks for a host port on the kubelet's port.
    const ports = d % 100 === 7 ? [{ name: 'http', containerPort: 10250, hostPort: 10250, protocol: 'TCP' }] : appPorts;
    yield {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { namespace, name, managedFields: managedFields('helm') },
      spec: { replicas: s.replicasPerDeployment, selector: { matchLabels: { app: name } }, template: template(ports) },
    };
    for (const [rs, replicas] of [
      [`${name}-6c8d7f9b4`, 0],
      [`${name}-7d9f8c6b5`, s.replicasPerDeployment],
    ] as const) {
      yield {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          namespace,
          name: rs,
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: `uid-${name}`, controller: true }],
          managedFields: managedFields('kube-controller-manager'),
        },
        spec: { replicas, selector: { matchLabels: { app: name } }, template: template(ports) },
      };
      for (let r = 0; r < replicas; r++) yield pod(namespace, `${rs}-${pad(r, 3)}`, ports, podIndex++, { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs });
    }
  }
  for (let t = 0; t < s.statefulSets; t++) {
    const namespace = ns(t % s.namespaces);
    const name = `db-${pad(t, 4)}`;
    yield {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { namespace, name },
      spec: { replicas: s.replicasPerStatefulSet, serviceName: name, selector: { matchLabels: { app: name } }, template: template(appPorts) },
    };
    for (let r = 0; r < s.replicasPerStatefulSet; r++)
      yield pod(namespace, `${name}-${r}`, appPorts, podIndex++, { apiVersion: 'apps/v1', kind: 'StatefulSet', name });
  }
  for (let c = 0; c < s.cronJobs; c++) {
    const namespace = ns(c % s.namespaces);
    const name = `backup-${pad(c, 4)}`;
    const spec = { template: { spec: { ...podSpec([]), restartPolicy: 'Never' } } };
    yield { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { namespace, name }, spec: { schedule: '0 * * * *', jobTemplate: { spec } } };
    const job = `${name}-29112026`;
    yield {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { namespace, name: job, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name, uid: `uid-${name}`, controller: true }] },
      spec,
    };
    yield pod(namespace, `${job}-x7k2p`, [], podIndex++, { apiVersion: 'batch/v1', kind: 'Job', name: job });
  }
  for (let p = 0; p < s.standalonePods; p++) {
    // A few debugging pods with host ports on the kubelet's read-only port.
    const ports = p % 200 === 3 ? [{ containerPort: 10255, hostPort: 10255, protocol: 'TCP' }] : appPorts;
    yield pod(ns(p % s.namespaces), `debug-${pad(p, 5)}`, ports, podIndex++);
  }
  for (let v = 0; v < s.services; v++) {
    const namespace = ns(v % s.namespaces);
    const nodePort = v % 10 === 0;
    yield {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace, name: `svc-${pad(v, 5)}`, labels: { app: `web-${pad(v, 5)}` }, managedFields: managedFields('helm') },
      spec: {
        type: nodePort ? 'NodePort' : 'ClusterIP',
        clusterIP: `10.96.${v >> 8}.${v & 255}`,
        clusterIPs: [`10.96.${v >> 8}.${v & 255}`],
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        selector: { app: `web-${pad(v, 5)}` },
        ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', ...(nodePort ? { nodePort: 30000 + (v % 2768) } : {}) }],
        sessionAffinity: 'None',
        internalTrafficPolicy: 'Cluster',
      },
      status: { loadBalancer: {} },
    };
  }
  for (let k = 0; k < s.networkPolicies; k++) {
    const namespace = ns(k % s.namespaces);
    // Some allow egress to the node subnet on the kubelet's port: findings once nodes are known.
    const toNodes = k % 50 === 0;
    yield {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { namespace, name: `np-${pad(k, 4)}` },
      spec: {
        podSelector: { matchLabels: { app: `web-${pad(k, 5)}` } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ protocol: 'TCP', port: 8080 }] }],
        egress: toNodes
          ? [{ to: [{ ipBlock: { cidr: '10.0.0.0/20' } }], ports: [{ protocol: 'TCP', port: 10250 }] }]
          : [{ to: [{ namespaceSelector: {} }], ports: [{ protocol: 'UDP', port: 53 }] }],
      },
    };
  }
}
