// `--format json`: the stable, versioned contract (schema in json-schema.ts). Field order
// is fixed here, not inherited from engine types, so an engine refactor cannot change it.
import type { Finding } from '../../engine/types.js';
import { findingMessage } from './finding-text.js';
import type { InputError, ScanResult } from './scan-result.js';

function finding(f: Finding) {
  return {
    rule: f.rule,
    action: f.action,
    policy: f.policy,
    tenant: f.tenant,
    resource: {
      apiVersion: f.resource.apiVersion,
      kind: f.resource.kind,
      namespace: f.resource.namespace,
      name: f.resource.name,
    },
    path: f.path,
    value: f.value,
    message: findingMessage(f),
    source: f.source ? { file: f.source.file, line: f.source.line } : null,
  };
}

const inputError = (e: InputError) => ({ file: e.file, line: e.line, message: e.message });

export function writeJson(result: ScanResult): string {
  const { summary } = result;
  const doc = {
    schemaVersion: 1,
    summary: {
      resources: summary.resources,
      skipped: summary.skipped,
      skippedKinds: summary.skippedKinds,
      errors: summary.errors,
      findings: { deny: summary.findings.deny, warn: summary.findings.warn, audit: summary.findings.audit },
    },
    findings: result.findings.map(finding),
    errors: result.errors.map(inputError),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
