import type { Finding } from '../../src/engine/types.js';
import { readFileSync } from 'node:fs';
import { RULE_CATALOG } from '../../src/engine/rules/index.js';
import { scanOutputSchema, scanOutputSchemaJson } from '../../src/sinks/reports/json-schema.js';
import { findingMessage } from '../../src/sinks/reports/finding-text.js';
import { writeJson } from '../../src/sinks/reports/json.js';
import { FINDINGS, fixtureScan } from './fixture.js';
import { checkScanJson } from './schemas.js';
import { docSection } from '../support/readme.js';

const validate = (doc: unknown) => checkScanJson(doc)[0];

describe('json writer', () => {
  it('output validates against the published schema', () => {
    const doc = JSON.parse(writeJson(fixtureScan()));
    expect(checkScanJson(doc)).toEqual([true, []]);
  });

  it('an empty scan is valid too', () => {
    const scan = {
      ...fixtureScan(),
      findings: [],
      errors: [],
      evaluations: [],
      summary: { resources: 0, skipped: 0, skippedKinds: {}, errors: 0, findings: { deny: 0, warn: 0, audit: 0 } },
    };
    const doc = JSON.parse(writeJson(scan));
    expect(doc).toEqual({
      schemaVersion: 1,
      summary: { resources: 0, skipped: 0, skippedKinds: {}, errors: 0, findings: { deny: 0, warn: 0, audit: 0 } },
      findings: [],
      errors: [],
    });
    expect(validate(doc)).toBe(true);
  });

  const base = FINDINGS.find((f) => f.rule === 'nodeport-range')!;
  it.each<{ name: string; finding: Finding; expected: Record<string, unknown> }>([
    {
      name: 'a finding keeps the contract field order and values',
      finding: base,
      expected: {
        rule: 'nodeport-range',
        action: 'deny',
        policy: 'default',
        tenant: 'team-a',
        resource: { apiVersion: 'v1', kind: 'Service', namespace: 'team-a', name: 'web' },
        path: 'spec.ports[0].nodePort',
        value: 30500,
        message: base.message,
        source: { file: 'examples/team-a/web.yaml', line: 1 },
      },
    },
    {
      name: 'cluster-scoped object, no tenant, no source: nulls',
      finding: { ...base, tenant: null, resource: { ...base.resource, namespace: null }, source: null },
      expected: { tenant: null, resource: { apiVersion: 'v1', kind: 'Service', namespace: null, name: 'web' }, source: null },
    },
    {
      name: 'a rule error stays a finding of its action, its message marked',
      finding: { ...base, status: 'error', value: null, message: 'namespace labels unknown' },
      expected: { action: 'deny', value: null, message: 'rule error: namespace labels unknown' },
    },
    {
      name: 'engine-internal fields (status, key) are not part of the contract',
      finding: { ...base, key: 'secret-key' },
      expected: {},
    },
  ])('$name', ({ finding, expected }) => {
    const doc = JSON.parse(writeJson({ ...fixtureScan(), findings: [finding] }));
    expect(validate(doc)).toBe(true);
    expect(doc.findings[0]).toMatchObject(expected);
    expect(Object.keys(doc.findings[0])).toEqual(['rule', 'action', 'policy', 'tenant', 'resource', 'path', 'value', 'message', 'source']);
  });

  it('input errors carry file, line and message; cluster scans null file and line', () => {
    const doc = JSON.parse(writeJson({ ...fixtureScan(), errors: [{ file: null, line: null, message: 'forbidden: nodes' }] }));
    expect(doc.errors).toEqual([{ file: null, line: null, message: 'forbidden: nodes' }]);
    expect(validate(doc)).toBe(true);
  });
});

describe('json schema', () => {
  const good = () => JSON.parse(writeJson(fixtureScan()));
  it.each<{ name: string; mutate: (d: any) => void }>([
    {
      name: 'unknown schemaVersion',
      mutate: (d) => {
        d.schemaVersion = 2;
      },
    },
    {
      name: 'unknown action',
      mutate: (d) => {
        d.findings[0].action = 'block';
      },
    },
    {
      name: 'missing tenant (must be null, not absent)',
      mutate: (d) => {
        delete d.findings[0].tenant;
      },
    },
    {
      name: 'port out of range',
      mutate: (d) => {
        d.findings[0].value = 70000;
      },
    },
    {
      name: 'extra top-level field',
      mutate: (d) => {
        d.extra = true;
      },
    },
    {
      name: 'source without line',
      mutate: (d) => {
        d.findings[0].source = { file: 'a.yaml' };
      },
    },
    {
      name: 'negative count',
      mutate: (d) => {
        d.summary.findings.deny = -1;
      },
    },
  ])('rejects $name', ({ mutate }) => {
    const doc = good();
    mutate(doc);
    expect(validate(doc)).toBe(false);
  });

  it('docs/scan-output-v1.schema.json is what `npm run generate:schema` writes', () => {
    const published = readFileSync(new URL('../../docs/scan-output-v1.schema.json', import.meta.url), 'utf8');
    // On failure: run `npm run generate:schema` and commit the file.
    expect(published).toBe(scanOutputSchemaJson(RULE_CATALOG));
    expect(JSON.parse(published)).toEqual(scanOutputSchema(RULE_CATALOG));
  });

  it("the json format's documentation links to the file and prints no copy of it", () => {
    const md = docSection('docs/reports.md', '`json`: the stable contract');
    expect(md).toContain('(scan-output-v1.schema.json)');
    expect(md).not.toContain('"$schema"');
  });
});

describe('findingMessage', () => {
  const base = FINDINGS[0];
  it.each([
    { name: 'a violation reads as written', status: 'fail' as const, message: 'port clash', expected: 'port clash' },
    { name: 'a rule error is marked', status: 'error' as const, message: 'labels unknown', expected: 'rule error: labels unknown' },
    {
      name: 'an engine message already marked is not marked twice',
      status: 'error' as const,
      message: 'rule error: labels unknown',
      expected: 'rule error: labels unknown',
    },
  ])('$name', ({ status, message, expected }) => {
    expect(findingMessage({ ...base, status, message })).toBe(expected);
  });
});
