// The scan loop shared by `scan PATH...` and `scan --cluster`: reads a source item by item,
// runs the engine on each resource and gathers a ScanResult. It keeps findings (few) and,
// only when the report format needs them, evaluations and port uses (one per resource), so
// memory stays flat for the formats that list findings.
import type { EvaluateOptions } from '../engine/evaluate.js';
import type { CompiledPolicy } from '../engine/policy/model.js';
import type { ClusterFacts, Evaluation, Finding, KubeObject, PortUse, Resource } from '../engine/types.js';
import { NOT_A_KUBERNETES_OBJECT, OTHER_KINDS, type InputError, type RuleExcerpt, type ScanResult } from '../sinks/reports/scan-result.js';
import type { ScanSource } from '../sources/source-item.js';

/** The engine functions a scan calls, passed in so the loop can be tested with any engine. */
export interface ScanEngine {
  evaluate(resource: Resource, policies: readonly CompiledPolicy[], cluster: ClusterFacts, options?: EvaluateOptions): Evaluation;
  /** Every hostPort and nodePort the resource takes (html). */
  portUses?(resource: Resource): PortUse[];
  /** The tenant of a namespace under one policy (html). */
  tenantOf?(policy: CompiledPolicy, namespace: string, cluster: ClusterFacts): string | null;
  /** The network-policy rules the findings point at, as written (html). */
  ruleExcerpts?(object: KubeObject, findings: readonly Finding[]): RuleExcerpt[];
}

/** What the report format reads beyond findings and errors. */
export interface ScanKeep {
  evaluations?: boolean;
  portUses?: boolean;
  namespaces?: boolean;
  exposures?: boolean;
}

export interface ScanProgress {
  objects: number;
  done: number;
  total: number | null;
  unit: string;
}

export interface ScanLoopOptions {
  policies: readonly CompiledPolicy[];
  engine: ScanEngine;
  keep?: ScanKeep;
  /** The clock: generatedAt comes from it, so writers stay pure and goldens stable. */
  now: () => Date;
  onProgress?: (p: ScanProgress) => void;
}

/**
 * A deep copy with strings of its own. Parsers hand out substrings, which V8 keeps as slices
 * of the whole file's text: one kept finding would keep its file alive, and a scan's memory
 * would grow with its input. Only what outlives its file is copied (findings: few).
 */
const detached: <T>(value: T) => T = structuredClone;

/** Not push(...items): one object can hold more findings or host ports than a call's arguments. */
function append<T>(to: T[], items: readonly T[]): void {
  for (const item of items) to.push(item);
}

const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);

/** By file, line and path; cluster findings (no source) by namespace, kind and name. */
export function compareFindings(a: Finding, b: Finding): number {
  if (a.source && b.source) {
    return cmp(a.source.file, b.source.file) || cmp(a.source.line, b.source.line) || cmp(a.path, b.path);
  }
  if (a.source || b.source) return a.source ? -1 : 1;
  return (
    cmp(a.resource.namespace ?? '', b.resource.namespace ?? '') ||
    cmp(a.resource.kind, b.resource.kind) ||
    cmp(a.resource.name, b.resource.name) ||
    cmp(a.path, b.path)
  );
}

// Distinct keys in summary.skippedKinds: a repository or cluster holds a few dozen kinds; the
// bound keeps input that invents a kind per document from growing the report without end.
// A key longer than a real one (an API group is a DNS subdomain of at most 253 characters, a
// version and a kind at most 63 each) is counted under OTHER_KINDS as well.
const SKIPPED_KINDS_LIMIT = 200;
const KEY_LIMIT = 253 + 1 + 63 + 1 + 63;

function skippedKey(apiVersion: string | null, kind: string | null, seen: ReadonlyMap<string, number>): string {
  if (apiVersion === null || kind === null) return NOT_A_KUBERNETES_OBJECT;
  if (apiVersion.length + 1 + kind.length > KEY_LIMIT) return OTHER_KINDS;
  const key = `${apiVersion}/${kind}`;
  if (seen.has(key)) return key;
  return seen.size >= SKIPPED_KINDS_LIMIT ? OTHER_KINDS : detached(key);
}

async function* oneByOne<T>(items: AsyncIterable<T>): AsyncGenerator<T[]> {
  for await (const item of items) yield [item];
}

export async function scanSource(source: ScanSource, opts: ScanLoopOptions): Promise<ScanResult> {
  const { policies, engine } = opts;
  const keep = opts.keep ?? {};
  const cluster = await source.facts();
  const findings: Finding[] = [];
  const errors: InputError[] = [];
  const evaluations: Evaluation[] = [];
  const portUses: PortUse[] = [];
  const exposures: RuleExcerpt[] = [];
  const namespaceNames = new Set<string>();
  // Pass and skip outcomes only when the report shows them: the other formats would drop them.
  const evaluateOptions: EvaluateOptions = { outcomes: keep.evaluations === true };
  const summary = { resources: 0, skipped: 0, errors: 0, findings: { deny: 0, warn: 0, audit: 0 } };
  const skippedKinds = new Map<string, number>();

  const batches = source.batches ? source.batches() : oneByOne(source.items());
  for await (const batch of batches)
    for (const item of batch) {
      switch (item.type) {
        case 'resource': {
          summary.resources++;
          const { resource } = item;
          const evaluation = engine.evaluate(resource, policies, cluster, evaluateOptions);
          for (const f of evaluation.findings) summary.findings[f.action]++;
          if (keep.evaluations) {
            const own = detached(evaluation);
            evaluations.push(own);
            append(findings, own.findings);
          } else if (evaluation.findings.length > 0) {
            append(findings, detached(evaluation.findings));
          }
          if (keep.portUses && engine.portUses) append(portUses, detached(engine.portUses(resource)));
          if (keep.exposures && engine.ruleExcerpts && evaluation.findings.length > 0) {
            append(exposures, detached(engine.ruleExcerpts(resource.object, evaluation.findings)));
          }
          if (keep.namespaces) {
            if (resource.namespace !== null && !namespaceNames.has(resource.namespace)) namespaceNames.add(detached(resource.namespace));
          }
          break;
        }
        case 'skipped': {
          summary.skipped++;
          const key = skippedKey(item.apiVersion, item.kind, skippedKinds);
          skippedKinds.set(key, (skippedKinds.get(key) ?? 0) + 1);
          // Namespace objects are not checked, but a report that groups by tenant lists them.
          if (keep.namespaces && item.kind === 'Namespace' && item.name && !namespaceNames.has(item.name)) namespaceNames.add(detached(item.name));
          break;
        }
        case 'error':
          errors.push(item.error);
          break;
        case 'progress':
          opts.onProgress?.({ objects: summary.resources + summary.skipped, done: item.done, total: item.total, unit: item.unit });
          break;
      }
    }
  summary.errors = errors.length;
  findings.sort(compareFindings);

  const byKey = [...skippedKinds].sort(([a], [b]) => cmp(a, b));
  const result: ScanResult = { policies, findings, errors, summary: { ...summary, skippedKinds: Object.fromEntries(byKey) }, generatedAt: opts.now() };
  if (keep.evaluations) result.evaluations = evaluations;
  if (keep.portUses) result.portUses = portUses;
  if (keep.exposures) result.exposures = exposures;
  if (keep.namespaces) {
    result.namespaces = [...namespaceNames].sort().map((name) => ({
      name,
      tenants: Object.fromEntries(policies.map((p) => [p.name, engine.tenantOf ? engine.tenantOf(p, name, cluster) : null])),
    }));
  }
  return result;
}
