// The controller's report writer on its own, against the test API server (optimistic
// concurrency: a stale resourceVersion is a 409, a create of an existing name a 409): what it
// reads at start, which requests one reconcile makes, and what the cluster holds after. Another
// writer's changes between the read and the reconcile are made on the server directly.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { silentLog } from '../../src/cluster/log.js';
import { ReportWriter } from '../../src/controller/report-writer.js';
import { connectKube, type KubeClient } from '../../src/k8s/client.js';
import type { KubeObject } from '../../src/engine/types.js';
import { MANAGED_BY_LABEL, REPORT_SOURCE } from '../../src/sinks/reports/policyreport.js';
import { DEFAULT_RESOURCES, FakeApiServer } from '../support/fake-apiserver.js';
import { ManualClock } from '../support/clock.js';

const PR = 'wgpolicyk8s.io/v1alpha2';
const NS_PATH = '/apis/wgpolicyk8s.io/v1alpha2/namespaces';

/** A report as the auditor builds it; `result` stands for its content, `seconds` for when it was made. */
function report(ns: string | null, name: string, result: string, opts: { managedBy?: string; seconds?: number } = {}): KubeObject {
  return {
    apiVersion: PR,
    kind: ns ? 'PolicyReport' : 'ClusterPolicyReport',
    metadata: { name, ...(ns ? { namespace: ns } : {}), labels: { [MANAGED_BY_LABEL]: opts.managedBy ?? REPORT_SOURCE } },
    summary: { [result]: 1 },
    results: [{ policy: 'default', rule: 'hostport-reserved', result, timestamp: { seconds: opts.seconds ?? 1, nanos: 0 } }],
  };
}

/** What the server holds: `namespace/name result` ('-' for the cluster scope). */
const held = (fake: FakeApiServer) =>
  [...fake.list(PR, 'ClusterPolicyReport'), ...fake.list(PR, 'PolicyReport')]
    .map((r) => `${r.metadata.namespace ?? '-'}/${r.metadata.name} ${r.results[0].result}`)
    .sort();

interface Row {
  name: string;
  /** On the server before the writer reads what exists. */
  before: KubeObject[];
  /** Done on the server after the read, before the reconcile (another writer). */
  between?: (fake: FakeApiServer) => void;
  scope: string | null;
  want: KubeObject[];
  /** The server answers lists without applying the label selector. */
  ignoresSelector?: boolean;
  requests: string[];
  operations: string[];
  /** API writes as reconcile counts them: one per report written or deleted, however many requests it took. */
  writes: number;
  after: string[];
}

describe('ReportWriter', () => {
  let fake: FakeApiServer;
  beforeEach(async () => {
    fake = await FakeApiServer.start();
  });
  afterEach(async () => {
    await fake.close();
  });

  async function writer(opts: { ignoresSelector?: boolean } = {}) {
    const client = await connectKube({ kubeconfig: fake.kubeconfig({ token: 'w' }) });
    const ignoring: KubeClient = {
      ...client,
      request: (method, p, body, o) => client.request(method, p.replace(/labelSelector=[^&]*&?/, ''), body, o) as never,
    };
    const operations: string[] = [];
    const w = new ReportWriter({
      client: opts.ignoresSelector ? ignoring : client,
      flavor: 'wgpolicyk8s',
      qps: 1000,
      burst: 1000,
      clock: new ManualClock(),
      onWrite: (op, ok) => operations.push(`${op} ${ok ? 'ok' : 'error'}`),
    });
    return { w, operations };
  }

  it.each<Row>([
    {
      name: 'a new report is created',
      before: [],
      scope: 'shop',
      want: [report('shop', 'portcullis-shop', 'fail')],
      requests: [`POST ${NS_PATH}/shop/policyreports`],
      operations: ['create ok'],
      writes: 1,
      after: ['shop/portcullis-shop fail'],
    },
    {
      name: 'a report whose content is unchanged is not written, whatever its timestamps',
      before: [report('shop', 'portcullis-shop', 'fail')],
      scope: 'shop',
      want: [report('shop', 'portcullis-shop', 'fail', { seconds: 99 })],
      requests: [],
      operations: [],
      writes: 0,
      after: ['shop/portcullis-shop fail'],
    },
    {
      name: 'a changed report is updated',
      before: [report('shop', 'portcullis-shop', 'fail')],
      scope: 'shop',
      want: [report('shop', 'portcullis-shop', 'pass')],
      requests: [`PUT ${NS_PATH}/shop/policyreports/portcullis-shop`],
      operations: ['update ok'],
      writes: 1,
      after: ['shop/portcullis-shop pass'],
    },
    {
      name: 'changed by someone else meanwhile: the update is refused, the current version read, and written once more',
      before: [report('shop', 'portcullis-shop', 'fail')],
      between: (f) => void f.put(report('shop', 'portcullis-shop', 'warn')),
      scope: 'shop',
      want: [report('shop', 'portcullis-shop', 'pass')],
      requests: [
        `PUT ${NS_PATH}/shop/policyreports/portcullis-shop`,
        `POST ${NS_PATH}/shop/policyreports`,
        `GET ${NS_PATH}/shop/policyreports/portcullis-shop`,
        `PUT ${NS_PATH}/shop/policyreports/portcullis-shop`,
      ],
      operations: ['update ok'],
      writes: 1,
      after: ['shop/portcullis-shop pass'],
    },
    {
      name: 'deleted by someone else meanwhile: created again',
      before: [report('shop', 'portcullis-shop', 'fail')],
      between: (f) => void f.remove(PR, 'PolicyReport', 'shop', 'portcullis-shop'),
      scope: 'shop',
      want: [report('shop', 'portcullis-shop', 'pass')],
      requests: [`PUT ${NS_PATH}/shop/policyreports/portcullis-shop`, `POST ${NS_PATH}/shop/policyreports`],
      operations: ['update ok'],
      writes: 1,
      after: ['shop/portcullis-shop pass'],
    },
    {
      name: 'created by someone else meanwhile: the create is refused, the current version read and replaced',
      before: [],
      between: (f) => void f.put(report('shop', 'portcullis-shop', 'warn')),
      scope: 'shop',
      want: [report('shop', 'portcullis-shop', 'pass')],
      requests: [
        `POST ${NS_PATH}/shop/policyreports`,
        `GET ${NS_PATH}/shop/policyreports/portcullis-shop`,
        `PUT ${NS_PATH}/shop/policyreports/portcullis-shop`,
      ],
      operations: ['create ok'],
      writes: 1,
      after: ['shop/portcullis-shop pass'],
    },
    {
      name: 'a chunk the scope no longer needs is deleted; other scopes are left alone',
      before: [report('shop', 'portcullis-shop', 'fail'), report('shop', 'portcullis-shop-1', 'fail'), report('web', 'portcullis-web', 'fail')],
      scope: 'shop',
      want: [report('shop', 'portcullis-shop', 'fail')],
      requests: [`DELETE ${NS_PATH}/shop/policyreports/portcullis-shop-1`],
      operations: ['delete ok'],
      writes: 1,
      after: ['shop/portcullis-shop fail', 'web/portcullis-web fail'],
    },
    {
      name: 'a chunk already deleted by someone else is no failure',
      before: [report('shop', 'portcullis-shop', 'fail'), report('shop', 'portcullis-shop-1', 'fail')],
      between: (f) => void f.remove(PR, 'PolicyReport', 'shop', 'portcullis-shop-1'),
      scope: 'shop',
      want: [report('shop', 'portcullis-shop', 'fail')],
      requests: [`DELETE ${NS_PATH}/shop/policyreports/portcullis-shop-1`],
      operations: [],
      writes: 1,
      after: ['shop/portcullis-shop fail'],
    },
    {
      name: "another tool's report is never deleted, even when the server ignores the label selector",
      before: [report('shop', 'kyverno-pol-1', 'fail', { managedBy: 'kyverno' }), report('shop', 'portcullis-shop', 'fail')],
      ignoresSelector: true,
      scope: 'shop',
      want: [],
      requests: [`DELETE ${NS_PATH}/shop/policyreports/portcullis-shop`],
      operations: ['delete ok'],
      writes: 1,
      after: ['shop/kyverno-pol-1 fail'],
    },
    {
      name: 'the cluster scope writes ClusterPolicyReports',
      before: [report(null, 'portcullis-cluster-1', 'fail')],
      scope: null,
      want: [report(null, 'portcullis-cluster', 'fail')],
      requests: ['POST /apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports', 'DELETE /apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports/portcullis-cluster-1'],
      operations: ['create ok', 'delete ok'],
      writes: 2,
      after: ['-/portcullis-cluster fail'],
    },
  ])('$name', async ({ before, between, scope, want, ignoresSelector, requests, operations, writes, after }) => {
    for (const r of before) fake.put(r);
    const { w, operations: ops } = await writer({ ignoresSelector });
    await w.loadExisting();
    between?.(fake);
    const from = fake.requests.length;
    const counted = await w.reconcile(scope, want);
    expect({
      requests: fake.requests.slice(from).map((r) => `${r.method} ${r.path}`),
      operations: ops,
      writes: [counted, w.writes],
      after: held(fake),
    }).toEqual({ requests, operations, writes: [writes, writes], after });
  });

  it('reads every page of the reports that exist (100 a page), and writes none of them again', async () => {
    const existing = Array.from({ length: 250 }, (_, i) => report('big', `portcullis-big-${i}`, 'fail'));
    for (const r of existing) fake.put(r);
    const { w } = await writer();
    const from = fake.requests.length;
    await w.loadExisting();
    const lists = fake.requests.slice(from).map((r) => {
      const u = new URL(r.path, fake.url);
      return `${u.pathname} limit=${u.searchParams.get('limit')} ${u.searchParams.has('continue') ? 'continued ' : ''}${u.searchParams.get('labelSelector')}`;
    });
    expect(lists).toEqual([
      '/apis/wgpolicyk8s.io/v1alpha2/policyreports limit=100 app.kubernetes.io/managed-by=portcullis',
      '/apis/wgpolicyk8s.io/v1alpha2/policyreports limit=100 continued app.kubernetes.io/managed-by=portcullis',
      '/apis/wgpolicyk8s.io/v1alpha2/policyreports limit=100 continued app.kubernetes.io/managed-by=portcullis',
      '/apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports limit=100 app.kubernetes.io/managed-by=portcullis',
    ]);
    expect(await w.reconcile('big', existing)).toBe(0);
    expect([...w.scopes()]).toEqual(['big']);
  });

  it('report CRDs that are not installed are logged, not thrown: nothing exists to compare against', async () => {
    await fake.close();
    fake = await FakeApiServer.start({ resources: DEFAULT_RESOURCES.filter((r) => r.group !== 'wgpolicyk8s.io') });
    const client = await connectKube({ kubeconfig: fake.kubeconfig({ token: 'w' }) });
    const errors: object[] = [];
    const w = new ReportWriter({
      client,
      flavor: 'wgpolicyk8s',
      clock: new ManualClock(),
      log: { ...silentLog, error: (obj, msg) => errors.push({ ...obj, msg }) },
    });
    await w.loadExisting();
    const msg = 'report CRD is not installed; install wgpolicyk8s.io (or openreports.io) CRDs';
    expect([errors, [...w.scopes()]]).toEqual([
      [
        { resource: 'policyreports', msg },
        { resource: 'clusterpolicyreports', msg },
      ],
      [],
    ]);
  });

  it('a write the server refuses is counted as failed and thrown; the next reconcile tries again', async () => {
    fake.forbid = (r) => r.verb === 'create';
    const { w, operations } = await writer();
    await w.loadExisting();
    await expect(w.reconcile('shop', [report('shop', 'portcullis-shop', 'fail')])).rejects.toThrow(/forbidden/);
    fake.forbid = () => false;
    expect(await w.reconcile('shop', [report('shop', 'portcullis-shop', 'fail')])).toBe(1);
    expect(operations).toEqual(['create error', 'create ok']);
  });

  it('stops before a write once it is told to', async () => {
    const { w } = await writer();
    await w.loadExisting();
    const from = fake.requests.length;
    const wrote = () => fake.requests.slice(from).some((r) => r.method === 'POST');
    const writes = await w.reconcile('shop', [report('shop', 'portcullis-shop', 'fail'), report('shop', 'portcullis-shop-1', 'fail')], wrote);
    expect([writes, fake.requests.slice(from).map((r) => r.method)]).toEqual([1, ['POST']]);
  });
});
