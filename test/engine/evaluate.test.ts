import { evaluate, isCheckedKind, portUses, resourceRef, tenantOf } from '../../src/engine/evaluate.js';
import { NO_CLUSTER_FACTS, type KubeObject, type Labels } from '../../src/engine/types.js';
import { cluster, container, defaultPolicy, policy, resource } from './helpers.js';

const kubeletPod = (name = 'p') => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [container('web', [{ containerPort: 1, hostPort: 10250 }])] },
});
const svc = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 's' },
  spec: {
    type: 'NodePort',
    ports: [
      { port: 80, nodePort: 30080 },
      { port: 81, nodePort: 31000, protocol: 'UDP' },
    ],
    healthCheckNodePort: 30500,
  },
};

const tenanted = policy({
  tenants: [
    { name: 'by-name', namespaces: ['shop', 'shop-*'], allowedHostPorts: [] },
    { name: 'by-label', namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['blue', 'green'] }] }, allowedHostPorts: [] },
  ],
});

describe('tenantOf', () => {
  const labels = cluster({ apps: { team: 'blue' }, shop: { team: 'blue' }, misc: { team: 'red' } });
  it.each([
    { name: 'exact name', ns: 'shop', want: 'by-name' },
    { name: 'glob', ns: 'shop-eu', want: 'by-name' },
    { name: 'glob needs the dash', ns: 'shopping', want: null },
    { name: 'selector', ns: 'apps', want: 'by-label' },
    { name: 'name wins by tenant order when both match', ns: 'shop', want: 'by-name' },
    { name: 'selector not matching', ns: 'misc', want: null },
    { name: 'unknown namespace labels', ns: 'nowhere', want: null },
    { name: 'cluster-scoped', ns: null, want: null },
  ])('$name', ({ ns, want }) => {
    expect(tenantOf(tenanted, ns, labels)?.name ?? null).toBe(want);
    expect(tenantOf(tenanted, ns, ns === null ? undefined : labels.namespaceLabels(ns))?.name ?? null).toBe(want);
  });
});

describe('evaluate', () => {
  it.each([
    { name: 'tenant by glob', ns: 'shop-eu', labels: {}, tenant: 'by-name' },
    { name: 'tenant by selector', ns: 'apps', labels: { apps: { team: 'green' } }, tenant: 'by-label' },
    { name: 'no tenant', ns: 'apps', labels: {}, tenant: null },
  ] as { name: string; ns: string; labels: Record<string, Labels>; tenant: string | null }[])('findings carry the tenant: $name', ({ ns, labels, tenant }) => {
    const e = evaluate(resource(kubeletPod(), ns), [tenanted], cluster(labels));
    const rules = e.findings.map((f) => [f.rule, f.tenant]);
    expect(rules).toEqual([['hostport-reserved', tenant], ...(tenant ? [['hostport-not-allowed', tenant]] : [])]);
  });

  it.each([
    {
      name: 'exempted namespace',
      spec: { exemptions: [{ namespaces: ['kube-*'], rules: ['hostport-reserved'], reason: 'system' }] },
      ns: 'kube-system',
      status: 'skip',
      findings: 0,
    },
    {
      name: 'exemption of another rule',
      spec: { exemptions: [{ namespaces: ['kube-system'], rules: ['nodeport-range'], reason: 'x' }] },
      ns: 'kube-system',
      status: 'none',
      findings: 1,
    },
    {
      name: 'exemption by kind and name',
      spec: { exemptions: [{ kinds: ['Pod'], names: ['node-agent-*'], reason: 'agent' }] },
      ns: 'x',
      status: 'skip',
      findings: 0,
      podName: 'node-agent-1',
    },
    {
      name: 'exemption by name not matching',
      spec: { exemptions: [{ kinds: ['Pod'], names: ['node-agent-*'], reason: 'agent' }] },
      ns: 'x',
      status: 'none',
      findings: 1,
      podName: 'web',
    },
    { name: 'exemption by kind not matching', spec: { exemptions: [{ kinds: ['Deployment'], reason: 'd' }] }, ns: 'x', status: 'none', findings: 1 },
    { name: 'rule off', spec: { rules: { 'hostport-reserved': 'off' as const } }, ns: 'x', status: 'absent', findings: 0 },
  ])('$name', ({ spec, ns, status, findings, podName }) => {
    const e = evaluate(resource(kubeletPod(podName), ns), [policy(spec)], cluster());
    expect(e.findings.filter((f) => f.rule === 'hostport-reserved')).toHaveLength(findings);
    const outcome = e.outcomes.find((o) => o.rule === 'hostport-reserved');
    if (status === 'skip') expect(outcome).toMatchObject({ status: 'skip', reason: expect.any(String) });
    else expect(outcome).toBeUndefined();
  });

  it("the shipped default lets the cilium DaemonSet of kube-system take its own ports, not the operator's, and flags both elsewhere", () => {
    const ds = (ports: number[]) => ({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'cilium' },
      spec: {
        template: {
          spec: {
            hostNetwork: true,
            containers: [
              container(
                'agent',
                ports.map((containerPort) => ({ containerPort })),
              ),
            ],
          },
        },
      },
    });
    const own = evaluate(resource(ds([4240, 9962]), 'kube-system'), [defaultPolicy()], cluster());
    expect(own.findings).toEqual([]);
    expect(own.outcomes).toEqual([
      { policy: 'default', tenant: null, rule: 'hostport-reserved', status: 'pass' },
      { policy: 'default', tenant: null, rule: 'hostport-not-allowed', status: 'pass' },
    ]);
    expect(evaluate(resource(ds([4240, 9963]), 'kube-system'), [defaultPolicy()], cluster()).findings.map((f) => f.value)).toEqual([9963]);
    expect(evaluate(resource(ds([4240, 9963]), 'apps'), [defaultPolicy()], cluster()).findings.map((f) => f.value)).toEqual([4240, 9963]);
  });

  it('records pass outcomes only for rules that apply to the kind', () => {
    const e = evaluate(resource(svc), [defaultPolicy()], cluster());
    expect(e.findings).toEqual([]);
    expect(e.outcomes.map((o) => `${o.rule}:${o.status}`)).toEqual(['nodeport-range:pass', 'nodeport-not-allowed:pass', 'service-external-ips:pass']);
  });

  it('reports every policy separately, with its own action', () => {
    const e = evaluate(resource(kubeletPod()), [defaultPolicy(), policy({ rules: { 'hostport-reserved': 'warn' } }, 'strict')], cluster());
    expect(e.findings.map((f) => [f.policy, f.action])).toEqual([
      ['default', 'deny'],
      ['strict', 'warn'],
    ]);
  });

  it('turns unreadable input into an error finding and keeps the other rules going', () => {
    const np = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'n' },
      spec: { policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: 'not-a-cidr' } }] }] },
    };
    const e = evaluate(resource(np), [defaultPolicy(), defaultPolicy()], cluster());
    expect(e.findings.map((f) => [f.status, f.key])).toEqual([
      ['error', 'netpol-sensitive-exposure|error'],
      ['error', 'netpol-sensitive-exposure|error'],
    ]);
  });

  const exempting = policy({ exemptions: [{ namespaces: ['kube-system'], kinds: ['*'], names: ['*'], rules: ['hostport-reserved'], reason: 'system' }] });
  it.each([
    { name: 'a clean object', object: { ...kubeletPod(), spec: { containers: [container('web', [{ containerPort: 8080 }])] } }, ns: 'apps' },
    { name: 'an object with findings', object: kubeletPod(), ns: 'apps' },
    { name: 'an exempted object', object: kubeletPod(), ns: 'kube-system' },
    { name: 'a Service', object: svc, ns: 'apps' },
    {
      name: 'an unreadable network policy',
      object: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'n' },
        spec: { policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: 'x' } }] }] },
      },
      ns: 'apps',
      errors: true,
    },
  ] as { name: string; object: Record<string, unknown>; ns: string; errors?: boolean }[])(
    'outcomes: false gives the same findings and no outcomes: $name',
    ({ object, ns, errors }) => {
      const full = evaluate(resource(object, ns), [exempting, defaultPolicy()], cluster());
      const lean = evaluate(resource(object, ns), [exempting, defaultPolicy()], cluster(), { outcomes: false });
      expect(full.outcomes.length > 0).toBe(!errors);
      expect(lean).toEqual({ ...full, outcomes: [] });
      expect(evaluate(resource(object, ns), [exempting, defaultPolicy()], cluster(), { outcomes: true })).toEqual(full);
    },
  );

  it('ignores kinds it does not check', () => {
    expect(evaluate(resource({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }), [defaultPolicy()], NO_CLUSTER_FACTS)).toEqual({
      resource: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'c' },
      source: { file: 'm.yaml', line: 1 },
      findings: [],
      outcomes: [],
    });
  });
});

describe('isCheckedKind', () => {
  it.each([
    ['v1', 'Service', true],
    ['v1', 'Pod', true],
    ['v1', 'PodTemplate', true],
    ['v1', 'ReplicationController', true],
    ['apps/v1', 'Deployment', true],
    ['apps/v1', 'ReplicaSet', true],
    ['apps/v1', 'StatefulSet', true],
    ['apps/v1', 'DaemonSet', true],
    ['batch/v1', 'Job', true],
    ['batch/v1', 'CronJob', true],
    ['networking.k8s.io/v1', 'NetworkPolicy', true],
    ['cilium.io/v2', 'CiliumNetworkPolicy', true],
    ['cilium.io/v2', 'CiliumClusterwideNetworkPolicy', true],
    ['v1', 'ConfigMap', false],
    ['v1', 'Namespace', false],
    ['apps/v1', 'Service', false],
    ['example.com/v1', 'Deployment', false],
    ['cilium.io/v2alpha1', 'CiliumNetworkPolicy', false],
  ] as const)('%s %s → %s', (apiVersion, kind, want) => {
    expect(isCheckedKind(apiVersion, kind)).toBe(want);
  });
});

describe('portUses', () => {
  it.each([
    {
      name: 'host ports, violating or not, incl. hostNetwork container ports',
      object: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'd' },
        spec: { template: { spec: { hostNetwork: true, containers: [container('a', [{ containerPort: 8080 }, { containerPort: 53, protocol: 'UDP' }])] } } },
      },
      want: [
        ['hostPort', 8080, 'TCP', 'spec.template.spec.containers[0].ports[0].containerPort'],
        ['hostPort', 53, 'UDP', 'spec.template.spec.containers[0].ports[1].containerPort'],
      ],
    },
    {
      name: 'ordinary container ports are not host ports',
      object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [container('a', [{ containerPort: 10250 }])] } },
      want: [],
    },
    {
      name: 'Service node ports and health-check node port',
      object: svc,
      want: [
        ['nodePort', 30080, 'TCP', 'spec.ports[0].nodePort'],
        ['nodePort', 31000, 'UDP', 'spec.ports[1].nodePort'],
        ['nodePort', 30500, 'TCP', 'spec.healthCheckNodePort'],
      ],
    },
    {
      name: 'network policies take no ports',
      object: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'n' }, spec: {} },
      want: [],
    },
  ])('$name', ({ object, want }) => {
    const uses = portUses(resource(object));
    expect(uses.map((u) => [u.type, u.port, u.protocol, u.path])).toEqual(want);
    for (const u of uses) expect(u.source).toEqual({ file: 'm.yaml', line: 1 });
  });
});

describe('resourceRef', () => {
  it.each([
    { name: 'named', metadata: { name: 'a' }, ns: 'x', want: 'a' },
    { name: 'generateName only', metadata: { generateName: 'job-' }, ns: 'x', want: 'job-' },
    { name: 'cluster-scoped', metadata: { name: 'c' }, ns: null, want: 'c' },
  ])('$name', ({ metadata, ns, want }) => {
    const object = { apiVersion: 'v1', kind: 'Pod', metadata } as KubeObject;
    expect(resourceRef(object, ns)).toEqual({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name: want });
  });
});
