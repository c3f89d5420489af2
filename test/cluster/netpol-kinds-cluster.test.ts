// The admin network policies and Calico's policies in a cluster: scan --cluster lists them,
// the controller audits them, and a Calico policy stored in both projectcalico.org/v3 and
// its crd.projectcalico.org/v1 CRD is reported once (through v3 where it is served).
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { strip } from '../../src/cluster/strip.js';
import { runScan } from '../../src/cmd/scan.js';
import { startController } from '../../src/controller/controller.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { connectKube } from '../../src/k8s/client.js';
import { AUDITED } from '../../src/k8s/resources.js';
import { cluster, policy, resource } from '../engine/helpers.js';
import { namespace, node } from '../support/cluster-objects.js';
import { DEFAULT_RESOURCES, FakeApiServer } from '../support/fake-apiserver.js';
import { waitFor } from '../support/wait.js';

type Obj = Record<string, any>;

const kubelet = { protocol: 'TCP', destination: { ports: [10250] } };
// A GlobalNetworkPolicy letting every pod reach the kubelet, as stored in either group.
const gnp = (apiVersion: string) => ({
  apiVersion,
  kind: 'GlobalNetworkPolicy',
  metadata: { name: 'allow-kubelet' },
  spec: { selector: 'all()', order: 100, tier: 'default', egress: [{ action: 'Allow', ...kubelet }] },
});
const calicoNp = (apiVersion: string) => ({
  apiVersion,
  kind: 'NetworkPolicy',
  metadata: { namespace: 'shop', name: 'web-egress' },
  spec: { selector: 'all()', egress: [{ action: 'Allow', ...kubelet }] },
});
// An AdminNetworkPolicy whose nodes peer opens 10250 on every node to every pod.
const anp = {
  apiVersion: 'policy.networking.k8s.io/v1alpha1',
  kind: 'AdminNetworkPolicy',
  metadata: { name: 'kubelet-for-all' },
  spec: {
    priority: 5,
    subject: { namespaces: {} },
    egress: [{ action: 'Allow', to: [{ nodes: {} }], ports: [{ portNumber: { protocol: 'TCP', port: 10250 } }] }],
  },
};
const cnp = {
  apiVersion: 'policy.networking.k8s.io/v1alpha2',
  kind: 'ClusterNetworkPolicy',
  metadata: { name: 'baseline' },
  spec: {
    tier: 'Baseline',
    priority: 5,
    subject: { namespaces: {} },
    egress: [{ action: 'Accept', to: [{ networks: ['10.0.0.0/8'] }], protocols: [{ tcp: { destinationPort: { number: 10250 } } }] }],
  },
};

function seed(fake: FakeApiServer) {
  fake.put(namespace('shop'));
  fake.put(node('node-1', '10.0.0.11'));
  fake.put(node('node-2', '10.0.0.12'));
  fake.put(anp);
  fake.put(cnp);
}

const WITHOUT_V3 = DEFAULT_RESOURCES.filter((r) => r.group !== 'projectcalico.org');

describe('network-policy kinds in a cluster', () => {
  let fake: FakeApiServer | null = null;
  let dir: string | null = null;
  const savedKubeconfig = process.env.KUBECONFIG;
  afterEach(async () => {
    if (savedKubeconfig === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = savedKubeconfig;
    await fake?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    fake = null;
    dir = null;
  });

  async function scan(f: FakeApiServer): Promise<string[]> {
    dir = await mkdtemp(path.join(tmpdir(), 'portcullis-netpol-kinds-'));
    const file = path.join(dir, 'kubeconfig');
    await writeFile(file, f.kubeconfig());
    process.env.KUBECONFIG = file;
    let stdout = '';
    await runScan(
      [],
      { cluster: true, format: 'json', failOn: 'never' },
      {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: () => true, isTTY: false },
        stdoutColor: false,
        now: () => new Date(0),
      },
    );
    return (JSON.parse(stdout).findings as Obj[]).map(
      (f) => `${f.resource.apiVersion} ${f.resource.kind} ${f.resource.namespace ?? '-'}/${f.resource.name} ${f.path} ${f.value}`,
    );
  }

  it.each([
    {
      name: 'Calico API server: v3 and the CRDs that store it, reported once through v3',
      resources: DEFAULT_RESOURCES,
      objects: [gnp('projectcalico.org/v3'), gnp('crd.projectcalico.org/v1'), calicoNp('projectcalico.org/v3'), calicoNp('crd.projectcalico.org/v1')],
      calico: [
        'projectcalico.org/v3 GlobalNetworkPolicy -/allow-kubelet spec.egress[0] 10250',
        'projectcalico.org/v3 NetworkPolicy shop/web-egress spec.egress[0] 10250',
      ],
    },
    {
      name: 'no Calico API server: the crd.projectcalico.org/v1 CRDs',
      resources: WITHOUT_V3,
      objects: [gnp('crd.projectcalico.org/v1'), calicoNp('crd.projectcalico.org/v1')],
      calico: [
        'crd.projectcalico.org/v1 GlobalNetworkPolicy -/allow-kubelet spec.egress[0] 10250',
        'crd.projectcalico.org/v1 NetworkPolicy shop/web-egress spec.egress[0] 10250',
      ],
    },
  ])('scan --cluster, $name', async ({ resources, objects, calico }) => {
    fake = await FakeApiServer.start({ resources });
    seed(fake);
    for (const o of objects) fake.put(o);
    const found = await scan(fake);
    expect(found.sort()).toEqual(
      [
        'policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy -/kubelet-for-all spec.egress[0] 10250',
        'policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicy -/baseline spec.egress[0] 10250',
        ...calico,
      ].sort(),
    );
  });

  it.each([
    {
      name: 'Calico API server',
      resources: DEFAULT_RESOURCES,
      objects: [gnp('projectcalico.org/v3'), gnp('crd.projectcalico.org/v1')],
      group: 'projectcalico.org/v3',
    },
    { name: 'no Calico API server', resources: WITHOUT_V3, objects: [gnp('crd.projectcalico.org/v1')], group: 'crd.projectcalico.org/v1' },
  ])('the controller reports cluster-scoped policies in the ClusterPolicyReport ($name)', async ({ resources, objects, group }) => {
    fake = await FakeApiServer.start({ resources });
    seed(fake);
    for (const o of objects) fake.put(o);
    const client = await connectKube({ kubeconfig: fake.kubeconfig() });
    const c = startController({
      client,
      defaults: {},
      filePolicies: [policy()],
      leaseNamespace: 'portcullis-system',
      debounceMs: 10,
      retryPeriodMs: 50,
      leaseDurationMs: 1000,
      renewDeadlineMs: 500,
      tuning: { missingRetryMs: 60_000 },
    });
    try {
      await c.firstReportSet;
      await waitFor('cluster report', () => fake!.get('wgpolicyk8s.io/v1alpha2', 'ClusterPolicyReport', null, 'portcullis-cluster'));
      const report = fake.get('wgpolicyk8s.io/v1alpha2', 'ClusterPolicyReport', null, 'portcullis-cluster') as Obj;
      const failed = (report.results as Obj[])
        .filter((r) => r.result === 'fail')
        .map((r) => `${r.resources[0].apiVersion} ${r.resources[0].kind} ${r.resources[0].name}`);
      expect(failed.sort()).toEqual(
        [
          `${group} GlobalNetworkPolicy allow-kubelet`,
          'policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy kubelet-for-all',
          'policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicy baseline',
        ].sort(),
      );
    } finally {
      await c.stop();
    }
  });
});

describe('strip keeps what the network-policy rule reads', () => {
  // Each object through strip() gives the same findings (keys included) as the object as served.
  const served = (o: Obj) => ({
    ...o,
    metadata: { ...o.metadata, uid: 'u-1', resourceVersion: '7', managedFields: [{ manager: 'kubectl' }], annotations: { note: 'x' } },
    status: { conditions: [] },
  });
  const OBJECTS = [
    anp,
    cnp,
    {
      ...anp,
      kind: 'BaselineAdminNetworkPolicy',
      metadata: { name: 'default' },
      spec: {
        subject: { namespaces: {} },
        egress: [
          { action: 'Deny', to: [{ nodes: {} }], ports: [{ portNumber: { port: 10250 } }] },
          { action: 'Allow', to: [{ networks: ['0.0.0.0/0'] }], ports: [{ portRange: { start: 10000, end: 11000 } }] },
        ],
      },
    },
    gnp('projectcalico.org/v3'),
    gnp('crd.projectcalico.org/v1'),
    calicoNp('projectcalico.org/v3'),
    {
      ...gnp('projectcalico.org/v3'),
      spec: {
        selector: 'has(kubernetes-host)',
        types: ['Ingress'],
        preDNAT: false,
        doNotTrack: false,
        ingress: [{ action: 'Allow', ...kubelet }],
        egress: [{ action: 'Allow', ...kubelet }],
      },
    },
    { ...gnp('projectcalico.org/v3'), spec: { namespaceSelector: "team == 'a'", serviceAccountSelector: 'all()', egress: [{ action: 'Allow', ...kubelet }] } },
  ];
  it.each(OBJECTS.map((o, i) => ({ name: `${i}: ${o.apiVersion} ${o.kind}`, o })))('$name', ({ o }) => {
    const type = AUDITED.find((t) => `${t.group}/${t.version}` === o.apiVersion && t.kind === o.kind)!;
    const findings = (x: Obj) =>
      evaluate(resource(x, type.namespaced ? 'shop' : null), [policy()], cluster()).findings.map((f) => [f.path, f.value, f.key, f.message]);
    const stripped = strip(type, served(o))!;
    expect(stripped.metadata).not.toHaveProperty('managedFields');
    expect(stripped).not.toHaveProperty('status');
    expect(findings(stripped)).toEqual(findings(o));
    expect(findings(o).length).toBeGreaterThan(0);
  });
});
