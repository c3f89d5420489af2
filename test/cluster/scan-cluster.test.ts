import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runScan, type ScanCommandOptions } from '../../src/cmd/scan.js';
import { connectKube } from '../../src/k8s/client.js';
import { clusterSource } from '../../src/sources/cluster.js';
import type { SourceItem } from '../../src/sources/source-item.js';
import { deployment, kubeletEgress, namespace, node, pod, portPolicy, replicaSet, service } from '../support/cluster-objects.js';
import { DEFAULT_RESOURCES, FakeApiServer } from '../support/fake-apiserver.js';

type Obj = Record<string, any>;

function seed(fake: FakeApiServer) {
  fake.put(namespace('shop', { tenant: 'a' }));
  fake.put(namespace('other'));
  fake.put(node('node-1', '10.0.0.11'));
  fake.put(node('node-2', '10.0.0.12'));
  fake.put(deployment('shop', 'agent', [{ containerPort: 10250, hostPort: 10250 }]));
  fake.put(replicaSet('shop', 'agent-1', [{ containerPort: 10250, hostPort: 10250 }], 'agent'));
  fake.put(pod('shop', 'agent-1-a', [{ containerPort: 10250, hostPort: 10250 }], { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'agent-1' }));
  fake.put(pod('shop', 'agent-1-b', [{ containerPort: 10250, hostPort: 10250 }], { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'agent-1' }));
  fake.put(service('shop', 'web', [30080]));
  fake.put(kubeletEgress('shop', 'to-nodes', '10.0.0.0/24'));
  fake.put(pod('other', 'debug', [{ containerPort: 10255, hostPort: 10255 }]));
}

describe('scan --cluster', () => {
  let fake: FakeApiServer;
  let dir: string;
  const savedKubeconfig = process.env.KUBECONFIG;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'portcullis-scan-cluster-'));
  });
  afterAll(async () => {
    if (savedKubeconfig === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = savedKubeconfig;
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    fake = await FakeApiServer.start();
    seed(fake);
  });
  afterEach(async () => {
    await fake.close();
  });

  /** runScan as the CLI calls it, with $KUBECONFIG pointing at the test API server. */
  async function scan(opts: ScanCommandOptions, kubeconfig = fake.kubeconfig()) {
    const file = path.join(dir, `kubeconfig-${Math.random()}`);
    await writeFile(file, kubeconfig);
    process.env.KUBECONFIG = file;
    let stdout = '';
    let stderr = '';
    const code = await runScan(
      [],
      { cluster: true, ...opts },
      {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s), isTTY: false },
        stdoutColor: false,
        now: () => new Date('2026-11-25T18:00:00Z'),
      },
    );
    return { code, stdout, stderr };
  }
  const json = (stdout: string) => JSON.parse(stdout) as Obj;
  const findingsOf = (report: Obj) =>
    (report.findings as Obj[]).map((f) => `${f.resource.namespace}/${f.resource.kind}/${f.resource.name} ${f.rule} ${f.value}`);

  it('scans every namespace read-only, checks templates once and uses node addresses', async () => {
    const { code, stdout, stderr } = await scan({ format: 'json' });
    expect(stderr).toBe('');
    const report = json(stdout);
    expect(findingsOf(report)).toEqual([
      'other/Pod/debug hostport-reserved 10255',
      'shop/Deployment/agent hostport-reserved 10250',
      'shop/NetworkPolicy/to-nodes netpol-sensitive-exposure 10250',
    ]);
    expect(report.findings[0].source).toBeNull();
    // Checked: deployment, service, netpol, standalone pod. Skipped: 2 namespaces, 2 owned pods, 1 owned ReplicaSet.
    expect(report.summary).toMatchObject({ resources: 4, skipped: 5, errors: 0 });
    expect(code).toBe(1);
    expect(fake.requests.every((r) => r.method === 'GET')).toBe(true);
    expect(fake.requests.filter((r) => r.path.startsWith('/api/v1/pods?')).map((r) => r.path)).toEqual(['/api/v1/pods?limit=500']);
  });

  it('names the catalog profiles that the cluster DaemonSets match, and lets owners through as listed (mirror pods, CNI DaemonSets)', async () => {
    const hostNetworkDaemonSet = (ns: string, name: string, ports: Obj[]) => ({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name, namespace: ns, uid: `uid-${name}` },
      spec: { template: { spec: { hostNetwork: true, containers: [{ name, image: 'x', ports }] } } },
    });
    fake.put(namespace('kube-system'));
    fake.put(namespace('calico-system'));
    fake.put(hostNetworkDaemonSet('calico-system', 'calico-node', [{ containerPort: 179 }, { containerPort: 9099 }]));
    fake.put({
      ...pod('kube-system', 'etcd-node-1', [{ containerPort: 2381, hostPort: 2381 }], { apiVersion: 'v1', kind: 'Node', name: 'node-1' }),
    });
    const { stderr, stdout } = await scan({ format: 'json' });
    expect(stderr).toBe(
      'hint: the cluster runs DaemonSet calico-system/calico-node, which profile calico describes; policy default does not use it (add it to spec.profiles to reserve its ports)\n',
    );
    // calico-node owns BGP 179 (cni-shared); 9099 is reserved only with the calico profile; the mirror pod owns 2381.
    expect(findingsOf(json(stdout)).filter((f) => !f.startsWith('shop/') && !f.startsWith('other/'))).toEqual([]);
  });

  it('checks an owned pod itself when its owner is not among the listed objects', async () => {
    // Its ReplicaSet is gone (or not visible): the template that stood for it was never checked.
    fake.put(pod('other', 'orphan-x', [{ containerPort: 10250, hostPort: 10250 }], { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'gone-1' }));
    fake.put(pod('other', 'orphan-y', [{ containerPort: 8080 }], { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'gone-1' }));
    const { stdout } = await scan({ format: 'json' });
    const report = json(stdout);
    expect(findingsOf(report)).toEqual([
      'other/Pod/debug hostport-reserved 10255',
      'other/Pod/orphan-x hostport-reserved 10250',
      'shop/Deployment/agent hostport-reserved 10250',
      'shop/NetworkPolicy/to-nodes netpol-sensitive-exposure 10250',
    ]);
    // The orphan without host ports can add nothing: it stays skipped, as do the owned pods whose owner was listed.
    expect(report.summary).toMatchObject({ resources: 5, skipped: 6 });
    expect(report.findings[1].path).toBe('spec.containers[0].ports[0].hostPort');
  });

  it("without --policy uses the cluster's PortPolicy objects, with tenants by namespace label", async () => {
    fake.put(portPolicy('tenancy', { tenants: [{ name: 'team-a', namespaceSelector: { matchLabels: { tenant: 'a' } }, nodePortRange: '31000-31099' }] }));
    fake.put(portPolicy('broken', { tenants: [{ name: 't', namespaces: ['x'], nodePortRange: '20000-20010' }] }));
    const { stdout, stderr } = await scan({ format: 'json' });
    const report = json(stdout);
    expect(new Set((report.findings as Obj[]).map((f) => f.policy))).toEqual(new Set(['tenancy']));
    expect((report.findings as Obj[]).filter((f) => f.rule === 'nodeport-range').map((f) => [f.resource.name, f.tenant, f.value])).toEqual([
      ['web', 'team-a', 30080],
    ]);
    expect(stderr).toMatch(/^warning: PortPolicy "broken" is invalid and ignored: spec\.tenants\[0\]\.nodePortRange: /);
    // --policy files win over the objects.
    const file = path.join(dir, 'policy.yaml');
    await writeFile(file, 'apiVersion: portcullis.dev/v1alpha1\nkind: PortPolicy\nmetadata: {name: from-file}\nspec: {}\n');
    const withFile = json((await scan({ format: 'json', policy: [file] })).stdout);
    expect(new Set((withFile.findings as Obj[]).map((f) => f.policy))).toEqual(new Set(['from-file']));
    // Credentials that may not list PortPolicies (cluster-scoped) get the shipped default, quietly.
    fake.forbid = (r) => r.resource === 'portpolicies';
    const limited = await scan({ format: 'json' });
    expect(new Set((json(limited.stdout).findings as Obj[]).map((f) => f.policy))).toEqual(new Set(['default']));
    expect(limited.stderr).toBe('');
  });

  it('scans one namespace with --namespace', async () => {
    const { code, stdout } = await scan({ format: 'json', namespace: 'other' });
    expect(findingsOf(json(stdout))).toEqual(['other/Pod/debug hostport-reserved 10255']);
    expect(code).toBe(1);
    expect(fake.requests.some((r) => r.path.startsWith('/api/v1/namespaces/shop'))).toBe(false);
  });

  it('works with credentials limited to one namespace: warns, uses name-based tenancy and assumed node ranges', async () => {
    fake.forbid = (r) => r.user === 'shop-only' && r.namespace !== 'shop';
    const { code, stdout, stderr } = await scan({ format: 'json' }, fake.kubeconfig({ token: 'shop-only', namespace: 'shop' }));
    expect(stderr.split('\n').filter(Boolean)).toEqual([
      'warning: cannot list Namespaces (forbidden): tenants are matched by namespace name only',
      'warning: cannot list Nodes (forbidden): network policies are judged against the assumed private node ranges (nodeCIDRs in the policy make this exact)',
      'warning: cannot list ciliumclusterwidenetworkpolicies (forbidden): skipped',
      'warning: cannot list adminnetworkpolicies (forbidden): skipped',
      'warning: cannot list baselineadminnetworkpolicies (forbidden): skipped',
      'warning: cannot list clusternetworkpolicies (forbidden): skipped',
      'warning: cannot list globalnetworkpolicies (forbidden): skipped',
    ]);
    // Only shop is visible; without node addresses the /24 egress is not broad enough.
    expect(findingsOf(json(stdout))).toEqual(['shop/Deployment/agent hostport-reserved 10250']);
    expect(code).toBe(1);
  });

  // Namespaced kinds audited, in listing order; the Calico CRDs are not listed: projectcalico.org
  // answered for the objects they store.
  const namespacedKinds = [
    'services',
    'pods',
    'replicationcontrollers',
    'podtemplates',
    'deployments',
    'replicasets',
    'statefulsets',
    'daemonsets',
    'jobs',
    'cronjobs',
    'networkpolicies',
    'ciliumnetworkpolicies',
    'networkpolicies',
  ];
  it.each([
    {
      name: 'the namespaces it can list, one of which refuses',
      refusing: ['other'],
      namespacesForbidden: false,
      warnings: namespacedKinds.map((k) => `warning: cannot list ${k} in 1 of 2 namespaces (forbidden): skipped there`),
      findings: ['shop/Deployment/agent hostport-reserved 10250', 'shop/NetworkPolicy/to-nodes netpol-sensitive-exposure 10250'],
      pods: ['/api/v1/pods?limit=500', '/api/v1/namespaces/other/pods?limit=500', '/api/v1/namespaces/shop/pods?limit=500'],
    },
    {
      name: "the kubeconfig context's namespace when Namespaces may not be listed, and it refuses too",
      refusing: ['shop'],
      namespacesForbidden: true,
      warnings: [
        'warning: cannot list Namespaces (forbidden): tenants are matched by namespace name only',
        ...namespacedKinds.map((k) => `warning: cannot list ${k} in namespace shop (forbidden): skipped there`),
      ],
      findings: [],
      pods: ['/api/v1/pods?limit=500', '/api/v1/namespaces/shop/pods?limit=500'],
    },
  ])(
    'lists a kind namespace by namespace when it may not be listed cluster-wide: $name',
    async ({ refusing, namespacesForbidden, warnings, findings, pods }) => {
      const namespaced = new Set(DEFAULT_RESOURCES.filter((r) => r.namespaced).map((r) => r.resource));
      fake.forbid = (r) =>
        r.user === 'limited' &&
        r.verb === 'list' &&
        ((namespacesForbidden && r.resource === 'namespaces') || (namespaced.has(r.resource) && (r.namespace === null || refusing.includes(r.namespace))));
      const { stdout, stderr } = await scan({ format: 'json' }, fake.kubeconfig({ token: 'limited', namespace: 'shop' }));
      expect(stderr.split('\n').filter(Boolean)).toEqual(warnings);
      expect(findingsOf(json(stdout))).toEqual(findings);
      expect(fake.requests.filter((r) => /^\/api\/v1\/(namespaces\/[^/]+\/)?pods\?/.test(r.path)).map((r) => r.path)).toEqual(pods);
    },
  );

  it('fails with exit 2 when --all-namespaces is asked for and not allowed', async () => {
    fake.forbid = (r) => r.user === 'shop-only' && r.namespace !== 'shop';
    const { code, stderr } = await scan({ format: 'json', allNamespaces: true }, fake.kubeconfig({ token: 'shop-only', namespace: 'shop' }));
    expect(code).toBe(2);
    expect(stderr).toContain('cannot list pods: pods is forbidden');
  });

  it.each(['table', 'json', 'sarif', 'junit', 'policyreport', 'openreports', 'html'])('writes the %s format', async (format) => {
    const { code, stdout } = await scan({ format });
    expect(code).toBe(1);
    expect(stdout.length).toBeGreaterThan(100);
    if (format === 'policyreport') expect(stdout).toContain('name: portcullis-shop');
  });

  it('fails with exit 2 and a message when the cluster cannot be reached', async () => {
    const url = fake.url;
    const kubeconfig = fake.kubeconfig();
    await fake.close();
    const { code, stderr } = await scan({ format: 'json' }, kubeconfig).catch((err) => ({ code: -1, stderr: String(err), stdout: '' }));
    // runScan lets the UsageError through to the CLI's top level, which exits 2 with it.
    expect([code, stderr]).toEqual([-1, expect.stringMatching(new RegExp(`cannot read the cluster at ${url}`))]);
    fake = await FakeApiServer.start();
  });

  it('pages through long lists and reports progress', async () => {
    for (let i = 0; i < 7; i++) fake.put(service('other', `svc-${i}`));
    const client = await connectKube({ kubeconfig: fake.kubeconfig() });
    const source = clusterSource({ client, pageSize: 3 });
    await source.facts();
    const items: SourceItem[] = [];
    for await (const item of source.items()) items.push(item);
    const services = items.filter((i) => i.type === 'resource' && i.resource.object.kind === 'Service');
    expect(services).toHaveLength(8);
    expect(fake.requests.filter((r) => r.path.startsWith('/api/v1/services?'))).toHaveLength(3);
    const progress = items.filter((i) => i.type === 'progress');
    expect(progress.at(-1)).toEqual({ type: 'progress', done: 20, total: 20, unit: 'kinds' });
    // Objects arrive stripped: no env, no status; the image stays for exemptions by image.
    const p = items.find((i) => i.type === 'resource' && i.resource.object.kind === 'Pod');
    expect(p && p.type === 'resource' && p.resource.object).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'debug', namespace: 'other', uid: expect.any(String), resourceVersion: expect.any(String) },
      spec: { containers: [{ name: 'app', image: 'registry.example/app:1.0', ports: [{ containerPort: 10255, hostPort: 10255 }] }] },
    });
  });

  it('restarts a list whose continue token expired, without duplicates, and ends even if every token expires', async () => {
    for (let i = 0; i < 7; i++) fake.put(service('other', `svc-${i}`));
    const client = await connectKube({ kubeconfig: fake.kubeconfig() });
    const compacting = (always: boolean) => {
      let pages = 0;
      return {
        ...client,
        async request(method: 'GET', path: string, body?: unknown) {
          const r = await client.request(method, path, body);
          if (path.startsWith('/api/v1/services?limit=') && (always || pages++ === 0)) {
            fake.put(namespace(`n-${Math.random()}`));
            fake.compact();
          }
          return r as never;
        },
      };
    };
    for (const always of [false, true]) {
      const source = clusterSource({ client: compacting(always), pageSize: 3 });
      await source.facts();
      const names: string[] = [];
      for await (const item of source.items())
        if (item.type === 'resource' && item.resource.object.kind === 'Service') names.push(item.resource.object.metadata.name!);
      expect(names.sort()).toEqual(['svc-0', 'svc-1', 'svc-2', 'svc-3', 'svc-4', 'svc-5', 'svc-6', 'web']);
    }
    const services = fake.requests.filter((r) => r.path.startsWith('/api/v1/services')).map((r) => r.path.replace(/continue=[^&]+/, 'continue=T'));
    // First scan: one expiry, a paged restart. Second: two expiries, then the rest in one piece.
    expect(services).toEqual([
      ...[
        '/api/v1/services?limit=3',
        '/api/v1/services?limit=3&continue=T',
        '/api/v1/services?limit=3',
        '/api/v1/services?limit=3&continue=T',
        '/api/v1/services?limit=3&continue=T',
      ],
      ...[
        '/api/v1/services?limit=3',
        '/api/v1/services?limit=3&continue=T',
        '/api/v1/services?limit=3',
        '/api/v1/services?limit=3&continue=T',
        '/api/v1/services',
      ],
    ]);
  });
});
