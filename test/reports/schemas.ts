// Validators for the report formats' external schemas, shared by the writer tests and the
// end-to-end check over the shipped examples.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import { SCAN_OUTPUT_SCHEMA } from '../../src/sinks/reports/json-schema.js';
import type { ReportFlavor } from '../../src/sinks/reports/policyreport.js';

/** [valid, error messages]: compare with [true, []] so a failure prints its reasons. */
export type Check = (doc: unknown) => [boolean, string[]];

const checker = (v: ValidateFunction): Check => (doc) => [v(doc), (v.errors ?? []).map((e) => `${e.instancePath} ${e.message}`)];

export const checkScanJson = checker(new Ajv({ allErrors: true, strict: true }).compile(SCAN_OUTPUT_SCHEMA));

// SARIF: the OASIS SARIF 2.1.0 schema (draft-04) as shipped in @microsoft/jest-sarif.
const require = createRequire(import.meta.url);
const Ajv04 = require('ajv-draft-04') as typeof import('ajv-draft-04').default;
const sarifSchema = JSON.parse(readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'));
// unicodeRegExp off: the schema's language pattern has a stray ']' that the u flag rejects.
const ajv04 = new Ajv04({ allErrors: true, strict: false, unicodeRegExp: false });
// The schema's three formats, checked here without another dependency.
ajv04.addFormat('uri', (s: string) => URL.canParse(s));
ajv04.addFormat('uri-reference', (s: string) => URL.canParse(s, 'file:///') && !/\s/.test(s));
ajv04.addFormat('date-time', (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s) && !Number.isNaN(Date.parse(s)));
export const checkSarif = checker(ajv04.compile(sarifSchema));

// PolicyReport CRDs, transcribed from their openAPIV3Schema: wgpolicyk8s.io v1alpha2
// PolicyReport/ClusterPolicyReport (as Kyverno ships it) and openreports.io v1alpha1
// Report/ClusterReport. additionalProperties:false stands for structural pruning: the API
// server would silently drop a field the CRD does not declare, so writing one is a bug.
const objectReference = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(['apiVersion', 'fieldPath', 'kind', 'name', 'namespace', 'resourceVersion', 'uid'].map((k) => [k, { type: 'string' }])),
};
const labelSelector = {
  type: 'object',
  properties: { matchLabels: { type: 'object', additionalProperties: { type: 'string' } }, matchExpressions: { type: 'array' } },
};
const resultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['policy'],
  properties: {
    category: { type: 'string' },
    message: { type: 'string' },
    policy: { type: 'string' },
    properties: { type: 'object', additionalProperties: { type: 'string' } },
    resourceSelector: labelSelector,
    resources: { type: 'array', items: objectReference },
    result: { enum: ['pass', 'fail', 'warn', 'error', 'skip'] },
    rule: { type: 'string' },
    scored: { type: 'boolean' },
    severity: { enum: ['critical', 'high', 'low', 'medium', 'info'] },
    source: { type: 'string' },
    timestamp: {
      type: 'object',
      additionalProperties: false,
      required: ['nanos', 'seconds'],
      properties: { nanos: { type: 'integer', minimum: 0, maximum: 999_999_999 }, seconds: { type: 'integer' } },
    },
  },
};
function reportSchema(flavor: ReportFlavor) {
  const [apiVersion, kinds] =
    flavor === 'wgpolicyk8s' ? ['wgpolicyk8s.io/v1alpha2', ['PolicyReport', 'ClusterPolicyReport']] : ['openreports.io/v1alpha1', ['Report', 'ClusterReport']];
  return {
    type: 'object',
    additionalProperties: false,
    required: ['apiVersion', 'kind', 'metadata'],
    properties: {
      apiVersion: { const: apiVersion },
      kind: { enum: kinds },
      metadata: {
        type: 'object',
        required: ['name'],
        properties: {
          // A DNS subdomain (RFC 1123), as object names must be.
          name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$' },
          namespace: { type: 'string' },
          labels: { type: 'object', additionalProperties: { type: 'string' } },
        },
      },
      results: { type: 'array', items: resultSchema },
      scope: objectReference,
      scopeSelector: labelSelector,
      summary: {
        type: 'object',
        additionalProperties: false,
        properties: Object.fromEntries(['error', 'fail', 'pass', 'skip', 'warn'].map((k) => [k, { type: 'integer', minimum: 0 }])),
      },
      // openreports.io adds a report-level source and configuration; v1alpha2 has neither.
      ...(flavor === 'openreports' ? { source: { type: 'string' }, configuration: { type: 'object' } } : {}),
    },
  };
}
const ajv = new Ajv({ allErrors: true, strict: false });
export const checkReport: Record<ReportFlavor, Check> = {
  wgpolicyk8s: checker(ajv.compile(reportSchema('wgpolicyk8s'))),
  openreports: checker(ajv.compile(reportSchema('openreports'))),
};
