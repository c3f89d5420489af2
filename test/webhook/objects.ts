// Realistic objects as the API server hands them to a validating webhook (defaults filled
// in), for the tests and for the sample AdmissionReviews in examples/admission.
import type { Obj } from './reviews.js';

const clone = <T>(v: T): T => structuredClone(v);

const container = (name: string, image: string, ports: Obj[], extra: Obj = {}): Obj => ({
  name,
  image,
  imagePullPolicy: 'IfNotPresent',
  ports: ports.map((p) => ({ protocol: 'TCP', ...p })),
  resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
  ...extra,
});

/** A web pod of a ReplicaSet: nginx, a metrics exporter and a log shipper, with an init container. */
export function webPod(opts: { hostPorts?: Record<string, number> } = {}): Obj {
  const hp = opts.hostPorts ?? {};
  const port = (name: string, containerPort: number) => ({ name, containerPort, ...(hp[name] ? { hostPort: hp[name] } : {}) });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'web-7d4b9c8f6-',
      namespace: 'team-a',
      labels: { app: 'web', 'pod-template-hash': '7d4b9c8f6' },
      annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9113' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'web-7d4b9c8f6',
          uid: '5f0c1b2a-8e7d-4c6b-a5f4-3e2d1c0b9a88',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      initContainers: [container('migrate', 'ghcr.io/example/web-migrate:2.14.0', [], { command: ['/bin/migrate', 'up'] })],
      containers: [
        container('nginx', 'nginx:1.29', [port('http', 8080), port('https', 8443)], {
          env: [
            { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'web-db', key: 'password' } } },
            { name: 'API_TOKEN', value: 's3cr3t-api-token-do-not-log' },
          ],
          readinessProbe: {
            httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' },
            periodSeconds: 10,
            timeoutSeconds: 1,
            successThreshold: 1,
            failureThreshold: 3,
          },
        }),
        container('exporter', 'nginx/nginx-prometheus-exporter:1.4', [port('metrics', 9113)], {
          args: ['--nginx.scrape-uri=http://localhost:8080/stub_status'],
        }),
        container('fluent-bit', 'fluent/fluent-bit:4.0', [port('fb-http', 2020)], {
          volumeMounts: [{ name: 'varlog', mountPath: '/var/log', readOnly: true }],
        }),
      ],
      volumes: [{ name: 'varlog', hostPath: { path: '/var/log', type: '' } }],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'web',
      securityContext: {},
      schedulerName: 'default-scheduler',
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
      priority: 0,
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
    },
  };
}

/** A NodePort Service with three ports, node ports inside team-a's slice unless overridden. */
export function webService(opts: { nodePorts?: (number | undefined)[]; namespace?: string; name?: string } = {}): Obj {
  const nodePorts = opts.nodePorts ?? [30010, 30011, 30012];
  const ports = [
    { name: 'http', port: 80, targetPort: 'http' },
    { name: 'https', port: 443, targetPort: 'https' },
    { name: 'metrics', port: 9113, targetPort: 'metrics' },
  ].map((p, i) => ({ ...p, protocol: 'TCP', ...(nodePorts[i] !== undefined ? { nodePort: nodePorts[i] } : {}) }));
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: opts.name ?? 'web', namespace: opts.namespace ?? 'team-a', labels: { app: 'web' } },
    spec: {
      type: 'NodePort',
      selector: { app: 'web' },
      ports,
      clusterIP: '10.96.14.27',
      clusterIPs: ['10.96.14.27'],
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      externalTrafficPolicy: 'Cluster',
      internalTrafficPolicy: 'Cluster',
      sessionAffinity: 'None',
    },
  };
}

/** An egress NetworkPolicy; by default it opens the kubelet API on every address. */
export function egressPolicy(opts: { name?: string; namespace?: string; egress?: Obj[]; policyTypes?: string[] } = {}): Obj {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: opts.name ?? 'allow-kubelet-egress', namespace: opts.namespace ?? 'team-a' },
    spec: {
      podSelector: {},
      policyTypes: opts.policyTypes ?? ['Egress'],
      egress: opts.egress ?? [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ protocol: 'TCP', port: 10250 }] }],
    },
  };
}

export const DNS_EGRESS: Obj[] = [
  {
    to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }],
    ports: [
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ],
  },
];

/** A DaemonSet in team-a-staging whose template takes host ports. */
export function logAgent(opts: { hostPorts?: number[]; image?: string; extraContainer?: boolean } = {}): Obj {
  const hostPorts = opts.hostPorts ?? [10250];
  const containers = [
    container(
      'agent',
      opts.image ?? 'fluent/fluent-bit:4.0',
      hostPorts.map((hp, i) => ({ name: `p${i}`, containerPort: 2020 + i, hostPort: hp })),
    ),
  ];
  if (opts.extraContainer) containers.unshift(container('config-reloader', 'ghcr.io/example/reloader:0.9', [{ name: 'reload', containerPort: 9533 }]));
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name: 'log-agent',
      namespace: 'team-a-staging',
      uid: '0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d',
      resourceVersion: '481516',
      generation: 3,
      labels: { app: 'log-agent' },
    },
    spec: {
      selector: { matchLabels: { app: 'log-agent' } },
      template: { metadata: { labels: { app: 'log-agent' } }, spec: { containers, restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 10,
    },
  };
}

export { clone };

/** A CronJob in team-a whose job template takes a host port (10250 by default). */
export function backupCronJob(opts: { schedule?: string; hostPort?: number } = {}): Obj {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'backup', namespace: 'team-a', uid: '7c6b5a49-3827-4615-a4b3-c2d1e0f9a8b7', resourceVersion: '902114', generation: 2 },
    spec: {
      schedule: opts.schedule ?? '0 3 * * *',
      concurrencyPolicy: 'Forbid',
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      jobTemplate: {
        spec: {
          backoffLimit: 2,
          template: {
            spec: {
              restartPolicy: 'OnFailure',
              containers: [container('backup', 'ghcr.io/example/backup:1.3', [{ name: 'status', containerPort: 8081, hostPort: opts.hostPort ?? 10250 }])],
            },
          },
        },
      },
    },
  };
}
