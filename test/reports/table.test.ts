import { stripVTControlCharacters } from 'node:util';
import type { ScanResult } from '../../src/sinks/reports/scan-result.js';
import { writeTable } from '../../src/sinks/reports/table.js';
import { FINDINGS, fixtureScan } from './fixture.js';

const ESC = '\u001b[';

describe('table writer', () => {
  it('no colour unless asked', () => {
    expect(writeTable(fixtureScan())).not.toContain(ESC);
    expect(writeTable(fixtureScan(), { color: false })).not.toContain(ESC);
  });

  it('colour adds only escapes: stripped, it is the plain table', () => {
    const coloured = writeTable(fixtureScan(), { color: true });
    expect(coloured).toContain(`${ESC}31m`);
    expect(stripVTControlCharacters(coloured)).toBe(writeTable(fixtureScan()));
  });

  it('groups by file in the order given, then resources without a file, then input errors, then the summary', () => {
    const headers = writeTable(fixtureScan())
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith(' '));
    expect(headers).toEqual([
      'examples/cluster/ccnp.yaml',
      'examples/team-a/web.yaml',
      'examples/team-b/netpol.yaml',
      'examples/team-b/service.yaml',
      'Pod default/debug',
      'input errors',
      '8 resources checked, 2 skipped, 2 input errors: 3 deny, 2 warn, 3 audit',
      'skipped: 1 (not a Kubernetes object), 1 v1/ConfigMap',
    ]);
  });

  it('columns line up: every finding row starts its message at the same column', () => {
    const out = writeTable(fixtureScan());
    const rows = out.split('\n').filter((l) => /^ +(\d+|-) {2}(deny|warn|audit) /.test(l));
    expect(rows.length).toBe(FINDINGS.length);
    const starts = FINDINGS.map((f, i) => rows[i].indexOf(f.message.startsWith('labels') ? 'rule error: ' : f.message));
    expect(new Set(starts).size).toBe(1);
    const pathStarts = FINDINGS.map((f, i) => rows[i].indexOf(f.path));
    expect(new Set(pathStarts).size).toBe(1);
  });

  const summaryOf = (scan: ScanResult) =>
    writeTable(scan)
      .trimEnd()
      .split('\n')
      .find((l) => / checked, /.test(l));
  it.each<{ name: string; patch: Partial<ScanResult>; summary: string }>([
    {
      name: 'clean scan',
      patch: { findings: [], errors: [], summary: { resources: 1, skipped: 0, skippedKinds: {}, errors: 0, findings: { deny: 0, warn: 0, audit: 0 } } },
      summary: '1 resource checked, 0 skipped, 0 input errors: no findings',
    },
    {
      name: 'one of each',
      patch: { summary: { resources: 3, skipped: 1, skippedKinds: { 'v1/Secret': 1 }, errors: 1, findings: { deny: 1, warn: 1, audit: 1 } } },
      summary: '3 resources checked, 1 skipped, 1 input error: 1 deny, 1 warn, 1 audit',
    },
  ])('summary line: $name', ({ patch, summary }) => {
    expect(summaryOf({ ...fixtureScan(), ...patch })).toBe(summary);
  });

  it.each([
    { name: 'one policy: no policy column', policies: ['default'], shown: false },
    { name: 'two policies: a policy column', policies: ['default', 'strict'], shown: true },
  ])('$name', ({ policies, shown }) => {
    const findings = FINDINGS.map((f, i) => ({ ...f, policy: policies[i % policies.length] }));
    const row = writeTable({ ...fixtureScan(), findings }).split('\n')[1];
    expect(/ (default|strict) /.test(row)).toBe(shown);
  });

  const lastLine = (skippedKinds: Record<string, number>) => {
    const skipped = Object.values(skippedKinds).reduce((a, b) => a + b, 0);
    return writeTable({ ...fixtureScan(), summary: { resources: 1, skipped, skippedKinds, errors: 0, findings: { deny: 0, warn: 0, audit: 0 } } })
      .trimEnd()
      .split('\n')
      .at(-1);
  };
  it.each([
    { name: 'nothing skipped: the summary is last', kinds: {}, last: '1 resource checked, 0 skipped, 0 input errors: no findings' },
    {
      name: 'most frequent first, then by key',
      kinds: { 'v1/Secret': 1, 'v1/ConfigMap': 3, 'rbac.authorization.k8s.io/v1/Role': 1 },
      last: 'skipped: 3 v1/ConfigMap, 1 rbac.authorization.k8s.io/v1/Role, 1 v1/Secret',
    },
    { name: 'documents that are no Kubernetes object', kinds: { '(not a Kubernetes object)': 2 }, last: 'skipped: 2 (not a Kubernetes object)' },
    {
      name: 'ten named, the rest counted',
      kinds: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`example.com/v1/Kind${String(i).padStart(2, '0')}`, 12 - i])),
      last: `skipped: ${Array.from({ length: 10 }, (_, i) => `${12 - i} example.com/v1/Kind${String(i).padStart(2, '0')}`).join(', ')}, 2 more kinds (--format json lists them)`,
    },
    { name: 'control characters in a kind are not sent to the terminal', kinds: { 'v1/Evil\u001b[2J': 1 }, last: 'skipped: 1 v1/Evil?[2J' },
  ])('last line: $name', ({ kinds, last }) => {
    expect(lastLine(kinds)).toBe(last);
  });

  it('a clean scan prints only the summary', () => {
    const out = writeTable({
      ...fixtureScan(),
      findings: [],
      errors: [],
      summary: { resources: 2, skipped: 0, skippedKinds: {}, errors: 0, findings: { deny: 0, warn: 0, audit: 0 } },
    });
    expect(out).toBe('2 resources checked, 0 skipped, 0 input errors: no findings\n');
  });

  it.each([
    { name: 'file and line', error: { file: 'a.yaml', line: 3, message: 'bad' }, text: '  a.yaml:3: bad' },
    { name: 'unreadable file, no line', error: { file: 'gone.yaml', line: null, message: 'ENOENT' }, text: '  gone.yaml: ENOENT' },
    { name: 'cluster scan error', error: { file: null, line: null, message: 'forbidden: nodes' }, text: '  forbidden: nodes' },
  ])('input error with $name', ({ error, text }) => {
    const out = writeTable({ ...fixtureScan(), findings: [], errors: [error] });
    expect(out.split('\n')).toContain(text);
  });
});
