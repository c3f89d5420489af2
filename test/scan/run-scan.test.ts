// runScan in-process with its edges passed in: the clock, the terminal, stdin.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { failsThreshold, runScan, type ScanIO } from '../../src/cmd/scan.js';
import type { Finding } from '../../src/engine/types.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { compareFindings, scanSource } from '../../src/scan/run.js';
import { policy, resource } from '../engine/helpers.js';

const POD = (name: string, hostPort: number) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: ns}\nspec:\n  containers:\n  - name: c\n    image: x\n    ports: [{containerPort: 80, hostPort: ${hostPort}}]\n`;

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
    expect(report.findings.map((f: { resource: { name: string }; source: { line: number } }) => `${f.resource.name}:${f.source.line}`)).toEqual(['early:1', 'late:1', 'later:10']);
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
      { facts: async () => ({ namespaceLabels: () => undefined, nodeAddresses: [] }), items: async function* () { yield item; } },
      {
        policies: [policy()],
        engine: { evaluate: (r, p, c, o) => (asked.push(o?.outcomes), evaluate(r, p, c, o)) },
        keep,
        now: () => new Date(0),
      },
    );
    expect(asked).toEqual([outcomes]);
    expect(result.evaluations?.[0]?.outcomes.map((o) => o.status)).toEqual(outcomes ? ['pass', 'pass'] : undefined);
  });
});
