// Validators for the report formats' external schemas, shared by the writer tests and the
// end-to-end check over the shipped examples. The schemas are the upstream files in
// test/reports/schemas/ (SOURCES.md says where each comes from).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import { validateXML } from 'xmllint-wasm';
import { parse } from 'yaml';
import { RULE_CATALOG } from '../../src/engine/rules/index.js';
import { scanOutputSchema } from '../../src/sinks/reports/json-schema.js';
import type { ReportFlavor } from '../../src/sinks/reports/policyreport.js';

/** [valid, error messages]: compare with [true, []] so a failure prints its reasons. */
export type Check = (doc: unknown) => [boolean, string[]];

const checker =
  (v: ValidateFunction): Check =>
  (doc) => [v(doc), (v.errors ?? []).map((e) => `${e.instancePath} ${e.message}`)];

const schemaFile = (name: string) => readFileSync(new URL(`./schemas/${name}`, import.meta.url), 'utf8');

export const checkScanJson = checker(new Ajv({ allErrors: true, strict: true }).compile(scanOutputSchema(RULE_CATALOG)));

// SARIF 2.1.0: the OASIS schema, draft-04.
const require = createRequire(import.meta.url);
const Ajv04 = require('ajv-draft-04') as typeof import('ajv-draft-04').default;
const sarifSchema = JSON.parse(schemaFile('sarif-schema-2.1.0.json'));
// unicodeRegExp off: the schema's language pattern has a stray ']' that the u flag rejects.
const ajv04 = new Ajv04({ allErrors: true, strict: false, unicodeRegExp: false });
// The schema's three formats, checked here without another dependency.
ajv04.addFormat('uri', (s: string) => URL.canParse(s));
ajv04.addFormat('uri-reference', (s: string) => URL.canParse(s, 'file:///') && !/\s/.test(s));
ajv04.addFormat('date-time', (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s) && !Number.isNaN(Date.parse(s)));
export const checkSarif = checker(ajv04.compile(sarifSchema));

type Obj = Record<string, any>;

/**
 * A CRD's openAPIV3Schema as a JSON Schema that also refuses what the API server would prune:
 * every object with declared properties is closed unless it preserves unknown fields.
 */
function structural(s: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith('x-kubernetes-') || k === 'description') continue;
    if (k === 'properties') out.properties = Object.fromEntries(Object.entries(v as Obj).map(([p, ps]) => [p, structural(ps as Obj)]));
    else if ((k === 'items' || k === 'additionalProperties') && typeof v === 'object') out[k] = structural(v as Obj);
    else if (k === 'allOf' || k === 'anyOf' || k === 'oneOf') out[k] = (v as Obj[]).map(structural);
    else out[k] = v;
  }
  if (s.properties && s.additionalProperties === undefined && !s['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  return out;
}

function crdSchema(file: string): { apiVersion: string; kind: string; schema: Obj } {
  const crd = parse(schemaFile(file)) as Obj;
  const [version] = crd.spec.versions as Obj[];
  return { apiVersion: `${crd.spec.group}/${version.name}`, kind: crd.spec.names.kind, schema: structural(version.schema.openAPIV3Schema) };
}

const CRD_FILES: Record<ReportFlavor, [string, string]> = {
  wgpolicyk8s: ['wgpolicyk8s.io_policyreports.yaml', 'wgpolicyk8s.io_clusterpolicyreports.yaml'],
  openreports: ['openreports.io_reports.yaml', 'openreports.io_clusterreports.yaml'],
};

const ajv = new Ajv({ allErrors: true, strict: false });
// The CRDs' integer formats, as the API server checks them.
ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });

/** A report object against the CRD of its kind, and its name against the rules for object names. */
function reportChecker(flavor: ReportFlavor): Check {
  const byKind = new Map(
    CRD_FILES[flavor].map((file) => {
      const { apiVersion, kind, schema } = crdSchema(file);
      return [kind, { apiVersion, check: checker(ajv.compile(schema)) }] as const;
    }),
  );
  return (doc) => {
    const o = doc as Obj;
    const crd = byKind.get(o?.kind);
    if (!crd) return [false, [`kind ${o?.kind} is not one of ${[...byKind.keys()].join(', ')}`]];
    const [valid, errors] = crd.check(doc);
    const problems = [...errors];
    if (o.apiVersion !== crd.apiVersion) problems.push(`/apiVersion must be ${crd.apiVersion}`);
    // A DNS subdomain (RFC 1123), as object names must be.
    if (typeof o.metadata?.name !== 'string' || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(o.metadata.name))
      problems.push('/metadata/name must be a DNS subdomain');
    return [valid && problems.length === 0, problems];
  };
}

export const checkReport: Record<ReportFlavor, Check> = {
  wgpolicyk8s: reportChecker('wgpolicyk8s'),
  openreports: reportChecker('openreports'),
};

const junitXsd = schemaFile('junit-10.xsd');

/** JUnit XML against Jenkins' xunit JUnit schema, by libxml2: [valid, error messages]. */
export async function checkJunit(xml: string): Promise<[boolean, string[]]> {
  const r = await validateXML({ xml: [{ fileName: 'report.xml', contents: xml }], schema: [{ fileName: 'junit-10.xsd', contents: junitXsd }] });
  return [r.valid, r.errors.map((e) => e.message)];
}
