import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { silentLog } from '../../src/cluster/log.js';
import { runScan } from '../../src/cmd/scan.js';
import { startController, type Controller, type ControllerOptions } from '../../src/controller/controller.js';
import { controllerReadiness, controllerRegistry } from '../../src/controller/ops.js';
import type { CompiledPolicy, PortPolicySpec } from '../../src/engine/policy/model.js';
import { connectKube, type KubeClient } from '../../src/k8s/client.js';
import { startOpsServer } from '../../src/server/ops-app.js';
import { loadDefaultSpec, loadPolicyPaths } from '../../src/sources/policy-files.js';
import { cronJob, deployment, job, kubeletEgress, namespace, node, pod, portPolicy, replicaSet, service } from '../support/cluster-objects.js';
import { FakeApiServer, type RequestInfo } from '../support/fake-apiserver.js';
import { ManualClock } from '../support/clock.js';
import { waitFor } from '../support/wait.js';

type Obj = Record<string, any>;
const PR = 'wgpolicyk8s.io/v1alpha2';

const tenancy = portPolicy('tenancy', {
  tenants: [
    { name: 'team-a', namespaceSelector: { matchLabels: { tenant: 'a' } }, nodePortRange: '31000-31099' },
    { name: 'team-b', namespaceSelector: { matchLabels: { tenant: 'b' } }, nodePortRange: '31100-31199' },
  ],
});

/** A small cluster: two tenants' namespaces, kube-system, nodes, workloads with owned pods. */
function seedCluster(fake: FakeApiServer) {
  fake.put(namespace('shop', { tenant: 'a' }));
  fake.put(namespace('kube-system'));
  fake.put(service('shop', 'web', [30080]));
  fake.put(deployment('shop', 'agent', [{ containerPort: 10250, hostPort: 10250 }]));
  fake.put(replicaSet('shop', 'agent-7d9', [{ containerPort: 10250, hostPort: 10250 }], 'agent'));
  for (let i = 0; i < 3; i++)
    fake.put(pod('shop', `agent-7d9-${i}`, [{ containerPort: 10250, hostPort: 10250 }], { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'agent-7d9' }));
  fake.put(pod('shop', 'debug', [{ containerPort: 10255, hostPort: 10255 }]));
  fake.put(cronJob('shop', 'backup', []));
  fake.put(job('shop', 'backup-123', [], 'backup'));
  fake.put(pod('shop', 'backup-123-x', [], { apiVersion: 'batch/v1', kind: 'Job', name: 'backup-123' }));
  fake.put(kubeletEgress('shop', 'to-nodes', '10.0.0.0/24'));
  fake.put({
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumClusterwideNetworkPolicy',
    metadata: { name: 'allow-kubelet' },
    spec: { endpointSelector: {}, egress: [{ toEntities: ['remote-node'], toPorts: [{ ports: [{ port: '10250', protocol: 'TCP' }] }] }] },
  });
}

const resultsOf = (report: Obj | undefined) =>
  ((report?.results ?? []) as Obj[]).map(
    (r) => `${r.resources[0].kind}/${r.resources[0].name} ${r.rule} ${r.result}${r.properties?.tenant ? ` ${r.properties.tenant}` : ''}`,
  );
const failures = (report: Obj | undefined) => resultsOf(report).filter((r) => / (fail|error)/.test(r));
const reportWrites = (fake: FakeApiServer, user?: string) =>
  fake.requests.filter((r) => r.method !== 'GET' && /policyreports/.test(r.path) && (user === undefined || r.user === user));

describe('controller: background audit', () => {
  let defaults: PortPolicySpec;
  let filePolicies: CompiledPolicy[];
  let fake: FakeApiServer;
  // Held time shared by every controller of a test: a lease expires, a renew deadline passes and
  // a write token refills only when the test advances it, never because the machine was busy.
  // Sleeps (retry period, debounce) still take real time, so the loops keep turning.
  let clock: ManualClock;
  const running: Controller[] = [];

  beforeAll(async () => {
    defaults = await loadDefaultSpec();
    filePolicies = (await loadPolicyPaths([], defaults)).policies;
  });
  beforeEach(async () => {
    clock = new ManualClock({ realSleeps: true });
    fake = await FakeApiServer.start();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.stop()));
    await fake.close();
  });

  async function controller(token = 'a', extra: Partial<ControllerOptions> = {}) {
    const client = extra.client ?? (await connectKube({ kubeconfig: fake.kubeconfig({ token }) }));
    const c = startController({
      client,
      defaults,
      filePolicies,
      leaseNamespace: 'portcullis-system',
      identity: `controller-${token}`,
      leaseDurationMs: 1000,
      renewDeadlineMs: 700,
      retryPeriodMs: 50,
      debounceMs: 20,
      writeQps: 1000,
      writeBurst: 1000,
      tuning: { retryDelayMs: 20, pageSize: 3 },
      clock,
      ...extra,
    });
    running.push(c);
    return c;
  }

  it('audits templates once, standalone pods, services and policies, and writes PolicyReports', async () => {
    seedCluster(fake);
    const c = await controller();
    await c.firstReportSet;
    const shop = fake.get(PR, 'PolicyReport', 'shop', 'portcullis-shop');
    expect(shop?.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'portcullis', 'portcullis.dev/report-scope': 'shop' });
    // The Deployment's template is audited once: no result for its ReplicaSet or pods; the
    // CronJob likewise stands for its Job and pod. The standalone pod is audited itself.
    const kinds = new Set(resultsOf(shop).map((r) => r.split(' ')[0]));
    expect([...kinds].sort()).toEqual(['CronJob/backup', 'Deployment/agent', 'NetworkPolicy/to-nodes', 'Pod/debug', 'Service/web']);
    expect(failures(shop)).toEqual(['Deployment/agent hostport-reserved fail', 'Pod/debug hostport-reserved fail']);
    expect(shop?.summary).toMatchObject({ fail: 2, error: 0 });
    const result = (shop!.results as Obj[]).find((r) => r.resources[0].name === 'agent' && r.result === 'fail')!;
    expect(result).toMatchObject({
      source: 'portcullis',
      policy: 'default',
      severity: 'high',
      properties: { action: 'deny', path: 'spec.template.spec.containers[0].ports[0].hostPort', value: '10250' },
      resources: [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'agent', uid: expect.stringMatching(/^uid-/) }],
      timestamp: { seconds: expect.any(Number), nanos: expect.any(Number) },
    });
    const cluster = fake.get(PR, 'ClusterPolicyReport', null, 'portcullis-cluster');
    expect(failures(cluster)).toEqual(['CiliumClusterwideNetworkPolicy/allow-kubelet netpol-sensitive-exposure fail']);
    // Nothing in kube-system is audited, so it gets no report.
    expect(fake.list(PR, 'PolicyReport', 'kube-system')).toEqual([]);
  });

  it('writes only changed reports, and a restarted controller rewrites nothing', async () => {
    seedCluster(fake);
    const c = await controller();
    await c.firstReportSet;
    await c.idle();
    const initial = reportWrites(fake).length;
    expect(initial).toBe(2);

    // A change the rules do not see (replicas) re-audits the namespace but writes nothing.
    const d = fake.get('apps/v1', 'Deployment', 'shop', 'agent')!;
    fake.put({ ...d, spec: { ...d.spec, replicas: 5 } });
    await waitFor('re-audit', () => c.stats.scopesAudited >= 3);
    await c.idle();
    expect(reportWrites(fake)).toHaveLength(initial);

    // Fixing the violation rewrites exactly that namespace's report.
    fake.put(deployment('shop', 'agent', [{ containerPort: 8080 }]));
    await waitFor('report updated', () => failures(fake.get(PR, 'PolicyReport', 'shop', 'portcullis-shop')).length === 1);
    await c.idle();
    expect(
      reportWrites(fake)
        .slice(initial)
        .map((r) => `${r.method} ${r.path}`),
    ).toEqual(['PUT /apis/wgpolicyk8s.io/v1alpha2/namespaces/shop/policyreports/portcullis-shop']);

    // A new controller reads the existing reports and finds nothing to write.
    await c.stop();
    const c2 = await controller('b');
    await c2.firstReportSet;
    await c2.idle();
    expect(reportWrites(fake, 'b')).toEqual([]);
  });

  it('writes the reports scan --cluster --format policyreport writes, chunked the same way', async () => {
    seedCluster(fake);
    fake.put(namespace('big'));
    for (let i = 0; i < 700; i++) fake.put(service('big', `s${i}`, [30000 + i]));
    const c = await controller('a', { tuning: { retryDelayMs: 20, pageSize: 500 } });
    await c.firstReportSet;
    const dir = await mkdtemp(path.join(tmpdir(), 'portcullis-parity-'));
    const saved = process.env.KUBECONFIG;
    let stdout = '';
    try {
      process.env.KUBECONFIG = path.join(dir, 'kubeconfig');
      await writeFile(process.env.KUBECONFIG, fake.kubeconfig());
      const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: () => true }, stdoutColor: false, now: () => new Date() };
      await runScan([], { cluster: true, format: 'policyreport' }, io);
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
      await rm(dir, { recursive: true, force: true });
    }
    // Everything but when it was written and the server's metadata; uids included.
    const comparable = (r: Obj) => ({
      kind: r.kind,
      apiVersion: r.apiVersion,
      name: r.metadata.name,
      namespace: r.metadata.namespace,
      labels: r.metadata.labels,
      summary: r.summary,
      results: (r.results as Obj[]).map(({ timestamp: _t, ...rest }) => rest),
    });
    const scanned = parseAllDocuments(stdout).map((d) => comparable(d.toJS()));
    const written = [...fake.list(PR, 'ClusterPolicyReport'), ...fake.list(PR, 'PolicyReport')].map(comparable);
    const byName = (a: Obj, b: Obj) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`);
    expect(written.map((r) => `${r.namespace}/${r.name} ${r.results.length}`).sort()).toEqual([
      'big/portcullis-big 1000',
      'big/portcullis-big-1 1000',
      'big/portcullis-big-2 100',
      'shop/portcullis-shop 10',
      'undefined/portcullis-cluster 1',
    ]);
    expect(written.sort(byName)).toEqual(scanned.sort(byName));
    expect(
      scanned.flatMap((r) => (r.results as Obj[]).flatMap((x) => x.resources as Obj[])).every((res) => typeof res.uid === 'string' && res.uid !== ''),
    ).toBe(true);
  });

  it('audits an owned pod with host ports itself while its owner is missing, and moves the finding to the owner when it appears', async () => {
    fake.put(namespace('shop'));
    fake.put(pod('shop', 'web-1-a', [{ containerPort: 10250, hostPort: 10250 }], { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1' }));
    fake.put(pod('shop', 'web-1-b', [{ containerPort: 8080 }], { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1' }));
    const c = await controller();
    await c.firstReportSet;
    const shop = () => fake.get(PR, 'PolicyReport', 'shop', 'portcullis-shop');
    expect(failures(shop())).toEqual(['Pod/web-1-a hostport-reserved fail']);
    // The pod without host ports can add nothing to a report: it is not kept.
    expect(resultsOf(shop()).some((r) => r.startsWith('Pod/web-1-b'))).toBe(false);
    fake.put(replicaSet('shop', 'web-1', [{ containerPort: 10250, hostPort: 10250 }]));
    await waitFor('finding moves to the owner', () => failures(shop()).join() === 'ReplicaSet/web-1 hostport-reserved fail');
    expect(resultsOf(shop()).every((r) => r.startsWith('ReplicaSet/web-1'))).toBe(true);
  });

  it("never deletes other tools' reports, even when the server ignores the label selector", async () => {
    seedCluster(fake);
    const kyverno = {
      apiVersion: PR,
      kind: 'PolicyReport',
      metadata: { namespace: 'shop', name: 'kyverno-pol-1', labels: { 'app.kubernetes.io/managed-by': 'kyverno' } },
      results: [],
      summary: {},
    };
    fake.put(kyverno);
    const client = await connectKube({ kubeconfig: fake.kubeconfig({ token: 'a' }) });
    const ignoring: KubeClient = {
      ...client,
      request: (method, p, body, o) => client.request(method, p.replace(/labelSelector=[^&]*&?/, ''), body, o) as never,
    };
    const c = await controller('a', { client: ignoring });
    await c.firstReportSet;
    fake.remove('v1', 'Pod', 'shop', 'debug');
    await waitFor('re-audit', () => !failures(fake.get(PR, 'PolicyReport', 'shop', 'portcullis-shop')).includes('Pod/debug hostport-reserved fail'));
    await c.idle();
    expect(fake.get(PR, 'PolicyReport', 'shop', 'kyverno-pol-1')).toBeDefined();
    expect(fake.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
  });

  it('logs, once, which catalog profiles the cluster DaemonSets match and the active policy leaves out', async () => {
    seedCluster(fake);
    fake.put(namespace('kube-flannel'));
    fake.put({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'kube-flannel-ds', namespace: 'kube-flannel', uid: 'uid-flannel' },
      spec: { template: { spec: { hostNetwork: true, containers: [{ name: 'kube-flannel', image: 'ghcr.io/flannel-io/flannel:v0.27.3' }] } } },
    });
    const hints: unknown[] = [];
    const log = { ...silentLog, info: (obj: object, msg: string) => (msg === 'catalog profile hint' ? hints.push(obj) : undefined) };
    const c = await controller('a', { log });
    await c.firstReportSet;
    fake.put(service('shop', 'web-2', [30081]));
    await c.idle();
    expect(hints).toEqual([
      {
        hint: 'the cluster runs DaemonSet kube-flannel/kube-flannel-ds, which profile flannel describes; policy default does not use it (add it to spec.profiles to reserve its ports)',
      },
    ]);
  });

  it('splits large namespaces into chunks and deletes chunks it no longer needs', async () => {
    fake.put(namespace('big'));
    for (let i = 0; i < 4; i++) fake.put(service('big', `s${i}`, [30000 + i]));
    const c = await controller('a', { maxResultsPerReport: 6 });
    await c.firstReportSet;
    // 4 services × 3 Service rules (two node-port rules and service-external-ips) = 12 results → 2 chunks.
    expect(
      fake
        .list(PR, 'PolicyReport', 'big')
        .map((r) => r.metadata.name)
        .sort(),
    ).toEqual(['portcullis-big', 'portcullis-big-1']);
    fake.remove('v1', 'Service', 'big', 's3');
    fake.remove('v1', 'Service', 'big', 's2');
    await waitFor('chunk deleted', () => fake.list(PR, 'PolicyReport', 'big').length === 1);
    fake.remove('v1', 'Service', 'big', 's1');
    fake.remove('v1', 'Service', 'big', 's0');
    await waitFor('report deleted', () => fake.list(PR, 'PolicyReport', 'big').length === 0);
  });

  it('hands leadership over between two instances: exactly one writes', async () => {
    seedCluster(fake);
    const a = await controller('a');
    await a.firstReportSet;
    const b = await controller('b');
    await waitFor('b synced', () => b.synced());
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    fake.put(pod('shop', 'debug2', [{ containerPort: 10248, hostPort: 10248 }]));
    await waitFor('a writes', () => failures(fake.get(PR, 'PolicyReport', 'shop', 'portcullis-shop')).includes('Pod/debug2 hostport-reserved fail'));
    expect(reportWrites(fake, 'b')).toEqual([]);

    // Shutdown releases the Lease: b takes over with no time passing at all, where an
    // unreleased Lease would keep it waiting a whole lease duration.
    const released = clock.now();
    await a.stop();
    expect(fake.get('coordination.k8s.io/v1', 'Lease', 'portcullis-system', 'portcullis-controller')?.spec.holderIdentity).toBe('');
    await waitFor('b leads', () => b.isLeader());
    expect(clock.now()).toBe(released);
    const lease = fake.get('coordination.k8s.io/v1', 'Lease', 'portcullis-system', 'portcullis-controller')!;
    expect(lease.spec).toMatchObject({ holderIdentity: 'controller-b', leaseTransitions: 1, leaseDurationSeconds: 1 });
    const writesByA = reportWrites(fake, 'a').length;
    fake.remove('v1', 'Pod', 'shop', 'debug2');
    await waitFor('b writes', () => !failures(fake.get(PR, 'PolicyReport', 'shop', 'portcullis-shop')).includes('Pod/debug2 hostport-reserved fail'));
    expect(reportWrites(fake, 'a')).toHaveLength(writesByA);
    expect(reportWrites(fake, 'b').length).toBeGreaterThan(0);
  });

  it('never has two leaders when two instances start at once', async () => {
    seedCluster(fake);
    const [a, b] = await Promise.all([controller('a'), controller('b')]);
    await waitFor('a leader', () => a.isLeader() || b.isLeader());
    // Checked at every poll while both keep campaigning, for twenty more Lease requests.
    const leaseRequests = () => fake.requests.filter((r) => r.path.includes('/leases')).length;
    const until = leaseRequests() + 20;
    await waitFor('twenty more lease requests', () => {
      expect(Number(a.isLeader()) + Number(b.isLeader())).toBe(1);
      return leaseRequests() >= until;
    });
    const leader = a.isLeader() ? 'a' : 'b';
    await (leader === 'a' ? a : b).firstReportSet;
    expect(reportWrites(fake, leader === 'a' ? 'b' : 'a')).toEqual([]);
  });

  it.each([
    // A partition or an RBAC change: a's lease requests fail.
    { name: 'its lease requests are refused', cutOff: (f: FakeApiServer) => (f.forbid = (r) => r.user === 'a' && r.resource === 'leases') },
    // The API server stops answering (no answer, no error): a must not keep leading past the deadline.
    { name: 'the API server stops answering its lease requests', cutOff: (f: FakeApiServer) => (f.stall = (r) => r.user === 'a' && r.resource === 'leases') },
  ])('steps down by its renew deadline when $name, before another instance takes over', async ({ cutOff }) => {
    seedCluster(fake);
    const a = await controller('a');
    await a.firstReportSet;
    const b = await controller('b');
    await waitFor('b synced', () => b.synced());
    // b has read the Lease at least once (its second read starts after the first was judged).
    await waitFor('b watches the lease', () => fake.requests.filter((r) => r.user === 'b' && r.path.includes('/leases')).length >= 2);
    cutOff(fake);
    // No time passes: however many attempts fail, a keeps leading and b keeps waiting.
    const attempts = () => fake.requests.filter((r) => r.user === 'a' && r.path.includes('/leases')).length;
    const cut = attempts();
    await waitFor('a fails two attempts', () => attempts() >= cut + 2);
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
    // renewDeadline (700 ms) < lease duration (1 s): a stops before b may start.
    clock.advance(700);
    await waitFor('a steps down', () => {
      expect(b.isLeader()).toBe(false);
      return !a.isLeader();
    });
    const writesByA = reportWrites(fake, 'a').length;
    clock.advance(300);
    await waitFor('b takes over', () => b.isLeader());
    expect(a.isLeader()).toBe(false);
    fake.put(pod('shop', 'debug3', [{ containerPort: 2379, hostPort: 2379 }]));
    await waitFor('b writes', () => failures(fake.get(PR, 'PolicyReport', 'shop', 'portcullis-shop')).includes('Pod/debug3 hostport-reserved fail'));
    expect(reportWrites(fake, 'a')).toHaveLength(writesByA);
    fake.stall = () => false;
  });

  it('gives up a report write that hangs by its renew deadline, so a shutdown hands over promptly', async () => {
    seedCluster(fake);
    const hangs = (r: RequestInfo | undefined) => r?.resource === 'policyreports' && r.verb === 'create';
    fake.stall = hangs;
    const c = await controller('a');
    // The stalled request itself: a path test would also match the ClusterPolicyReport, which
    // is written first and answered, and stop() would then come before any write hangs.
    await waitFor('a write hangs', () => fake.requests.some((r) => hangs(r.info)));
    // The write times out after the renew deadline (700 ms), then the Lease is released; a
    // write left to the client's default timeout (60 s) would hold the hand-over that long.
    // Waited for as an event, at most GENEROUS_MS (a quarter of those 60 s).
    let returned = false;
    const stopping = c.stop().finally(() => (returned = true));
    await waitFor('stop() to return', () => returned);
    await stopping;
    expect(fake.get('coordination.k8s.io/v1', 'Lease', 'portcullis-system', 'portcullis-controller')?.spec.holderIdentity).toBe('');
    // The write is given up by its own deadline (well before the client's 60 s default); on a
    // busy machine that may be counted just after stop() has handed the Lease over.
    await waitFor('the hung write counted as failed', () => c.stats.writes.create.error > 0);
    fake.stall = () => false;
  });

  it('rate-limits report writes', async () => {
    fake.put(namespace('a'));
    for (let i = 0; i < 6; i++) fake.put(namespace(`ns-${i}`));
    for (let i = 0; i < 6; i++) fake.put(service(`ns-${i}`, 'web', [30080]));
    // Burst 2, then 10 per second: after the first two, one report per 100 ms of clock time.
    const c = await controller('a', { writeQps: 10, writeBurst: 2 });
    const created = () => reportWrites(fake).filter((r) => r.method === 'POST').length;
    await waitFor('the burst', () => created() >= 2);
    await waitFor('the writer waits for a token', () => clock.slept.some((ms) => ms === 100));
    expect(created()).toBe(2);
    for (let n = 3; n <= 6; n++) {
      clock.advance(100);
      await waitFor(`report ${n}`, () => created() >= n);
      expect(created()).toBe(n);
    }
    await c.firstReportSet;
    expect(fake.list(PR, 'PolicyReport')).toHaveLength(6);
  });

  it('takes over from a leader that died without releasing, after the lease duration', async () => {
    fake.put({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { namespace: 'portcullis-system', name: 'portcullis-controller' },
      spec: { holderIdentity: 'dead-replica', leaseDurationSeconds: 1, renewTime: new Date().toISOString(), leaseTransitions: 3 },
    });
    const c = await controller('a');
    await waitFor('synced', () => c.synced());
    // Two reads of the Lease: the first has been judged (not expired) when the second starts.
    const reads = () => fake.requests.filter((r) => r.user === 'a' && r.path.includes('/leases')).length;
    await waitFor('lease read twice', () => reads() >= 2);
    expect(c.isLeader()).toBe(false);
    // One moment short of the lease duration (1 s) since it first saw this renewTime: still waiting.
    clock.advance(999);
    const before = reads();
    await waitFor('two more reads', () => reads() >= before + 2);
    expect(c.isLeader()).toBe(false);
    clock.advance(1);
    await waitFor('takeover', () => c.isLeader());
    expect(fake.get('coordination.k8s.io/v1', 'Lease', 'portcullis-system', 'portcullis-controller')?.spec).toMatchObject({
      holderIdentity: 'controller-a',
      leaseTransitions: 4,
    });
  });

  it('follows PortPolicy changes and namespace relabels: reports move with the tenant', async () => {
    seedCluster(fake);
    const c = await controller();
    await c.firstReportSet;
    expect(failures(fake.get(PR, 'PolicyReport', 'shop', 'portcullis-shop'))).not.toContainEqual(expect.stringContaining('Service/web'));
    // A PortPolicy object replaces the file policies: nodePort 30080 lies outside team-a's slice.
    fake.put(tenancy);
    await waitFor('policy applied', () => failures(fake.get(PR, 'PolicyReport', 'shop', 'portcullis-shop')).includes('Service/web nodeport-range fail team-a'));
    const policies = new Set((fake.get(PR, 'PolicyReport', 'shop', 'portcullis-shop')!.results as Obj[]).map((r) => r.policy));
    expect([...policies]).toEqual(['tenancy']);
    fake.put(namespace('shop', { tenant: 'b' }));
    await waitFor('relabelled', () => failures(fake.get(PR, 'PolicyReport', 'shop', 'portcullis-shop')).includes('Service/web nodeport-range fail team-b'));
    // An invalid PortPolicy is ignored; deleting the last valid one brings the files back.
    fake.put(portPolicy('broken', { tenants: [{ name: 't', namespaces: ['x'], nodePortRange: '20000-20010' }] }));
    await waitFor('invalid status', () => fake.get('portcullis.dev/v1alpha1', 'PortPolicy', null, 'broken')?.status?.valid === false);
    fake.remove('portcullis.dev/v1alpha1', 'PortPolicy', null, 'tenancy');
    const policiesNow = () => new Set(((fake.get(PR, 'PolicyReport', 'shop', 'portcullis-shop')?.results ?? []) as Obj[]).map((r) => r.policy));
    await waitFor('files again', () => [...policiesNow()].join() === 'default');
  });

  it("judges network policies against the Nodes' addresses", async () => {
    seedCluster(fake);
    const c = await controller();
    await c.firstReportSet;
    const netpol = () => failures(fake.get(PR, 'PolicyReport', 'shop', 'portcullis-shop')).filter((r) => r.startsWith('NetworkPolicy/'));
    // Without nodes the /24 is narrower than the assumed-range threshold (/16): no finding.
    expect(netpol()).toEqual([]);
    fake.put(node('node-1', '10.0.0.11'));
    fake.put(node('node-2', '10.0.0.12'));
    await waitFor('node-aware finding', () => netpol().length === 1);
    expect(netpol()).toEqual(['NetworkPolicy/to-nodes netpol-sensitive-exposure fail']);
  });

  it('recovers from dropped watches and expired versions without losing changes', async () => {
    seedCluster(fake);
    const c = await controller();
    await c.firstReportSet;
    fake.dropWatches();
    fake.put(pod('shop', 'late', [{ containerPort: 6443, hostPort: 6443 }]));
    await waitFor('after reconnect', () => failures(fake.get(PR, 'PolicyReport', 'shop', 'portcullis-shop')).includes('Pod/late hostport-reserved fail'));
    fake.dropWatches();
    fake.remove('v1', 'Pod', 'shop', 'late');
    fake.remove('v1', 'Pod', 'shop', 'debug');
    fake.compact();
    await waitFor('after relist', () => failures(fake.get(PR, 'PolicyReport', 'shop', 'portcullis-shop')).length === 1);
    expect(c.informers().some((i) => i.stats.expired > 0)).toBe(true);
  });

  it('serves /healthz, /readyz and /metrics', async () => {
    seedCluster(fake);
    const c = await controller();
    const ops = await startOpsServer({ port: 0, host: '127.0.0.1', registry: controllerRegistry(c), readiness: controllerReadiness(c) });
    try {
      const get = async (p: string) => {
        const r = await fetch(`http://127.0.0.1:${ops.port}${p}`);
        return { status: r.status, text: await r.text() };
      };
      expect(await get('/healthz')).toEqual({ status: 200, text: '{"status":"ok"}' });
      await c.firstReportSet;
      expect(await get('/readyz')).toEqual({ status: 200, text: '{"ready":true,"checks":{"cluster":true}}' });
      const metrics = (await get('/metrics')).text;
      expect(metrics).toContain('portcullis_controller_leader 1');
      expect(metrics).toContain('portcullis_controller_findings{rule="hostport-reserved",action="deny"} 2');
      // The standalone pod, and the three owned pods kept for their host ports (their owner stands for them).
      expect(metrics).toContain('portcullis_controller_cached_objects{resource="pods"} 4');
      expect(metrics).toMatch(/portcullis_controller_report_writes_total\{operation="create",result="ok"\} 2/);
      expect(metrics).toContain('process_resident_memory_bytes');
      expect(await get('/nope')).toEqual({ status: 404, text: '{"error":"no such endpoint: GET /nope; use /healthz, /readyz or /metrics"}' });
    } finally {
      await ops.close();
    }
  });

  it('is not ready until its caches have synced', async () => {
    fake.forbid = (r) => r.resource === 'nodes';
    const c = await controller();
    const ops = await startOpsServer({ port: 0, host: '127.0.0.1', registry: controllerRegistry(c), readiness: controllerReadiness(c) });
    try {
      await waitFor('nodes refused', () => c.informers().find((i) => i.type.resource === 'nodes')?.lastError);
      const r = await fetch(`http://127.0.0.1:${ops.port}/readyz`);
      expect([r.status, await r.json()]).toEqual([503, { ready: false, checks: { cluster: false } }]);
      expect(c.informers().find((i) => i.type.resource === 'nodes')?.lastError?.message).toMatch(/forbidden/);
      fake.forbid = () => false;
      await waitFor('synced', () => c.synced());
    } finally {
      await ops.close();
    }
  });
});
