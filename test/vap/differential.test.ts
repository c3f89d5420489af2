// The exported ValidatingAdmissionPolicies mean what the engine means: every object of the
// repository's examples and fixtures, and objects fast-check generates, is denied, warned or
// audited by the VAPs (run by the test evaluator, test/support/k8s-cel) exactly when the
// webhook would deny, warn or audit it: a finding of that action on a rule VAP mode covers,
// outside the excluded namespaces, with an UPDATE's carried-over deny findings as warnings.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { evaluate } from '../../src/engine/evaluate.js';
import { checkedKind, isClusterScoped } from '../../src/engine/facts/kinds.js';
import { loadPolicy } from '../../src/engine/policy/load.js';
import type { CompiledPolicy } from '../../src/engine/policy/model.js';
import type { KubeObject, Labels } from '../../src/engine/types.js';
import { AUDITED } from '../../src/k8s/resources.js';
import { exportVap, VAP_RULES, type ExportedObject } from '../../src/sinks/vap/index.js';
import { defaultSpec } from '../engine/helpers.js';
import { admit, type AdmissionAttributes } from '../support/k8s-cel/index.js';
import { parsePrefix, prefixContains } from '../support/k8s-cel/net.js';
import { backupCronJob, egressPolicy, logAgent, webPod, webService } from '../webhook/objects.js';
import * as cluster from '../support/cluster-objects.js';

type Obj = Record<string, any>;

const ROOT = new URL('../../', import.meta.url).pathname;

function compiled(doc: unknown): CompiledPolicy {
  const r = loadPolicy(doc, defaultSpec);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.policy;
}

const yamlDocs = (file: string): Obj[] =>
  parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as Obj)
    .filter((d) => d !== null && typeof d === 'object');

const DEFAULT = compiled({ apiVersion: 'portcullis.dev/v1alpha1', kind: 'PortPolicy', metadata: { name: 'default' }, spec: defaultSpec });
const TENANTS = compiled(yamlDocs(path.join(ROOT, 'examples/policies/portpolicy.yaml'))[0]);
const NODE_CIDRS = compiled({
  apiVersion: 'portcullis.dev/v1alpha1',
  kind: 'PortPolicy',
  metadata: { name: 'nodes' },
  spec: { nodeCIDRs: ['10.0.0.0/16', 'fd00:10::/64'] },
});
/** Every action and exemption shape the compiler handles, on top of tenants by names, globs and labels. */
const MIXED = compiled({
  apiVersion: 'portcullis.dev/v1alpha1',
  kind: 'PortPolicy',
  metadata: { name: 'mixed' },
  spec: {
    rules: {
      'nodeport-range': 'warn',
      'hostport-reserved': 'audit',
      'nodeport-not-allowed': 'deny',
      'hostport-not-allowed': 'deny',
      'service-external-ips': 'warn',
    },
    allowedExternalIPs: ['198.51.100.0/24', '10.0.1.0/24'],
    tenants: [
      {
        name: 'shop',
        namespaces: ['shop', 'shop-?'],
        nodePortRange: '30100-30199',
        allowNodePorts: false,
        allowLoadBalancers: false,
        allowedHostPorts: ['8000-8100', '9100'],
        allowedExternalIPs: ['203.0.113.0/24', '2001:db8::/64'],
      },
      {
        name: 'labs',
        namespaceSelector: {
          matchExpressions: [
            { key: 'team', operator: 'In', values: ['labs', 'research'] },
            { key: 'frozen', operator: 'DoesNotExist' },
          ],
        },
        allowHostNetwork: false,
      },
    ],
    exemptions: [
      { namespaces: ['monitoring'], kinds: ['DaemonSet'], names: ['node-*'], rules: ['hostport-reserved', 'hostport-not-allowed'], reason: 'node exporters' },
      { namespaces: ['shop'], names: ['legacy'], reason: 'legacy shop' },
      { namespaces: ['team-a*'], serviceAccounts: ['team-a/deploy*'], groups: ['ops:*'], users: ['admin@example.com'], reason: 'the deployers' },
    ],
  },
});

const POLICY_SETS: { name: string; policies: CompiledPolicy[] }[] = [
  { name: 'default policy', policies: [DEFAULT] },
  { name: 'tenant policy', policies: [TENANTS] },
  { name: 'policy with node CIDRs', policies: [NODE_CIDRS] },
  { name: 'mixed actions, exemptions and tenants', policies: [MIXED] },
  { name: 'two policies at once', policies: [DEFAULT, MIXED] },
];

const COVERED = new Set(Object.keys(VAP_RULES));

/** As the webhooks' namespaceSelector (manifests/components/namespace-exclusions). */
const EXCLUDED = new Set(['portcullis-system', 'kube-system', 'kube-node-lease']);

interface Verdict {
  deny: boolean;
  warn: boolean;
  audit: boolean;
}

interface Case {
  name: string;
  /** The AdmissionReview's userInfo; a fixed user without one. */
  requester?: { username: string; groups: string[] };
  object: Obj;
  oldObject?: Obj | null;
  namespace: string;
  labels: Labels;
}

function resourceOf(object: Obj) {
  const kind = checkedKind(object.apiVersion, object.kind);
  if (!kind) return null;
  const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '';
  const t = AUDITED.find((r) => r.group === group && r.kind === object.kind);
  return t ? { t, clusterScoped: isClusterScoped(kind) } : null;
}

const TESTER = { username: 'tester', groups: ['system:authenticated'] };

/** What the webhook does: its namespaceSelector, then decide() over the engine's findings. */
function webhookVerdict(c: Case, policies: CompiledPolicy[], clusterScoped: boolean, exclusions: boolean): Verdict {
  const none = { deny: false, warn: false, audit: false };
  const namespace = clusterScoped ? null : c.namespace;
  if (exclusions && namespace !== null && (EXCLUDED.has(namespace) || Object.hasOwn(c.labels, 'portcullis.dev/ignore'))) return none;
  const facts = { namespaceLabels: (ns: string) => (ns === c.namespace ? c.labels : undefined), nodeAddresses: [] };
  // Admin network policies and Calico's are not exported: the webhook alone judges them.
  const exported = !/^(policy\.networking\.k8s\.io|projectcalico\.org|crd\.projectcalico\.org)\//.test(c.object.apiVersion);
  const findings = evaluate({ object: c.object as KubeObject, namespace, source: null, requester: c.requester ?? TESTER }, policies, facts).findings.filter(
    (f) => COVERED.has(f.rule) && exported,
  );
  const previous = c.oldObject
    ? new Set(
        evaluate({ object: c.oldObject as KubeObject, namespace, source: null, requester: c.requester ?? TESTER }, policies, facts).findings.map((f) => f.key),
      )
    : null;
  return {
    deny: findings.some((f) => f.action === 'deny' && !previous?.has(f.key)),
    warn: findings.some((f) => f.action === 'warn' || (f.action === 'deny' && previous?.has(f.key) === true)),
    audit: findings.some((f) => f.action === 'audit'),
  };
}

/** What the exported VAPs do to the same request. */
function vapVerdict(c: Case, exported: ExportedObject[], clusterScoped: boolean): { verdict: Verdict; messages: string[]; errors: string[] } {
  const r = resourceOf(c.object)!;
  const attrs: AdmissionAttributes = {
    operation: c.oldObject ? 'UPDATE' : 'CREATE',
    resource: { group: r.t.group, version: r.t.version, resource: r.t.resource },
    kind: { group: r.t.group, version: r.t.version, kind: r.t.kind },
    namespace: clusterScoped ? null : c.namespace,
    object: c.object,
    oldObject: c.oldObject ?? null,
    userInfo: c.requester ?? TESTER,
    namespaceObject: clusterScoped
      ? null
      : { apiVersion: 'v1', kind: 'Namespace', metadata: { name: c.namespace, labels: { ...c.labels, 'kubernetes.io/metadata.name': c.namespace } } },
  };
  const verdict = { deny: false, warn: false, audit: false };
  const messages: string[] = [];
  const errors: string[] = [];
  const bindings = exported.filter((o) => o.kind === 'ValidatingAdmissionPolicyBinding');
  for (const b of bindings) {
    const policy = exported.find((o) => o.kind === 'ValidatingAdmissionPolicy' && o.metadata.name === b.spec.policyName)!;
    const out = admit(policy, b, attrs);
    if (!out) continue;
    errors.push(...out.errors);
    messages.push(...out.messages);
    for (const a of out.actions) {
      if (a === 'Deny') verdict.deny = true;
      if (a === 'Warn') verdict.warn = true;
      if (a === 'Audit') verdict.audit = true;
    }
  }
  return { verdict, messages, errors };
}

// --- the objects -------------------------------------------------------------------------

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

const exampleNamespaces = new Map<string, Labels>(
  yamlDocs(path.join(ROOT, 'examples/manifests/namespaces.yaml')).map((n) => [n.metadata.name, (n.metadata.labels ?? {}) as Labels]),
);

const MANIFEST_CASES: Case[] = filesUnder(path.join(ROOT, 'examples/manifests'))
  .filter((f) => /\.ya?ml$/.test(f))
  .flatMap((f) =>
    yamlDocs(f).map((object, i) => {
      const namespace = object.metadata?.namespace ?? 'default';
      return { name: `${path.relative(ROOT, f)}#${i}`, object, namespace, labels: exampleNamespaces.get(namespace) ?? {} };
    }),
  );

const ADMISSION_CASES: Case[] = filesUnder(path.join(ROOT, 'examples/admission'))
  .filter((f) => f.endsWith('.json'))
  .flatMap((f) => {
    const review = JSON.parse(readFileSync(f, 'utf8')) as Obj;
    const req = review.request;
    if (!req?.object) return [];
    return [
      {
        name: path.relative(ROOT, f),
        object: req.object,
        oldObject: req.oldObject ?? null,
        namespace: req.namespace ?? 'default',
        labels: exampleNamespaces.get(req.namespace) ?? {},
      },
    ];
  });

const ns = (name: string, labels: Labels = {}) => ({ namespace: name, labels });

const FIXTURE_CASES: Case[] = [
  { name: 'webPod', object: webPod(), ...ns('team-a') },
  { name: 'webPod on the kubelet port', object: webPod({ hostPorts: { http: 10250 } }), ...ns('team-a') },
  { name: 'webService', object: webService(), ...ns('team-a') },
  { name: 'webService out of range', object: webService({ nodePorts: [80, 30050] }), ...ns('team-a') },
  { name: 'logAgent', object: logAgent(), ...ns('shop') },
  { name: 'logAgent with host ports', object: logAgent({ hostPorts: [10250, 8080, 9100], extraContainer: true }), ...ns('shop') },
  { name: 'backupCronJob', object: backupCronJob({ hostPort: 2379 }), ...ns('labs-x', { team: 'labs' }) },
  { name: 'egress policy', object: egressPolicy(), ...ns('team-a') },
  {
    name: 'egress policy to the kubelet everywhere',
    object: egressPolicy({ egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 10250 }] }] }),
    ...ns('team-a'),
  },
  { name: 'cluster pod on 10250', object: cluster.pod('team-b', 'agent', [{ containerPort: 10250, hostPort: 10250 }]), ...ns('team-b', { tenant: 'team-b' }) },
  {
    name: 'cluster deployment on the host network',
    object: cluster.deployment('labs', 'net', [{ containerPort: 9100 }], true),
    ...ns('labs', { team: 'research' }),
  },
  {
    name: 'cluster deployment on the host network in a tenant that has not said',
    object: cluster.deployment('shop', 'net', [{ containerPort: 8050 }], true),
    ...ns('shop'),
  },
  { name: 'cluster deployment on the host network in team-a', object: cluster.deployment('team-a', 'net', [{ containerPort: 8085 }], true), ...ns('team-a') },
  {
    name: 'cluster frozen labs namespace',
    object: cluster.deployment('labs', 'net', [{ containerPort: 9100 }], true),
    ...ns('labs', { team: 'research', frozen: 'yes' }),
  },
  {
    name: 'kubelet port by an exempt ServiceAccount',
    object: webPod({ hostPorts: { http: 10250 } }),
    ...ns('team-a'),
    requester: { username: 'system:serviceaccount:team-a:deployer', groups: [] },
  },
  {
    name: 'kubelet port by another ServiceAccount',
    object: webPod({ hostPorts: { http: 10250 } }),
    ...ns('team-a'),
    requester: { username: 'system:serviceaccount:team-b:deployer', groups: [] },
  },
  {
    name: 'kubelet port by an exempt group',
    object: webPod({ hostPorts: { http: 10250 } }),
    ...ns('team-a-dev'),
    requester: { username: 'x', groups: ['ops:night'] },
  },
  {
    name: 'kubelet port by an exempt user',
    object: webPod({ hostPorts: { http: 10250 } }),
    ...ns('team-a'),
    requester: { username: 'admin@example.com', groups: [] },
  },
  { name: 'cluster replicaset', object: cluster.replicaSet('team-a', 'rs', [{ containerPort: 80, hostPort: 8085 }]), ...ns('team-a') },
  { name: 'cluster cronjob', object: cluster.cronJob('team-a-dev', 'cj', [{ containerPort: 80, hostPort: 6443 }]), ...ns('team-a-dev') },
  { name: 'cluster job', object: cluster.job('shop-1', 'j', [{ containerPort: 80, hostPort: 9100 }]), ...ns('shop-1') },
  { name: 'cluster service', object: cluster.service('shop', 'svc', [30150, 31000]), ...ns('shop') },
  { name: 'cluster service in a legacy exemption', object: cluster.service('shop', 'legacy', [31000]), ...ns('shop') },
  { name: 'an opted-out namespace', object: webPod({ hostPorts: { http: 10250 } }), ...ns('calico-system', { 'portcullis.dev/ignore': 'true' }) },
  { name: 'kube-system', object: webPod({ hostPorts: { http: 10250 } }), ...ns('kube-system') },
];

/** Ownership (src/engine/facts/owners.ts): each row is one way a pod is, or only seems, an owner's. */
const ownerPod = (namespace: string, name: string, port: number, meta: Obj = {}, hostNetwork = true): Case => ({
  name: `${namespace}/${name} on ${port}${meta.ownerReferences ? ` owned by ${meta.ownerReferences.map((r: Obj) => `${r.kind}/${r.name}`).join(',')}` : ''}${meta.annotations ? ' (mirror)' : ''}${meta.labels ? ` hash ${meta.labels['pod-template-hash']}` : ''}`,
  object: {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, ...meta },
    spec: { hostNetwork, containers: [{ name: 'c', image: 'i', ports: [{ containerPort: port }] }] },
  },
  namespace,
  labels: {},
});
const ref = (kind: string, name: string) => ({ ownerReferences: [{ apiVersion: kind === 'Node' ? 'v1' : 'apps/v1', kind, name }] });
const MIRROR = { annotations: { 'kubernetes.io/config.mirror': '0a1b' } };
const OWNER_CASES: Case[] = [
  ownerPod('kube-system', 'etcd', 2379),
  ownerPod('kube-system', 'etcd-cp-1', 2379, MIRROR),
  ownerPod('kube-system', 'etcd-cp-1', 2379, ref('Node', 'cp-1')),
  ownerPod('kube-system', 'etcd-cp-1', 2379),
  ownerPod('kube-system', 'etcd-', 2379, MIRROR),
  ownerPod('kube-system', 'kube-apiserver-cp-1', 6443, MIRROR),
  ownerPod('kube-system', 'kube-apiserver-cp-1', 2379, MIRROR),
  ownerPod('kube-system', 'kube-proxy-x7k2p', 10249, ref('DaemonSet', 'kube-proxy')),
  ownerPod('kube-system', 'kube-proxy-x7k2p', 10250, ref('DaemonSet', 'kube-proxy')),
  ownerPod('cilium', 'cilium-x7k2p', 4240, ref('DaemonSet', 'cilium')),
  ownerPod('cilium', 'cilium-x7k2p', 8472, ref('DaemonSet', 'cilium')),
  ownerPod('team-a', 'cilium-x7k2p', 4240, ref('DaemonSet', 'cilium')),
  ownerPod('cilium', 'cilium-operator-5d9f7c8b4-abcde', 9963, {
    ...ref('ReplicaSet', 'cilium-operator-5d9f7c8b4'),
    labels: { 'pod-template-hash': '5d9f7c8b4' },
  }),
  ownerPod('cilium', 'cilium-operator-5d9f7c8b4-abcde', 9963, ref('ReplicaSet', 'cilium-operator-5d9f7c8b4')),
  ownerPod('cilium', 'cilium-operator-5d9f7c8b4-abcde', 9963, { ...ref('ReplicaSet', 'cilium-operator-5d9f7c8b4'), labels: { 'pod-template-hash': 'other' } }),
  ownerPod('cilium', 'cilium-operator', 9963),
  ownerPod('calico-system', 'calico-node-abcde', 179, ref('DaemonSet', 'calico-node')),
  {
    name: 'cilium DaemonSet in cilium',
    object: {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'cilium', namespace: 'cilium' },
      spec: {
        template: {
          spec: {
            hostNetwork: true,
            containers: [{ name: 'agent', image: 'i', ports: [{ containerPort: 4240 }, { containerPort: 4244 }, { containerPort: 10250 }] }],
          },
        },
      },
    },
    namespace: 'cilium',
    labels: {},
  },
  {
    name: "cilium DaemonSet in cilium, a namespace a tenant's selector takes",
    object: {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'cilium', namespace: 'cilium' },
      spec: { template: { spec: { hostNetwork: true, containers: [{ name: 'agent', image: 'i', ports: [{ containerPort: 4240 }] }] } } },
    },
    namespace: 'cilium',
    labels: { team: 'labs', tenant: 'team-b' },
  },
  {
    name: 'cilium DaemonSet in a tenant namespace',
    object: {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'cilium', namespace: 'team-a' },
      spec: { template: { spec: { hostNetwork: true, containers: [{ name: 'agent', image: 'i', ports: [{ containerPort: 4240 }] }] } } },
    },
    namespace: 'team-a',
    labels: {},
  },
];

// --- generated objects ---------------------------------------------------------------------

const PORTS = fc.oneof(
  fc.constantFrom(
    0,
    80,
    179,
    2379,
    4789,
    9963,
    10249,
    10256,
    10257,
    2380,
    4240,
    6443,
    8080,
    8085,
    8100,
    8472,
    9000,
    9100,
    10250,
    10255,
    30000,
    30039,
    30040,
    30100,
    30150,
    32767,
    32768,
    51871,
    65535,
  ),
  fc.integer({ min: 1, max: 65535 }),
);
const PROTOCOL = fc.option(fc.constantFrom('TCP', 'UDP', 'SCTP', 'udp'), { nil: undefined });

const portEntry = fc.record({ containerPort: PORTS, hostPort: fc.option(PORTS, { nil: undefined }), protocol: PROTOCOL }, { requiredKeys: ['containerPort'] });
const containerArb = (name: string) =>
  fc.record(
    { name: fc.constant(name), image: fc.constant('img'), ports: fc.option(fc.array(portEntry, { maxLength: 4 }), { nil: undefined }) },
    { requiredKeys: ['name', 'image'] },
  );
const podSpecArb = fc.record(
  {
    hostNetwork: fc.option(fc.boolean(), { nil: undefined }),
    containers: fc.tuple(containerArb('a'), fc.option(containerArb('b'), { nil: undefined })).map(([a, b]) => (b ? [a, b] : [a])),
    initContainers: fc.option(
      fc.tuple(containerArb('init')).map((x) => x),
      { nil: undefined },
    ),
  },
  { requiredKeys: ['containers'] },
);

const WORKLOAD_WRAP: { apiVersion: string; kind: string; wrap: (spec: Obj) => Obj }[] = [
  { apiVersion: 'v1', kind: 'Pod', wrap: (spec) => ({ spec }) },
  { apiVersion: 'v1', kind: 'PodTemplate', wrap: (spec) => ({ template: { spec } }) },
  { apiVersion: 'apps/v1', kind: 'DaemonSet', wrap: (spec) => ({ spec: { template: { spec } } }) },
  { apiVersion: 'apps/v1', kind: 'Deployment', wrap: (spec) => ({ spec: { template: { spec } } }) },
  { apiVersion: 'apps/v1', kind: 'ReplicaSet', wrap: (spec) => ({ spec: { template: { spec } } }) },
  { apiVersion: 'batch/v1', kind: 'CronJob', wrap: (spec) => ({ spec: { schedule: '@daily', jobTemplate: { spec: { template: { spec } } } } }) },
];

const NAMESPACES: fc.Arbitrary<{ namespace: string; labels: Labels }> = fc.constantFrom(
  ns('team-a'),
  ns('team-a-dev'),
  ns('team-b', { tenant: 'team-b' }),
  ns('elsewhere', { tenant: 'team-b' }),
  ns('shop'),
  ns('shop-2'),
  ns('labs', { team: 'labs' }),
  ns('research', { team: 'research', frozen: '1' }),
  ns('monitoring'),
  ns('default'),
  ns('kube-system'),
  ns('cilium'),
  ns('calico-system'),
);

const NAMES = fc.constantFrom(
  'web',
  'node-exporter',
  'legacy',
  'agent',
  'cilium',
  'cilium-operator',
  'kube-proxy',
  'etcd',
  'etcd-cp-1',
  'kube-apiserver-cp-1',
  'calico-node',
);

/** Who the object is to ownership: owner references, the pod-template-hash label, the mirror annotation. */
const OWNER_REFS = fc.option(
  fc.array(
    fc.constantFrom(
      { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'cilium' },
      { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'kube-proxy' },
      { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'calico-node' },
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'cilium-operator-5d9f7c8b4' },
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d9f7c8b4' },
      { apiVersion: 'v1', kind: 'Node', name: 'cp-1' },
    ),
    { maxLength: 2 },
  ),
  { nil: undefined },
);
const metadataArb = fc
  .record({
    name: NAMES,
    ownerReferences: OWNER_REFS,
    hash: fc.option(fc.constantFrom('5d9f7c8b4', 'other'), { nil: undefined }),
    mirror: fc.boolean(),
  })
  .map(({ name, ownerReferences, hash, mirror }) => ({
    name,
    ...(ownerReferences ? { ownerReferences } : {}),
    ...(hash ? { labels: { 'pod-template-hash': hash } } : {}),
    ...(mirror ? { annotations: { 'kubernetes.io/config.mirror': 'abc' } } : {}),
  }));

const workloadArb = fc
  .record({ w: fc.constantFrom(...WORKLOAD_WRAP), spec: podSpecArb, metadata: metadataArb })
  .map(({ w, spec, metadata }) => ({ apiVersion: w.apiVersion, kind: w.kind, metadata, ...w.wrap(spec) }));

const servicePort = fc.record(
  {
    name: fc.option(fc.constantFrom('http', 'https', ''), { nil: undefined }),
    port: fc.constantFrom(80, 443, 8080),
    protocol: PROTOCOL,
    nodePort: fc.option(PORTS, { nil: undefined }),
  },
  { requiredKeys: ['port'] },
);
const serviceArb = fc
  .record(
    {
      type: fc.option(fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'), { nil: undefined }),
      ports: fc.array(servicePort, { maxLength: 3 }),
      healthCheckNodePort: fc.option(PORTS, { nil: undefined }),
      allocateLoadBalancerNodePorts: fc.option(fc.boolean(), { nil: undefined }),
      externalTrafficPolicy: fc.option(fc.constantFrom('Cluster', 'Local'), { nil: undefined }),
      externalIPs: fc.option(
        fc.array(fc.constantFrom('10.0.1.5', '10.0.9.9', '203.0.113.7', '198.51.100.1', '8.8.8.8', 'fd00:10::5', '2001:db8::1', '2001:db8:1::1'), {
          maxLength: 3,
        }),
        { nil: undefined },
      ),
    },
    { requiredKeys: ['ports'] },
  )
  .chain((spec) => NAMES.map((name) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec })));

/** An UPDATE: the old object is a generated object of the same kind and name, or a tweak of the new one. */
const caseArb: fc.Arbitrary<Case> = fc
  .record({
    object: fc.oneof(workloadArb, serviceArb),
    old: fc.option(fc.oneof(workloadArb, serviceArb), { nil: undefined }),
    same: fc.boolean(),
    where: NAMESPACES,
  })
  .map(({ object, old, same, where }) => {
    const oldObject = old && old.kind === object.kind ? { ...old, metadata: object.metadata } : old && same ? structuredClone(object) : null;
    return { name: 'generated', object, oldObject, ...where };
  });

const CIDRS = [
  '0.0.0.0/0',
  '10.0.0.0/8',
  '10.0.0.0/16',
  '10.0.1.0/24',
  '10.0.1.5/32',
  '10.0.1.6/32',
  '192.168.0.0/16',
  '172.16.0.0/12',
  '8.8.8.8/32',
  '::/0',
  'fd00::/8',
  'fd00:10::/64',
  '2001:db8::/32',
  '100.64.0.0/10',
];
const EXCEPT_SETS: string[][] = [
  [],
  ['10.0.0.0/8'],
  ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
  ['10.0.1.0/24'],
  ['fd00::/8'],
  ['10.0.0.0/16'],
  ['10.0.1.5/32'],
];
const peerArb = fc.oneof(
  fc.record({ cidr: fc.constantFrom(...CIDRS), except: fc.constantFrom(...EXCEPT_SETS) }).map(({ cidr, except }) => {
    // The API server accepts only excepts inside the cidr and of its family.
    const inside = except.filter((e) => ipBlockInside(e, cidr));
    return { ipBlock: inside.length > 0 ? { cidr, except: inside } : { cidr } };
  }),
  fc.constant({ podSelector: {} }),
  fc.constant({ namespaceSelector: { matchLabels: { team: 'a' } } }),
);
const netpolPortArb = fc.oneof(
  fc.record({ port: fc.constantFrom(10250, 10255, 443, 53, 10000), protocol: PROTOCOL }, { requiredKeys: ['port'] }),
  fc.record({ port: fc.constant(10000), endPort: fc.constantFrom(10300, 10250, 10100) }),
  fc.record({ protocol: fc.constantFrom('TCP', 'UDP') }),
  fc.constant({ port: 'https' }),
);
const egressRuleArb = fc.record({
  to: fc.option(fc.array(peerArb, { maxLength: 3 }), { nil: undefined }),
  ports: fc.option(fc.array(netpolPortArb, { maxLength: 3 }), { nil: undefined }),
});
const netpolArb = fc
  .record({
    egress: fc.option(fc.array(egressRuleArb, { maxLength: 3 }), { nil: undefined }),
    policyTypes: fc.option(fc.constantFrom(['Egress'], ['Ingress'], ['Ingress', 'Egress'], []), { nil: undefined }),
    name: NAMES,
  })
  .map(({ egress, policyTypes, name }) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name },
    spec: {
      podSelector: {},
      ...(egress ? { egress: egress.map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined))) } : {}),
      ...(policyTypes ? { policyTypes } : {}),
    },
  }));

/** A CIDR inside another, of the same family (what API validation requires of an except). */
function ipBlockInside(inner: string, outer: string): boolean {
  const a = parsePrefix(inner)!;
  const b = parsePrefix(outer)!;
  return a.address.family === b.address.family && a.bits >= b.bits && prefixContains(b, a.address);
}

const ciliumPortArb = fc.record(
  {
    port: fc.option(fc.constantFrom('10250', '10255', '443', '0', '10000', 'https', ''), { nil: undefined }),
    endPort: fc.option(fc.constantFrom(10300, 10100), { nil: undefined }),
    protocol: fc.option(fc.constantFrom('TCP', 'UDP', 'ANY', 'any', 'ICMP'), { nil: undefined }),
  },
  { requiredKeys: [] },
);
const ciliumRuleArb = fc
  .record(
    {
      toCIDR: fc.array(fc.constantFrom(...CIDRS), { maxLength: 2 }),
      toCIDRSet: fc.array(fc.record({ cidr: fc.constantFrom(...CIDRS), except: fc.constantFrom(...EXCEPT_SETS) }), { maxLength: 2 }),
      toEntities: fc.array(fc.constantFrom('host', 'remote-node', 'cluster', 'world', 'kube-apiserver', 'all', 'Host'), { maxLength: 2 }),
      toEndpoints: fc.constant([{}]),
      toNodes: fc.constant([{}]),
      toFQDNs: fc.constant([{ matchName: 'example.com' }]),
      toPorts: fc.array(fc.record({ ports: fc.array(ciliumPortArb, { maxLength: 2 }) }), { maxLength: 2 }),
      icmps: fc.constant([{ fields: [{ type: 8 }] }]),
    },
    { requiredKeys: [] },
  )
  .map((r) => ({
    ...r,
    ...(r.toCIDRSet
      ? {
          toCIDRSet: r.toCIDRSet.map(({ cidr, except }) => ({
            cidr,
            ...(except.filter((e) => ipBlockInside(e, cidr)).length > 0 ? { except: except.filter((e) => ipBlockInside(e, cidr)) } : {}),
          })),
        }
      : {}),
  }));
const ciliumArb = fc
  .record({
    kind: fc.constantFrom('CiliumNetworkPolicy', 'CiliumClusterwideNetworkPolicy'),
    egress: fc.array(ciliumRuleArb, { maxLength: 3 }),
    more: fc.option(fc.array(ciliumRuleArb, { maxLength: 2 }), { nil: undefined }),
    nodeSelector: fc.boolean(),
    name: NAMES,
  })
  .map(({ kind, egress, more, nodeSelector, name }) => ({
    apiVersion: 'cilium.io/v2',
    kind,
    metadata: { name },
    spec: { ...(nodeSelector && kind === 'CiliumClusterwideNetworkPolicy' ? { nodeSelector: {} } : { endpointSelector: {} }), egress },
    ...(more ? { specs: [{ endpointSelector: {}, egress: more }] } : {}),
  }));

const netpolCaseArb: fc.Arbitrary<Case> = fc
  .record({ object: fc.oneof(netpolArb, ciliumArb), old: fc.option(fc.oneof(netpolArb, ciliumArb), { nil: undefined }), same: fc.boolean(), where: NAMESPACES })
  .map(({ object, old, same, where }) => ({
    name: 'generated network policy',
    object,
    oldObject: same ? structuredClone(object) : old && old.kind === object.kind ? old : null,
    ...where,
  }));

/**
 * Blocks that reach the nodes only together (the engine judges the union of what an object
 * opens to a port): /17 and /18 halves of private /16s, /49 halves of an IPv6 /48, one /32 (or
 * /128) per node of NODE_CIDRS, equal CIDRs spelled with host bits, spread over the peers of
 * one rule, several rules, and Cilium's spec and specs.
 */
const SPLIT_CIDRS = [
  '10.0.0.0/17',
  '10.0.128.0/17',
  '10.0.128.9/17',
  '10.0.0.0/18',
  '10.0.64.0/18',
  '192.168.0.0/17',
  '192.168.128.0/17',
  '172.16.0.0/16',
  '10.0.1.5/32',
  '10.0.1.6/32',
  '10.0.2.0/24',
  '10.1.0.1/32',
  'fd00:10::1/128',
  'fd00:10::2/128',
  'fd00:1:2::/49',
  'fd00:1:2:8000::/49',
  '8.8.0.0/17',
];
const splitRuleArb = fc.record({
  to: fc.array(fc.constantFrom(...SPLIT_CIDRS), { minLength: 1, maxLength: 3 }),
  ports: fc.constantFrom(
    [{ port: 10250 }],
    [{ port: 10250, protocol: 'TCP' }, { port: 443 }],
    [{ port: 10000, endPort: 10300 }],
    [{ port: 10255 }],
    [{ port: 10250, protocol: 'UDP' }],
    undefined,
  ),
});
const splitNetpolArb = fc.record({ rules: fc.array(splitRuleArb, { minLength: 1, maxLength: 4 }), name: NAMES }).map(({ rules, name }) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name },
  spec: {
    podSelector: {},
    policyTypes: ['Egress'],
    egress: rules.map((r) => ({ to: r.to.map((cidr) => ({ ipBlock: { cidr } })), ...(r.ports ? { ports: r.ports } : {}) })),
  },
}));
const splitCiliumRule = (r: { to: string[]; ports?: readonly Obj[] }, set: boolean): Obj => ({
  ...(set ? { toCIDRSet: r.to.map((cidr) => ({ cidr })) } : { toCIDR: r.to }),
  ...(r.ports
    ? {
        toPorts: [
          {
            ports: r.ports.map((p) => ({
              port: String(p.port),
              ...(p.endPort ? { endPort: p.endPort } : {}),
              ...(p.protocol ? { protocol: p.protocol } : {}),
            })),
          },
        ],
      }
    : {}),
});
const splitCiliumArb = fc
  .record({ spec: fc.array(splitRuleArb, { minLength: 1, maxLength: 2 }), specs: fc.array(splitRuleArb, { maxLength: 2 }), set: fc.boolean(), name: NAMES })
  .map(({ spec, specs, set, name }) => ({
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: { name },
    spec: { endpointSelector: {}, egress: spec.map((r) => splitCiliumRule(r, set)) },
    ...(specs.length > 0 ? { specs: [{ endpointSelector: {}, egress: specs.map((r) => splitCiliumRule(r, set)) }] } : {}),
  }));
const splitCaseArb: fc.Arbitrary<Case> = fc
  .record({
    object: fc.oneof(splitNetpolArb, splitCiliumArb),
    old: fc.option(fc.oneof(splitNetpolArb, splitCiliumArb), { nil: undefined }),
    same: fc.boolean(),
    where: NAMESPACES,
  })
  .map(({ object, old, same, where }) => ({
    name: 'generated split blocks',
    object,
    oldObject: same ? structuredClone(object) : old && old.kind === object.kind ? old : null,
    ...where,
  }));

// --- the comparison ----------------------------------------------------------------------

interface Tally {
  compared: number;
  agreed: number;
  /** Agreeing comparisons where the webhook denied, warned or audited: the test sees both sides. */
  seen: Verdict & { none: boolean; update: boolean };
}

const EXPORTED = new Map(POLICY_SETS.map((s) => [s.name, exportVap(s.policies).objects]));

/**
 * The same export without the namespace exclusions, compared with the webhook without them:
 * ownership in kube-system (the control plane's static pods, kube-proxy) is compiled too,
 * though the installed selector never lets such a request reach it.
 */
const OPEN = new Map(
  POLICY_SETS.map((s) => [
    s.name,
    exportVap(s.policies).objects.map((o) => {
      if (o.kind !== 'ValidatingAdmissionPolicy') return o;
      const copy = structuredClone(o);
      delete (copy.spec.matchConstraints as Obj).namespaceSelector;
      return copy;
    }),
  ]),
);

function compare(
  c: Case,
  set: (typeof POLICY_SETS)[number],
  exclusions = true,
): { agree: boolean; webhook: Verdict; vap: Verdict; messages: string[]; errors: string[] } | null {
  const r = resourceOf(c.object);
  if (!r) return null;
  const webhook = webhookVerdict(c, set.policies, r.clusterScoped, exclusions);
  const v = vapVerdict(c, (exclusions ? EXPORTED : OPEN).get(set.name)!, r.clusterScoped);
  const agree = webhook.deny === v.verdict.deny && webhook.warn === v.verdict.warn && webhook.audit === v.verdict.audit;
  return { agree, webhook, vap: v.verdict, messages: v.messages, errors: v.errors };
}

const ALL_FIXED = [...MANIFEST_CASES, ...ADMISSION_CASES, ...FIXTURE_CASES, ...OWNER_CASES];
const NETPOL_KINDS = new Set(['NetworkPolicy', 'CiliumNetworkPolicy', 'CiliumClusterwideNetworkPolicy']);
/** Workloads and Services: the port rules, where the two must agree on every object. */
const FIXED = ALL_FIXED.filter((c) => !NETPOL_KINDS.has(c.object.kind));

describe('exported VAPs agree with the webhook on the port rules', () => {
  const tally: Tally = { compared: 0, agreed: 0, seen: { deny: false, warn: false, audit: false, none: false, update: false } };
  const count = (c: Case, w: Verdict) => {
    tally.agreed++;
    if (w.deny) tally.seen.deny = true;
    if (w.warn) tally.seen.warn = true;
    if (w.audit) tally.seen.audit = true;
    if (!w.deny && !w.warn && !w.audit) tally.seen.none = true;
    if (c.oldObject && (w.deny || w.warn)) tally.seen.update = true;
  };

  it.each(
    POLICY_SETS.flatMap((set) => [
      ...FIXED.map((c) => ({ name: `${set.name}: ${c.name}`, set, c, exclusions: true })),
      ...OWNER_CASES.map((c) => ({ name: `${set.name}, without the namespace exclusions: ${c.name}`, set, c, exclusions: false })),
    ]),
  )('$name', ({ set, c, exclusions }) => {
    const r = compare(c, set, exclusions);
    if (!r) return;
    tally.compared++;
    expect(r.errors).toEqual([]);
    expect({ vap: r.vap, messages: r.messages }).toEqual({ vap: r.webhook, messages: expect.any(Array) });
    count(c, r.webhook);
  });

  it.each(
    POLICY_SETS.flatMap((set) =>
      [true, false].map((exclusions) => ({ name: `${set.name}${exclusions ? '' : ', without the namespace exclusions'}`, set, exclusions })),
    ),
  )('generated objects under the $name', ({ set, exclusions }) => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const r = compare(c, set, exclusions)!;
        tally.compared++;
        if (r.errors.length > 0) throw new Error(`CEL errors: ${r.errors.join('; ')}`);
        if (!r.agree) throw new Error(`webhook ${JSON.stringify(r.webhook)}, VAP ${JSON.stringify(r.vap)}: ${r.messages.join(' | ')}`);
        count(c, r.webhook);
      }),
      { numRuns: 300 },
    );
  });

  it('every deny message names the rule, the policy and a fix', () => {
    const c = FIXTURE_CASES.find((x) => x.name === 'webPod on the kubelet port')!;
    const r = compare(c, POLICY_SETS[0])!;
    expect(r.messages).toEqual([
      expect.stringMatching(
        /^portcullis: hostport-reserved \(policy default\): hostPort 10250\/TCP of container nginx clashes with kubelet-api \(kubelet\); pick a port outside the reserved ports$/,
      ),
    ]);
  });

  it('compared denials, warnings, audits, clean objects and updates', () => {
    expect(tally.seen).toEqual({ deny: true, warn: true, audit: true, none: true, update: true });
    expect(tally.agreed).toBe(tally.compared);
  });

  afterAll(() => {
    if (process.env.VAP_TALLY) console.log(`port rules: ${tally.agreed}/${tally.compared} agree`);
  });
});

/** The limitations docs/vap.md states for network policies, as a test can recognise them. */
function documented(c: Case, r: { webhook: Verdict; vap: Verdict }): boolean {
  const text = JSON.stringify(c.object) + JSON.stringify(c.oldObject ?? null);
  // An except list that may cut part of a node range.
  if (/"except":\["/.test(text)) return true;
  // The ingress of a Cilium host policy.
  if (c.object.kind === 'CiliumClusterwideNetworkPolicy' && c.object.spec?.nodeSelector !== undefined) return true;
  // On UPDATE, a rule whose ports and CIDR peers are the old rule's counts as carried over.
  return c.oldObject !== null && c.oldObject !== undefined && r.webhook.deny && !r.vap.deny && r.vap.warn;
}

describe('exported VAPs and the webhook on networking.k8s.io NetworkPolicies and Cilium policies', () => {
  const NETPOL_FIXED = ALL_FIXED.filter((c) => NETPOL_KINDS.has(c.object.kind));

  it('never deny, warn or audit what the webhook allows, differ only by documented limitations, and agree on at least 90%', () => {
    const tally = { compared: 0, agreed: 0, flagged: 0 };
    const overreach: string[] = [];
    const undocumented: string[] = [];
    const check = (c: Case, set: (typeof POLICY_SETS)[number]) => {
      const r = compare(c, set)!;
      expect(r.errors).toEqual([]);
      tally.compared++;
      if (r.webhook.deny || r.webhook.warn || r.webhook.audit) tally.flagged++;
      if (r.agree) tally.agreed++;
      else if (!documented(c, r)) undocumented.push(`${set.name}: ${JSON.stringify(c.object)} old ${JSON.stringify(c.oldObject?.spec ?? null)}`);
      // A VAP verdict the webhook does not give: the VAPs would refuse what portcullis allows.
      else if ((r.vap.deny && !r.webhook.deny) || (r.vap.warn && !r.webhook.warn) || (r.vap.audit && !r.webhook.audit)) {
        overreach.push(`${set.name}: ${JSON.stringify(c.object.spec)} old ${JSON.stringify(c.oldObject?.spec ?? null)}: ${r.messages.join(' | ')}`);
      }
    };
    for (const set of POLICY_SETS) {
      for (const c of NETPOL_FIXED) check(c, set);
      fc.assert(
        fc.property(netpolCaseArb, (c) => check(c, set)),
        { numRuns: 300, seed: 13 },
      );
    }
    expect(overreach).toEqual([]);
    expect(undocumented).toEqual([]);
    expect(tally.flagged).toBeGreaterThan(tally.compared / 10);
    expect(tally.agreed / tally.compared).toBeGreaterThanOrEqual(0.9);
    if (process.env.VAP_TALLY) console.log(`network policies: ${tally.agreed}/${tally.compared} agree, ${tally.flagged} flagged by the webhook`);
  });

  it('agree on every generated object whose blocks reach the nodes only together, and reach both verdicts', () => {
    const seen = { union: 0, allowed: 0, compared: 0 };
    const differ: string[] = [];
    for (const set of POLICY_SETS) {
      fc.assert(
        fc.property(splitCaseArb, (c) => {
          const r = compare(c, set)!;
          expect(r.errors).toEqual([]);
          seen.compared++;
          const facts = { namespaceLabels: () => c.labels, nodeAddresses: [] };
          const union = evaluate(
            { object: c.object as KubeObject, namespace: c.namespace, source: null, requester: TESTER },
            set.policies,
            facts,
          ).findings.some((f) => f.key.includes('|union|'));
          if (union) seen.union++;
          if (!r.webhook.deny && !r.webhook.warn && !r.webhook.audit) seen.allowed++;
          if (!r.agree)
            differ.push(
              `${set.name}: ${JSON.stringify(c.object.spec)} old ${JSON.stringify(c.oldObject?.spec ?? null)}: webhook ${JSON.stringify(r.webhook)} VAP ${JSON.stringify(r.vap)}`,
            );
        }),
        { numRuns: 300, seed: 17 },
      );
    }
    expect(differ).toEqual([]);
    expect(seen.union).toBeGreaterThan(seen.compared / 20);
    expect(seen.allowed).toBeGreaterThan(seen.compared / 20);
    if (process.env.VAP_TALLY) console.log(`split blocks: ${seen.compared} compared, ${seen.union} union findings, ${seen.allowed} allowed`);
  });
});
