// runScan in-process with its edges passed in: the clock, the terminal, stdin.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { colorFromEnv } from '../../src/cmd/color.js';
import { failsThreshold, runScan, type ScanIO } from '../../src/cmd/scan.js';
import type { Finding } from '../../src/engine/types.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { compareFindings, scanSource } from '../../src/scan/run.js';
import { policy, resource } from '../engine/helpers.js';
import { namespace, pod } from '../support/cluster-objects.js';
import { FakeApiServer } from '../support/fake-apiserver.js';

const POD = (name: string, hostPort: number) =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: ns}\nspec:\n  containers:\n  - name: c\n    image: x\n    ports: [{containerPort: 80, hostPort: ${hostPort}}]\n`;

function io(over: Partial<ScanIO> & { tty?: boolean } = {}): ScanIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s), isTTY: over.tty ?? false },
    stdoutColor: false,
    now: () => new Date('2026-01-02T03:04:05Z'),
    ...over,
  };
}

describe('failsThreshold', () => {
  const f = (...actions: Finding['action'][]) => actions.map((action) => ({ action }));
  it.each([
    { name: 'deny fails deny', findings: f('deny'), failOn: 'deny' as const, want: true },
    { name: 'warn passes deny', findings: f('warn', 'audit'), failOn: 'deny' as const, want: false },
    { name: 'deny fails warn', findings: f('deny'), failOn: 'warn' as const, want: true },
    { name: 'audit passes warn', findings: f('audit'), failOn: 'warn' as const, want: false },
    { name: 'audit fails audit', findings: f('audit'), failOn: 'audit' as const, want: true },
    { name: 'never never fails', findings: f('deny'), failOn: 'never' as const, want: false },
    { name: 'nothing found passes audit', findings: f(), failOn: 'audit' as const, want: false },
  ])('$name', ({ findings, failOn, want }) => {
    expect(failsThreshold(findings, failOn)).toBe(want);
  });
});

describe('compareFindings', () => {
  const fd = (file: string | null, line: number, p: string, name = 'x'): Finding =>
    ({ source: file === null ? null : { file, line }, path: p, resource: { apiVersion: 'v1', kind: 'Pod', namespace: 'n', name } }) as Finding;
  it.each([
    { name: 'by file first', a: fd('b.yaml', 1, 'a'), b: fd('a.yaml', 9, 'z'), want: 1 },
    { name: 'then by line, numerically', a: fd('a.yaml', 10, 'a'), b: fd('a.yaml', 9, 'z'), want: 1 },
    { name: 'then by path', a: fd('a.yaml', 3, 'spec.a'), b: fd('a.yaml', 3, 'spec.b'), want: -1 },
    { name: 'file findings before cluster findings', a: fd(null, 0, 'a'), b: fd('a.yaml', 1, 'a'), want: 1 },
    { name: 'cluster findings by name', a: fd(null, 0, 'a', 'b'), b: fd(null, 0, 'a', 'a'), want: 1 },
  ])('$name', ({ a, b, want }) => {
    expect(Math.sign(compareFindings(a, b))).toBe(want);
  });
});

describe('runScan', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'portcullis-run-'));
    await writeFile(path.join(dir, 'b.yaml'), `${POD('late', 10250)}---\n${POD('later', 10255)}`);
    await writeFile(path.join(dir, 'a.yaml'), POD('early', 6443));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('sorts findings by file and line across files', async () => {
    const x = io();
    expect(await runScan([dir], { format: 'json' }, x)).toBe(1);
    const report = JSON.parse(x.out.join(''));
    expect(report.findings.map((f: { resource: { name: string }; source: { line: number } }) => `${f.resource.name}:${f.source.line}`)).toEqual([
      'early:1',
      'late:1',
      'later:10',
    ]);
  });

  it.each([
    { name: 'on a terminal', tty: true, progress: true },
    { name: 'not on a terminal', tty: false, progress: false },
  ])('shows progress on stderr only $name', async ({ tty, progress }) => {
    const x = io({ tty });
    await runScan([dir], { format: 'json' }, x);
    expect(x.err.some((s) => s.includes('scanning: '))).toBe(progress);
  });

  it('takes generatedAt from the injected clock', async () => {
    const x = io();
    await runScan([dir], { format: 'policyreport' }, x);
    expect(x.out.join('')).toContain(String(Date.parse('2026-01-02T03:04:05Z') / 1000));
  });

  it('reads stdin through the injected reader', async () => {
    const x = io({ readStdin: async () => POD('piped', 10250) });
    expect(await runScan(['-'], { format: 'json' }, x)).toBe(1);
    expect(JSON.parse(x.out.join('')).findings[0].source).toEqual({ file: '<stdin>', line: 1 });
  });
});

describe('scanSource keeps pass outcomes only for the formats that show them', () => {
  it.each([
    { name: 'json drops them: the engine is told not to build them', keep: {}, outcomes: false },
    { name: 'policyreport keeps evaluations with their outcomes', keep: { evaluations: true }, outcomes: true },
  ])('$name', async ({ keep, outcomes }) => {
    const asked: (boolean | undefined)[] = [];
    const item = { type: 'resource' as const, resource: resource({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { type: 'ClusterIP' } }) };
    const result = await scanSource(
      {
        facts: async () => ({ namespaceLabels: () => undefined, nodeAddresses: [] }),
        items: async function* () {
          yield item;
        },
      },
      {
        policies: [policy()],
        engine: { evaluate: (r, p, c, o) => (asked.push(o?.outcomes), evaluate(r, p, c, o)) },
        keep,
        now: () => new Date(0),
      },
    );
    expect(asked).toEqual([outcomes]);
    expect(result.evaluations?.[0]?.outcomes.map((o) => o.status)).toEqual(outcomes ? ['pass', 'pass', 'pass'] : undefined);
  });
});

describe('colorFromEnv', () => {
  it.each([
    { name: 'a terminal', env: {}, tty: true, want: true },
    { name: 'a pipe', env: {}, tty: false, want: false },
    { name: 'a dumb terminal', env: { TERM: 'dumb' }, tty: true, want: false },
    { name: 'NO_COLOR on a terminal', env: { NO_COLOR: '1' }, tty: true, want: false },
    { name: 'NO_COLOR=0 is still set (no-color.org: any non-empty value)', env: { NO_COLOR: '0' }, tty: true, want: false },
    { name: 'an empty NO_COLOR is unset', env: { NO_COLOR: '' }, tty: true, want: true },
    { name: 'FORCE_COLOR on a pipe', env: { FORCE_COLOR: '1' }, tty: false, want: true },
    { name: 'FORCE_COLOR on a dumb terminal', env: { FORCE_COLOR: '2', TERM: 'dumb' }, tty: true, want: true },
    { name: 'FORCE_COLOR=0 on a terminal', env: { FORCE_COLOR: '0' }, tty: true, want: false },
    { name: 'FORCE_COLOR=false on a terminal', env: { FORCE_COLOR: 'false' }, tty: true, want: false },
    { name: 'an empty FORCE_COLOR is unset', env: { FORCE_COLOR: '' }, tty: false, want: false },
    { name: 'NO_COLOR over FORCE_COLOR', env: { NO_COLOR: '1', FORCE_COLOR: '1' }, tty: true, want: false },
  ])('$name', ({ env, tty, want }) => {
    expect(colorFromEnv(env, tty)).toBe(want);
  });
});

describe('scan --cluster --kubeconfig', () => {
  let fake: FakeApiServer;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'portcullis-kubeconfig-'));
    fake = await FakeApiServer.start();
    fake.put(namespace('shop'));
    fake.put(pod('shop', 'grabber', [{ containerPort: 10250, hostPort: 10250 }]));
  });
  afterAll(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the cluster from the --kubeconfig file, not $KUBECONFIG', async () => {
    const file = path.join(dir, 'test.kubeconfig');
    await writeFile(file, fake.kubeconfig());
    const saved = process.env.KUBECONFIG;
    // $KUBECONFIG names a file that does not exist: reading it would fail the scan.
    process.env.KUBECONFIG = path.join(dir, 'missing');
    try {
      const x = io();
      const status = await runScan([], { cluster: true, kubeconfig: file, format: 'json' }, x);
      const report = JSON.parse(x.out.join(''));
      expect({
        status,
        err: x.err,
        findings: report.findings.map((f: { resource: { name: string }; rule: string }) => `${f.resource.name} ${f.rule}`),
      }).toEqual({
        status: 1,
        err: [],
        findings: ['grabber hostport-reserved'],
      });
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });
});

describe('summary.skippedKinds', () => {
  const skipped = (apiVersion: string | null, kind: string | null) => ({ type: 'skipped' as const, source: null, apiVersion, kind, reason: 'not checked' });
  const run = (items: ReturnType<typeof skipped>[]) =>
    scanSource(
      {
        facts: async () => ({ namespaceLabels: () => undefined, nodeAddresses: [] }),
        items: async function* () {
          yield* items;
        },
      },
      { policies: [policy()], engine: { evaluate }, now: () => new Date(0) },
    );

  it.each([
    { name: 'nothing skipped', items: [], want: {} },
    {
      name: 'by apiVersion/kind, sorted by key',
      items: [skipped('v1', 'Secret'), skipped('v1', 'ConfigMap'), skipped('v1', 'Secret')],
      want: { 'v1/ConfigMap': 1, 'v1/Secret': 2 },
    },
    { name: 'documents that are no Kubernetes object', items: [skipped(null, null), skipped(null, null)], want: { '(not a Kubernetes object)': 2 } },
    { name: 'a kind longer than any real one', items: [skipped('v1', 'K'.repeat(400))], want: { '(other kinds)': 1 } },
    {
      name: 'past 200 distinct kinds, the rest are other kinds',
      items: Array.from({ length: 205 }, (_, i) => skipped('example.com/v1', `Kind${String(i).padStart(3, '0')}`)),
      want: { ...Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`example.com/v1/Kind${String(i).padStart(3, '0')}`, 1])), '(other kinds)': 5 },
    },
  ])('$name', async ({ items, want }) => {
    const { summary } = await run(items);
    expect(summary.skippedKinds).toEqual(want);
    expect(Object.keys(summary.skippedKinds)).toEqual(Object.keys(want).sort());
    expect(Object.values(summary.skippedKinds).reduce((a, b) => a + b, 0)).toBe(summary.skipped);
  });

  it('names the issue example: a GlobalNetworkPolicy and an AdminNetworkPolicy are checked, a HostEndpoint is not', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'skipped-'));
    try {
      await writeFile(
        path.join(dir, 'calico.yaml'),
        [
          'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: g}\nspec: {selector: all()}',
          'apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\nspec: {priority: 1, subject: {namespaces: {}}}',
          'apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h}\nspec: {node: n1}',
          'just: a values file',
        ].join('\n---\n'),
      );
      const o = io();
      await runScan([dir], { format: 'json', failOn: 'never' }, o);
      const { summary } = JSON.parse(o.out.join(''));
      expect({ resources: summary.resources, skipped: summary.skipped, skippedKinds: summary.skippedKinds }).toEqual({
        resources: 2,
        skipped: 2,
        skippedKinds: { '(not a Kubernetes object)': 1, 'projectcalico.org/v3/HostEndpoint': 1 },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
