import { parseAllDocuments } from 'yaml';
import { RULE_CATALOG } from '../../src/engine/rules/index.js';
import type { Action, Evaluation, ResourceRef } from '../../src/engine/types.js';
import { buildPolicyReports, writePolicyReports, type ReportFlavor } from '../../src/sinks/reports/policyreport.js';
import { EVALUATIONS, FINDINGS, fixtureScan, WRITER_OPTIONS } from './fixture.js';
import { readGolden } from './golden.js';
import { checkReport } from './schemas.js';

const check = (flavor: ReportFlavor, doc: unknown) => checkReport[flavor](doc);

const at = new Date('2026-11-25T17:45:00.123Z');
type Report = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  source?: string;
  summary: Record<string, number>;
  results: Array<Record<string, any>>;
};
const build = (evaluations: readonly Evaluation[], flavor: ReportFlavor = 'wgpolicyk8s', extra = {}) =>
  buildPolicyReports(evaluations, { rules: RULE_CATALOG, generatedAt: at, flavor, ...extra }) as unknown as Report[];

describe('policy report goldens validate against the CRD schemas', () => {
  it.each([
    { name: 'policyreport.yaml', flavor: 'wgpolicyk8s' as const },
    { name: 'openreports.yaml', flavor: 'openreports' as const },
  ])('$name', ({ name, flavor }) => {
    const docs = parseAllDocuments(readGolden(name)).map((d) => d.toJS());
    expect(docs.length).toBe(5);
    for (const doc of docs) expect(check(flavor, doc)).toEqual([true, []]);
  });

  it('the schema can fail: an out-of-enum severity is rejected', () => {
    const [report] = build(EVALUATIONS);
    report.results[1].severity = 'warning';
    expect(check('wgpolicyk8s', report)[0]).toBe(false);
  });
});

describe('buildPolicyReports', () => {
  it('one report per namespace, a cluster report for cluster-scoped objects, in name order', () => {
    const reports = build(EVALUATIONS);
    expect(reports.map((r) => [r.kind, r.metadata.namespace ?? null, r.metadata.name])).toEqual([
      ['ClusterPolicyReport', null, 'portcullis-cluster'],
      ['PolicyReport', 'default', 'portcullis-default'],
      ['PolicyReport', 'kube-system', 'portcullis-kube-system'],
      ['PolicyReport', 'team-a', 'portcullis-team-a'],
      ['PolicyReport', 'team-b', 'portcullis-team-b'],
    ]);
    for (const r of reports) expect(r.metadata.labels['app.kubernetes.io/managed-by']).toBe('portcullis');
  });

  it('every finding and every outcome is a result; summaries count them', () => {
    const reports = build(EVALUATIONS);
    const results = reports.flatMap((r) => r.results);
    const outcomes = EVALUATIONS.flatMap((e) => e.outcomes);
    expect(results.length).toBe(FINDINGS.length + outcomes.length);
    const total = (k: string) => reports.reduce((n, r) => n + r.summary[k], 0);
    expect({ pass: total('pass'), fail: total('fail'), warn: total('warn'), error: total('error'), skip: total('skip') }).toEqual({
      pass: outcomes.filter((o) => o.status === 'pass').length,
      fail: FINDINGS.filter((f) => f.status === 'fail').length,
      warn: 0,
      error: FINDINGS.filter((f) => f.status === 'error').length,
      skip: outcomes.filter((o) => o.status === 'skip').length,
    });
  });

  const one = (action: Action, status: 'fail' | 'error' = 'fail') => {
    const f = { ...FINDINGS.find((x) => x.rule === 'nodeport-range')!, action, status };
    return build([{ resource: f.resource, source: f.source, findings: [f], outcomes: [] }])[0].results[0];
  };
  it.each([
    { name: 'deny fails with severity high', action: 'deny' as const, status: 'fail' as const, result: 'fail', severity: 'high' },
    { name: 'warn fails with severity medium', action: 'warn' as const, status: 'fail' as const, result: 'fail', severity: 'medium' },
    { name: 'audit fails with severity low', action: 'audit' as const, status: 'fail' as const, result: 'fail', severity: 'low' },
    { name: 'a rule error is error, with its action', action: 'warn' as const, status: 'error' as const, result: 'error', severity: 'medium' },
  ])('$name', ({ action, status, result, severity }) => {
    const r = one(action, status);
    expect(r).toMatchObject({ result, severity, properties: { action }, policy: 'default', rule: 'nodeport-range', source: 'portcullis' });
  });

  it('a violation names its resource, path, value, tenant and file in string properties', () => {
    expect(one('deny')).toMatchObject({
      resources: [{ apiVersion: 'v1', kind: 'Service', namespace: 'team-a', name: 'web' }],
      properties: { action: 'deny', path: 'spec.ports[0].nodePort', value: '30500', tenant: 'team-a', file: 'examples/team-a/web.yaml', line: '1' },
      timestamp: { seconds: 1795628700, nanos: 123_000_000 },
      scored: true,
      category: 'NodePorts',
    });
  });

  it('pass and skip results carry no severity; a skip says why', () => {
    const kubeProxy = EVALUATIONS.find((e) => e.resource.name === 'kube-proxy')!;
    const results = build([kubeProxy])[0].results;
    expect(results.map((r) => [r.result, r.severity, r.message])).toEqual([
      ['pass', undefined, 'hostport-not-allowed passed'],
      ['skip', undefined, 'exempted from hostport-reserved: system components own these ports'],
    ]);
    expect(results[1].properties).toMatchObject({ reason: 'system components own these ports' });
  });

  it('uid is added when the caller knows it', () => {
    const uidOf = (r: ResourceRef) => (r.name === 'web' ? '0b6f-uid' : undefined);
    const team = build(EVALUATIONS, 'wgpolicyk8s', { uidOf }).find((r) => r.metadata.namespace === 'team-a')!;
    const refs = team.results.map((r) => r.resources[0]);
    expect(refs.filter((x: { uid?: string }) => x.uid === '0b6f-uid').every((x: { name: string }) => x.name === 'web')).toBe(true);
    expect(refs.some((x: { uid?: string }) => x.uid === '0b6f-uid')).toBe(true);
  });

  it('openreports: Report/ClusterReport of openreports.io/v1alpha1, with a report-level source', () => {
    const reports = build(EVALUATIONS, 'openreports');
    expect(reports.map((r) => [r.apiVersion, r.kind, r.source])).toEqual([
      ['openreports.io/v1alpha1', 'ClusterReport', 'portcullis'],
      ...Array(4).fill(['openreports.io/v1alpha1', 'Report', 'portcullis']),
    ]);
    const wg = build(EVALUATIONS);
    expect(reports.map((r) => r.results)).toEqual(wg.map((r) => r.results));
    expect(wg.every((r) => !('source' in r))).toBe(true);
  });

  describe('properties.resultID', () => {
    const ids = (reports: Report[]) => reports.flatMap((r) => r.results.map((x) => x.properties?.resultID as string | undefined));
    const idOf = (e: Evaluation, extra = {}) => build([e], 'wgpolicyk8s', extra)[0].results.map((x) => x.properties.resultID as string);
    const web = EVALUATIONS.find((e) => e.resource.name === 'web' && e.findings.length > 0)!;

    it('every result has one, pass and skip included, and no two results across all reports share one', () => {
      const all = ids(build(EVALUATIONS));
      expect({ count: all.length, shaped: all.every((id) => /^[0-9a-f]{32}$/.test(id ?? '')), unique: new Set(all).size }).toEqual({
        count: all.length,
        shaped: true,
        unique: all.length,
      });
    });

    it('two findings with the same message on one object get two ids', () => {
      const f = web.findings[0];
      const twin = { ...f, key: `${f.key}-other-container`, path: f.path.replace('[0]', '[1]') };
      const [a, b] = idOf({ ...web, findings: [f, twin], outcomes: [] });
      expect({ sameMessage: twin.message === f.message, differ: a !== b }).toEqual({ sameMessage: true, differ: true });
    });

    it.each<{ name: string; other: (e: Evaluation) => Evaluation; extra?: object; same: boolean }>([
      { name: 'another scan time keeps it', other: (e) => e, extra: { generatedAt: new Date('2030-01-01T00:00:00Z') }, same: true },
      {
        name: 'another line keeps it',
        other: (e) => ({
          ...e,
          source: { ...e.source!, line: e.source!.line + 40 },
          findings: e.findings.map((f) => ({ ...f, source: { ...f.source!, line: f.source!.line + 40 } })),
        }),
        same: true,
      },
      {
        name: 'another list index keeps it (the key is index-free)',
        other: (e) => ({ ...e, findings: e.findings.map((f) => ({ ...f, path: f.path.replace('[0]', '[3]') })) }),
        same: true,
      },
      { name: 'another policy changes it', other: (e) => ({ ...e, findings: e.findings.map((f) => ({ ...f, policy: 'other' })) }), same: false },
      {
        name: 'a rule error instead of a violation changes it',
        other: (e) => ({ ...e, findings: e.findings.map((f) => ({ ...f, status: 'error' as const })) }),
        same: false,
      },
      {
        name: 'another name changes it',
        other: (e) => ({
          ...e,
          resource: { ...e.resource, name: 'web2' },
          findings: e.findings.map((f) => ({ ...f, resource: { ...f.resource, name: 'web2' } })),
        }),
        same: false,
      },
      { name: 'another file changes it (one object in two overlays)', other: (e) => ({ ...e, source: { ...e.source!, file: 'other.yaml' } }), same: false },
    ])('$name', ({ other, extra, same }) => {
      const one = { ...web, outcomes: [] };
      expect(idOf(other(one), extra)[0] === idOf(one)[0]).toBe(same);
    });

    it('with a uid (the controller), the uid identifies the object, wherever it was read from', () => {
      const one = { ...web, outcomes: [] };
      const uidOf = () => '0b6f-uid';
      expect({
        uidChangesIt: idOf(one, { uidOf })[0] !== idOf(one)[0],
        fileDoesNot: idOf({ ...one, source: null }, { uidOf })[0] === idOf(one, { uidOf })[0],
      }).toEqual({ uidChangesIt: true, fileDoesNot: true });
    });
  });

  describe('chunking', () => {
    const many = (n: number, namespace: string | null): Evaluation[] =>
      Array.from({ length: n }, (_, i) => ({
        resource: { apiVersion: 'v1', kind: 'Service', namespace, name: `svc-${String(i).padStart(5, '0')}` },
        source: null,
        findings: [],
        outcomes: [{ policy: 'default', rule: 'nodeport-range', status: 'pass', tenant: null }],
      }));

    it.each([
      { name: '1,000 results fit in one report', n: 1000, ns: 'big', names: ['portcullis-big'], sizes: [1000] },
      { name: '1,001 results take two', n: 1001, ns: 'big', names: ['portcullis-big', 'portcullis-big-1'], sizes: [1000, 1] },
      { name: '2,500 results take three', n: 2500, ns: 'big', names: ['portcullis-big', 'portcullis-big-1', 'portcullis-big-2'], sizes: [1000, 1000, 500] },
      { name: 'cluster-scoped chunks too', n: 1500, ns: null, names: ['portcullis-cluster', 'portcullis-cluster-1'], sizes: [1000, 500] },
    ])('$name', ({ n, ns, names, sizes }) => {
      const reports = build(many(n, ns));
      expect(reports.map((r) => r.metadata.name)).toEqual(names);
      expect(reports.map((r) => r.results.length)).toEqual(sizes);
      expect(reports.map((r) => r.summary.pass)).toEqual(sizes);
      const order = reports.flatMap((r) => r.results.map((x) => x.resources[0].name));
      expect(order).toEqual([...order].sort());
    });

    it("a full chunk of realistic violations stays well under etcd's 1.5 MiB request limit", () => {
      const f = FINDINGS.find((x) => x.rule === 'hostport-reserved' && x.source !== null)!;
      const evaluations: Evaluation[] = Array.from({ length: 1000 }, (_, i) => {
        const resource = { ...f.resource, name: `a-fairly-long-deployment-name-for-a-tenant-workload-${i}` };
        return {
          resource,
          source: { file: 'deploy/overlays/production/tenants/team-a/workloads.yaml', line: 10_000 + i },
          findings: [{ ...f, resource, tenant: 'team-a-platform-engineering' }],
          outcomes: [],
        };
      });
      const [report] = build(evaluations, 'wgpolicyk8s', { uidOf: () => '3f2504e0-4f89-11d3-9a0c-0305e82c3301' });
      expect(report.results.length).toBe(1000);
      expect(Buffer.byteLength(JSON.stringify(report))).toBeLessThan(1024 * 1024);
    });

    it('a smaller maxResults chunks sooner', () => {
      expect(build(many(5, 'x'), 'wgpolicyk8s', { maxResults: 2 }).map((r) => r.results.length)).toEqual([2, 2, 1]);
    });

    it.each([0, -1, 1.5])('maxResults %p is a programmer error', (maxResults) => {
      expect(() => build(many(1, 'x'), 'wgpolicyk8s', { maxResults })).toThrow(RangeError);
    });

    it('the same evaluations in any order give the same reports', () => {
      const input = [...many(1200, 'big'), ...EVALUATIONS];
      const shuffled = [...input].sort((a, b) => (a.resource.name.split('').reverse().join('') < b.resource.name.split('').reverse().join('') ? -1 : 1));
      expect(build(shuffled)).toEqual(build(input));
    });
  });
});

describe('writePolicyReports', () => {
  it('without evaluations, reports hold the findings only', () => {
    const yaml = writePolicyReports({ ...fixtureScan(), evaluations: undefined }, WRITER_OPTIONS);
    const docs = parseAllDocuments(yaml).map((d) => d.toJS() as Report);
    const results = docs.flatMap((d) => d.results);
    expect(results.length).toBe(FINDINGS.length);
    expect(results.every((r) => r.result === 'fail' || r.result === 'error')).toBe(true);
    for (const d of docs) expect(check('wgpolicyk8s', d)).toEqual([true, []]);
  });

  it('writes no YAML aliases, which some consumers reject', () => {
    expect(writePolicyReports(fixtureScan(), WRITER_OPTIONS)).not.toMatch(/[&*]a\d/);
    expect(writePolicyReports(fixtureScan(), WRITER_OPTIONS)).not.toMatch(/[&*]ref_\d/);
  });

  // Names are the tenants' own: a Go (YAML 1.1) reader such as kubectl takes `on`, `yes` or
  // `12:30` unquoted for a boolean or a number, so they must come out quoted.
  it.each([
    { name: 'YAML 1.1 booleans', value: 'on' },
    { name: 'yes', value: 'yes' },
    { name: 'sexagesimal', value: '12:30' },
    { name: 'quotes and a colon', value: 'a: "b"' },
    { name: 'a line separator', value: 'a\u2028b' },
  ])('$name stay strings for YAML 1.1 and 1.2 readers', ({ value }) => {
    const evaluation: Evaluation = {
      resource: { apiVersion: 'v1', kind: 'Service', namespace: value, name: value },
      source: { file: value, line: 1 },
      findings: [],
      outcomes: [{ policy: value, rule: 'nodeport-range', status: 'skip', tenant: value, reason: value }],
    };
    const text = writePolicyReports({ ...fixtureScan(), evaluations: [evaluation] }, WRITER_OPTIONS);
    for (const version of ['1.1', '1.2'] as const) {
      const [doc] = parseAllDocuments(text, { version }).map((d) => d.toJS() as Report);
      expect(doc.metadata.namespace).toBe(value);
      expect(doc.results[0].policy).toBe(value);
      expect(doc.results[0].resources[0]).toEqual({ apiVersion: 'v1', kind: 'Service', namespace: value, name: value });
      expect(doc.results[0].properties).toEqual({ resultID: expect.stringMatching(/^[0-9a-f]{32}$/), tenant: value, reason: value, file: value, line: '1' });
    }
  });
});
