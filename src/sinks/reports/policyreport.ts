// PolicyReports in the vocabulary Kyverno writes and Policy Reporter reads: one report per
// namespace (and a cluster report for cluster-scoped objects), with pass and skip results as
// well as violations. The builder is pure and shared: `scan --format policyreport` prints
// its objects as YAML, the controller writes the same objects to the cluster.
import { createHash } from 'node:crypto';
import { dump } from 'js-yaml';
import type { RuleCatalog } from '../../engine/rules/rule.js';
import type { Action, Evaluation, Finding, KubeObject, ResourceRef, RuleId } from '../../engine/types.js';
import { findingMessage } from './finding-text.js';
import type { ScanResult, WriterOptions } from './scan-result.js';

export type ReportFlavor = 'wgpolicyk8s' | 'openreports';

export interface PolicyReportOptions {
  /** The rules, from the registry: each result's category is its rule's. */
  rules: RuleCatalog;
  /** Stamped on every result as {seconds, nanos}. */
  generatedAt: Date;
  /** wgpolicyk8s.io/v1alpha2 PolicyReport (default) or openreports.io/v1alpha1 Report. */
  flavor?: ReportFlavor;
  /** Results per report object; default MAX_RESULTS_PER_REPORT. */
  maxResults?: number;
  /** The object's uid when the caller knows it (the controller does; files do not). */
  uidOf?: (resource: ResourceRef) => string | undefined;
}

// A result with its resource reference and properties serializes to about 600-900 bytes of
// JSON; 1,000 of them stay under 1 MiB, well inside etcd's default 1.5 MiB request limit
// (--max-request-bytes), which bounds every object the API server stores.
export const MAX_RESULTS_PER_REPORT = 1000;

export const REPORT_SOURCE = 'portcullis';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
/** The report's namespace, or "cluster": lets the controller list and prune its own chunks. */
export const SCOPE_LABEL = 'portcullis.dev/report-scope';

const KINDS: Record<ReportFlavor, { apiVersion: string; namespaced: string; cluster: string }> = {
  wgpolicyk8s: { apiVersion: 'wgpolicyk8s.io/v1alpha2', namespaced: 'PolicyReport', cluster: 'ClusterPolicyReport' },
  openreports: { apiVersion: 'openreports.io/v1alpha1', namespaced: 'Report', cluster: 'ClusterReport' },
};

// The v1alpha2 CRD's severity enum is critical, high, medium, low, info.
const SEVERITY: Record<Action, 'high' | 'medium' | 'low'> = { deny: 'high', warn: 'medium', audit: 'low' };

type ResultStatus = 'pass' | 'fail' | 'warn' | 'error' | 'skip';

export interface ReportResult {
  source: string;
  policy: string;
  rule: RuleId;
  category: string;
  severity?: 'high' | 'medium' | 'low';
  result: ResultStatus;
  scored: boolean;
  message: string;
  resources: { apiVersion: string; kind: string; namespace?: string; name: string; uid?: string }[];
  properties: Record<string, string>;
  timestamp: { seconds: number; nanos: number };
}

interface Sortable {
  order: string;
  result: ReportResult;
}

/** When a scan kept no evaluations: one per resource with findings, so reports hold violations only. */
function evaluationsFromFindings(findings: readonly Finding[]): Evaluation[] {
  const byResource = new Map<string, Evaluation>();
  for (const f of findings) {
    const r = f.resource;
    const key = [r.apiVersion, r.kind, r.namespace ?? '', r.name].join('\u0000');
    const e = byResource.get(key) ?? { resource: r, source: f.source, findings: [], outcomes: [] };
    e.findings.push(f);
    byResource.set(key, e);
  }
  return [...byResource.values()];
}

function stringProperties(entries: Record<string, string | number | null | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(entries)) if (v !== null && v !== undefined) out[k] = String(v);
  return out;
}

const STATUS_ORDER: Record<ResultStatus, number> = { fail: 0, error: 1, warn: 2, skip: 3, pass: 4 };

/**
 * `properties.resultID`: Policy Reporter takes it as the result's id across every report
 * (without it, it hashes name, uid, policy, rule, result, category and message, so two findings
 * on one object with the same message would collapse into one). Built from what identifies the
 * result, never from where it sits (line, list index) or when it was made:
 * - the object: its uid when known (the controller), else apiVersion, kind, namespace and name,
 *   with the file, so one object written in two files (two overlays) gives two ids;
 * - the policy and the rule; the finding's key (index-free: which port, which peer), empty for
 *   pass and skip, of which there is one per object, policy and rule;
 * - the result, so a result that turns from fail to pass is a new result.
 * 128 bits of SHA-256: no collision among any number of results a cluster holds.
 */
function resultId(object: string, policy: string, rule: string, key: string, status: ResultStatus): string {
  return createHash('sha256').update([object, policy, rule, key, status].join('\u0000')).digest('hex').slice(0, 32);
}

function resultsOf(e: Evaluation, timestamp: ReportResult['timestamp'], { rules, uidOf }: PolicyReportOptions): Sortable[] {
  const r = e.resource;
  const uid = uidOf?.(r) ?? r.uid;
  // Fresh objects per result: a caller that edits one result must not edit its neighbours.
  const resources = () => [
    { apiVersion: r.apiVersion, kind: r.kind, ...(r.namespace === null ? {} : { namespace: r.namespace }), name: r.name, ...(uid ? { uid } : {}) },
  ];
  const source = e.source ? { file: e.source.file, line: e.source.line } : {};
  const object = uid ? `uid\u0000${uid}` : [r.apiVersion, r.kind, r.namespace ?? '', r.name, e.source?.file ?? ''].join('\u0000');
  const order = (policy: string, rule: string, status: ResultStatus, path: string) =>
    [r.kind, r.name, r.apiVersion, policy, rule, STATUS_ORDER[status], path].join('\u0000');
  const out: Sortable[] = [];
  for (const f of e.findings) {
    const status: ResultStatus = f.status === 'error' ? 'error' : 'fail';
    out.push({
      order: order(f.policy, f.rule, status, f.path),
      result: {
        source: REPORT_SOURCE,
        policy: f.policy,
        rule: f.rule,
        category: rules.byId(f.rule).category,
        severity: SEVERITY[f.action],
        result: status,
        scored: true,
        message: findingMessage(f),
        resources: resources(),
        properties: stringProperties({
          resultID: resultId(object, f.policy, f.rule, f.key, status),
          action: f.action,
          path: f.path,
          value: f.value,
          tenant: f.tenant,
          ...source,
        }),
        timestamp: { ...timestamp },
      },
    });
  }
  for (const o of e.outcomes) {
    const skip = o.status === 'skip';
    const properties = stringProperties({
      resultID: resultId(object, o.policy, o.rule, '', o.status),
      tenant: o.tenant,
      ...(skip ? { reason: o.reason } : {}),
      ...source,
    });
    out.push({
      order: order(o.policy, o.rule, o.status, ''),
      result: {
        source: REPORT_SOURCE,
        policy: o.policy,
        rule: o.rule,
        category: rules.byId(o.rule).category,
        result: o.status,
        scored: true,
        message: skip ? `exempted from ${o.rule}: ${o.reason ?? 'no reason given'}` : `${o.rule} passed`,
        resources: resources(),
        properties,
        timestamp: { ...timestamp },
      },
    });
  }
  return out;
}

function summary(results: readonly ReportResult[]): Record<ResultStatus, number> {
  const s: Record<ResultStatus, number> = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  for (const r of results) s[r.result] += 1;
  return s;
}

/**
 * Report objects for a set of evaluations: one per namespace (ClusterPolicyReport for
 * cluster-scoped objects), results sorted by resource, policy, rule and status, split into
 * chunks named `portcullis-<namespace>`, `portcullis-<namespace>-1`, ... (cluster:
 * `portcullis-cluster`, ...). The same evaluations always give the same objects.
 */
export function buildPolicyReports(evaluations: readonly Evaluation[], options: PolicyReportOptions): KubeObject[] {
  return [...policyReports(evaluations, options)];
}

/**
 * The same reports one by one, scope by scope: the results of one namespace are built only
 * when its turn comes, so a writer that serialises each report as it comes holds the results
 * of one namespace at a time instead of the whole scan's (five or so per object).
 */
function policyReports(evaluations: readonly Evaluation[], options: PolicyReportOptions): Iterable<KubeObject> {
  const flavor = KINDS[options.flavor ?? 'wgpolicyk8s'];
  const max = options.maxResults ?? MAX_RESULTS_PER_REPORT;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxResults must be a positive integer, got ${max}`);
  const ms = options.generatedAt.getTime();
  const timestamp = { seconds: Math.floor(ms / 1000), nanos: (((ms % 1000) + 1000) % 1000) * 1_000_000 };

  const byScope = new Map<string | null, Evaluation[]>();
  for (const e of evaluations) {
    const list = byScope.get(e.resource.namespace);
    if (list) list.push(e);
    else byScope.set(e.resource.namespace, [e]);
  }
  const scopes = [...byScope.keys()].sort((a, b) => (a === null ? -1 : b === null ? 1 : a < b ? -1 : a > b ? 1 : 0));

  function* reports(): Generator<KubeObject> {
    for (const namespace of scopes) {
      const sorted = byScope
        .get(namespace)!
        .flatMap((e) => resultsOf(e, timestamp, options))
        .sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0))
        .map((s) => s.result);
      const base = `portcullis-${namespace ?? 'cluster'}`;
      for (let i = 0; i * max < sorted.length; i++) {
        const results = sorted.slice(i * max, (i + 1) * max);
        yield {
          apiVersion: flavor.apiVersion,
          kind: namespace === null ? flavor.cluster : flavor.namespaced,
          metadata: {
            name: i === 0 ? base : `${base}-${i}`,
            ...(namespace === null ? {} : { namespace }),
            labels: { [MANAGED_BY_LABEL]: REPORT_SOURCE, [SCOPE_LABEL]: namespace ?? 'cluster' },
          },
          // openreports.io reports name their producer once at the top; v1alpha2 has no such
          // field (the API server would prune it), so there it is on each result only.
          ...(options.flavor === 'openreports' ? { source: REPORT_SOURCE } : {}),
          summary: summary(results),
          results,
        };
      }
    }
  }
  return reports();
}

// js-yaml's dump writes these objects about three times as fast as the yaml package's
// stringify (25,000 objects, 15 MB of reports: 1.1 s against 3.6 s) and the same text, except
// that it also quotes the strings YAML 1.1 readers take for other types (yes, on, 12:30):
// safer for kubectl and Go consumers. noRefs: the objects share nothing that should become an
// anchor; lineWidth -1: messages stay on one line; double quotes where quotes are needed.
const DUMP_OPTIONS = { noRefs: true, lineWidth: -1, quoteStyle: 'double' } as const;

/** `--format policyreport` / `--format openreports`: the objects as multi-document YAML. */
export function writePolicyReports(scan: ScanResult, { rules }: WriterOptions, flavor: ReportFlavor = 'wgpolicyk8s'): string {
  const evaluations = scan.evaluations ?? evaluationsFromFindings(scan.findings);
  const out: string[] = [];
  for (const report of policyReports(evaluations, { rules, generatedAt: scan.generatedAt, flavor })) out.push(`---\n${dump(report, DUMP_OPTIONS)}`);
  return out.join('');
}
