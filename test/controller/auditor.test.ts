// The controller's auditor on its own: caches are plain maps of objects cut down by the real
// strip() (what the informers hold), the policies are the shipped default and a tenancy
// policy loaded by the real loader, and the cluster's facts are given. No API server: the
// informers, the queue and the writer are tested elsewhere.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { Auditor, type AuditedCache } from '../../src/controller/auditor.js';
import { strip, type Cached } from '../../src/cluster/strip.js';
import type { CompiledPolicy, PortPolicySpec } from '../../src/engine/policy/model.js';
import { loadPolicy } from '../../src/engine/policy/load.js';
import type { ClusterFacts } from '../../src/engine/types.js';
import { AUDITED, type ResourceType } from '../../src/k8s/resources.js';
import { loadDefaultSpec, loadPolicyPaths } from '../../src/sources/policy-files.js';
import { cronJob, deployment, job, kubeletEgress, pod, portPolicy, replicaSet, service } from '../support/cluster-objects.js';

type Obj = Record<string, any>;

/** An informer's cache after a list: the objects strip() keeps, by namespace and name. */
class Cache implements AuditedCache {
  missing = false;
  private readonly store = new Map<string, Map<string, Cached>>();
  constructor(readonly type: ResourceType) {}
  put(raw: Obj): void {
    const o = strip(this.type, { ...raw, metadata: { uid: `uid-${raw.metadata.name}`, ...raw.metadata } });
    if (!o) return;
    const ns = (raw.metadata.namespace as string | undefined) ?? '';
    if (!this.store.has(ns)) this.store.set(ns, new Map());
    this.store.get(ns)!.set(o.metadata.name, o);
  }
  get(namespace: string | null, name: string): Cached | undefined {
    return this.store.get(namespace ?? '')?.get(name);
  }
  inNamespace(namespace: string | null): Iterable<Cached> {
    return this.store.get(namespace ?? '')?.values() ?? [];
  }
  namespaces(): Iterable<string> {
    return this.store.keys();
  }
}

const typeOf = (apiVersion: string, kind: string) => AUDITED.find((t) => (t.group ? `${t.group}/${t.version}` : t.version) === apiVersion && t.kind === kind)!;

function cluster(objects: Obj[], opts: { missing?: string[]; labels?: Record<string, Record<string, string>>; nodeAddresses?: string[] } = {}) {
  const caches = AUDITED.map((t) => new Cache(t));
  for (const c of caches) c.missing = opts.missing?.includes(`${c.type.group}/${c.type.resource}`) ?? false;
  for (const o of objects) caches.find((c) => c.type === typeOf(o.apiVersion, o.kind))!.put(o);
  const facts: ClusterFacts = { namespaceLabels: (ns) => opts.labels?.[ns], nodeAddresses: opts.nodeAddresses ?? [] };
  return new Auditor({ caches, facts, flavor: 'wgpolicyk8s' });
}

/** The results that are not pass or skip, one line each. */
const results = (reports: Obj[]) =>
  reports
    .flatMap((r) => r.results as Obj[])
    .filter((x) => x.result !== 'pass' && x.result !== 'skip')
    .map((x) => `${x.resources[0].kind}/${x.resources[0].name} ${x.rule} ${x.result}${x.properties?.tenant ? ` ${x.properties.tenant}` : ''}`);

const AT = new Date('2026-01-01T00:00:00Z');
const calicoPolicy = (apiVersion: string): Obj => ({
  apiVersion,
  kind: 'GlobalNetworkPolicy',
  metadata: { name: 'to-kubelets' },
  spec: { selector: 'all()', types: ['Egress'], egress: [{ action: 'Allow', protocol: 'TCP', destination: { nets: ['0.0.0.0/0'], ports: [10250] } }] },
});

describe('Auditor', () => {
  let defaults: PortPolicySpec;
  let filePolicies: CompiledPolicy[];
  let tenancy: CompiledPolicy;

  beforeAll(async () => {
    defaults = await loadDefaultSpec();
    filePolicies = (await loadPolicyPaths([], defaults)).policies;
    const loaded = loadPolicy(
      portPolicy('tenancy', { tenants: [{ name: 'team-a', namespaceSelector: { matchLabels: { tenant: 'a' } }, nodePortRange: '31000-31099' }] }),
      defaults,
    );
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    tenancy = loaded.policy;
  });

  it.each([
    {
      name: "a Deployment's template is audited once, not its ReplicaSet's or its pods'",
      objects: [
        deployment('shop', 'agent', [{ containerPort: 10250, hostPort: 10250 }]),
        replicaSet('shop', 'agent-1', [{ containerPort: 10250, hostPort: 10250 }], 'agent'),
        pod('shop', 'agent-1-x', [{ containerPort: 10250, hostPort: 10250 }], { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'agent-1' }),
      ],
      scope: 'shop',
      found: ['Deployment/agent hostport-reserved fail'],
    },
    {
      name: 'an owned pod with host ports stands for itself while its owner is not cached',
      objects: [pod('shop', 'web-1-a', [{ containerPort: 10255, hostPort: 10255 }], { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1' })],
      scope: 'shop',
      found: ['Pod/web-1-a hostport-reserved fail'],
    },
    {
      name: 'a CronJob stands for its Job and pod',
      objects: [
        cronJob('shop', 'backup', [{ containerPort: 2379, hostPort: 2379 }]),
        job('shop', 'backup-1', [{ containerPort: 2379, hostPort: 2379 }], 'backup'),
      ],
      scope: 'shop',
      found: ['CronJob/backup hostport-reserved fail'],
    },
    {
      name: 'a scope holds only its own namespace',
      objects: [pod('shop', 'debug', [{ containerPort: 10255, hostPort: 10255 }]), pod('other', 'debug', [{ containerPort: 10250, hostPort: 10250 }])],
      scope: 'other',
      found: ['Pod/debug hostport-reserved fail'],
    },
    {
      name: 'cluster-scoped objects are the cluster scope',
      objects: [kubeletEgress('shop', 'to-nodes', '0.0.0.0/0'), calicoPolicy('projectcalico.org/v3')],
      scope: null,
      found: ['GlobalNetworkPolicy/to-kubelets netpol-sensitive-exposure fail'],
    },
    {
      name: "a CRD that stores another API's objects is not audited while that API is served",
      objects: [calicoPolicy('crd.projectcalico.org/v1')],
      scope: null,
      found: [],
    },
    {
      name: '… and is audited when it is not',
      objects: [calicoPolicy('crd.projectcalico.org/v1')],
      missing: ['projectcalico.org/globalnetworkpolicies'],
      scope: null,
      found: ['GlobalNetworkPolicy/to-kubelets netpol-sensitive-exposure fail'],
    },
    {
      name: "network policies are judged against the nodes' addresses",
      objects: [kubeletEgress('shop', 'to-nodes', '10.0.0.0/24')],
      nodeAddresses: ['10.0.0.11'],
      scope: 'shop',
      found: ['NetworkPolicy/to-nodes netpol-sensitive-exposure fail'],
    },
    {
      name: '… a block without them, narrower than the assumed range, is not',
      objects: [kubeletEgress('shop', 'to-nodes', '10.0.0.0/24')],
      scope: 'shop',
      found: [],
    },
  ])('$name', ({ objects, scope, found, ...opts }) => {
    expect(results(cluster(objects, opts).audit(scope, filePolicies, AT))).toEqual(found);
  });

  it.each<{ name: string; labels: Record<string, string>; found: string[] }>([
    { name: "a namespace's labels put it in a tenant", labels: { tenant: 'a' }, found: ['Service/web nodeport-range fail team-a'] },
    { name: 'a namespace in no tenant', labels: {}, found: [] },
  ])('tenancy: $name', ({ labels, found }) => {
    const auditor = cluster([service('shop', 'web', [30080])], { labels: { shop: labels } });
    expect(results(auditor.audit('shop', [tenancy], AT))).toEqual(found);
  });

  it('builds the reports scan --format policyreport builds, with uids and the given time', () => {
    const [report] = cluster([pod('shop', 'debug', [{ containerPort: 10255, hostPort: 10255 }])]).audit('shop', filePolicies, AT);
    expect(report.metadata).toMatchObject({
      name: 'portcullis-shop',
      namespace: 'shop',
      labels: { 'app.kubernetes.io/managed-by': 'portcullis', 'portcullis.dev/report-scope': 'shop' },
    });
    expect((report.results as Obj[]).find((r) => r.result === 'fail')).toMatchObject({
      rule: 'hostport-reserved',
      resources: [{ kind: 'Pod', name: 'debug', namespace: 'shop', uid: 'uid-debug' }],
      timestamp: { seconds: AT.getTime() / 1000, nanos: 0 },
    });
  });

  it('counts findings per scope: a scope audited again replaces its count', () => {
    const objects = [
      pod('a', 'p1', [{ containerPort: 10255, hostPort: 10255 }]),
      pod('a', 'p2', [{ containerPort: 10250, hostPort: 10250 }]),
      pod('b', 'p3', [{ containerPort: 10250, hostPort: 10250 }]),
    ];
    const auditor = cluster(objects);
    const denies = () => auditor.findings.get('hostport-reserved|deny');
    auditor.audit('a', filePolicies, AT);
    expect(denies()).toBe(2);
    auditor.audit('b', filePolicies, AT);
    expect(denies()).toBe(3);
    auditor.audit('a', filePolicies, AT);
    expect(denies()).toBe(3);
  });

  it('a scope whose violations are gone leaves the sum', () => {
    const caches = AUDITED.map((t) => new Cache(t));
    const pods = caches.find((c) => c.type.kind === 'Pod')!;
    pods.put(pod('a', 'p1', [{ containerPort: 10255, hostPort: 10255 }]));
    const auditor = new Auditor({ caches, facts: { namespaceLabels: () => undefined, nodeAddresses: [] }, flavor: 'wgpolicyk8s' });
    auditor.audit('a', filePolicies, AT);
    expect(auditor.findings.get('hostport-reserved|deny')).toBe(1);
    pods.put(pod('a', 'p1', [{ containerPort: 8080 }]));
    auditor.audit('a', filePolicies, AT);
    expect(auditor.findings.get('hostport-reserved|deny')).toBe(0);
  });

  it.each([
    {
      name: 'the cluster scope always, and every namespace with objects',
      objects: [service('shop', 'web'), kubeletEgress('net', 'np', '10.0.0.0/8')],
      scopes: [null, 'net', 'shop'],
      netpol: ['net'],
    },
    { name: 'cluster-scoped network policies are the cluster scope', objects: [calicoPolicy('projectcalico.org/v3')], scopes: [null], netpol: [null] },
  ])('scopes: $name', ({ objects, scopes, netpol }) => {
    const auditor = cluster(objects);
    const sorted = (s: Set<string | null>) => [...s].sort((a, b) => (a ?? '').localeCompare(b ?? ''));
    expect([sorted(auditor.scopes()), sorted(auditor.networkPolicyScopes())]).toEqual([scopes, netpol]);
  });

  it('profile hints: the catalog profiles DaemonSets match and a policy leaves out, null while unchanged', () => {
    const flannel = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'kube-flannel-ds', namespace: 'kube-flannel' },
      spec: { template: { spec: { hostNetwork: true, containers: [{ name: 'kube-flannel', image: 'ghcr.io/flannel-io/flannel:v0.27.3' }] } } },
    };
    const auditor = cluster([flannel]);
    const hint =
      'the cluster runs DaemonSet kube-flannel/kube-flannel-ds, which profile flannel describes; policy default does not use it (add it to spec.profiles to reserve its ports)';
    expect([auditor.changedProfileHints(filePolicies), auditor.changedProfileHints(filePolicies)]).toEqual([[hint], null]);
    expect(cluster([]).changedProfileHints(filePolicies)).toBeNull();
  });
});
