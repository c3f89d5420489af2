// `portcullis scan`: policies and a source in, a report and an exit status out.
// Exit statuses (Spectral's convention): 2 for usage or input errors (wins), 1 when a finding
// at or above --fail-on was found, else 0.
import { writeFile } from 'node:fs/promises';
import { evaluate, isCheckedKind, portUses, tenantOf } from '../engine/evaluate.js';
import { ACTIONS, type Action, type Finding } from '../engine/types.js';
import { scanSource, type ScanEngine, type ScanKeep, type ScanProgress } from '../scan/run.js';
import { ruleExcerpts } from '../sinks/reports/html/exposures.js';
import { FORMAT_NAMES, FORMATS, isFormatName, type ReportFormat } from '../sinks/reports/index.js';
import type { InputError } from '../sinks/reports/scan-result.js';
import { manifestSource } from '../sources/manifests.js';
import { formatPolicyError, loadDefaultSpec, loadPolicyPaths } from '../sources/policy-files.js';
import type { ScanSource } from '../sources/source-item.js';
import { EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, UsageError } from './exit.js';

export interface ScanCommandOptions {
  policy?: string[];
  format?: string;
  output?: string;
  failOn?: Action | 'never';
  defaultNamespace?: string;
  cluster?: boolean;
  context?: string;
  namespace?: string;
  allNamespaces?: boolean;
  /** commander's --no-color: false when given. */
  color?: boolean;
}

/** The process edges, passed in so tests need no module mocks. */
export interface ScanIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  /** stdout is a terminal that takes colour (not NO_COLOR, https://no-color.org). */
  stdoutColor: boolean;
  readStdin?: () => Promise<string>;
  now: () => Date;
}

const processIO = (): ScanIO => ({
  stdout: process.stdout,
  stderr: process.stderr,
  stdoutColor: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
  now: () => new Date(),
});

/** True when a finding at or above the threshold exists (deny > warn > audit). */
export function failsThreshold(findings: readonly Pick<Finding, 'action'>[], failOn: Action | 'never'): boolean {
  if (failOn === 'never') return false;
  const limit = ACTIONS.indexOf(failOn);
  return findings.some((f) => ACTIONS.indexOf(f.action) <= limit);
}

export function formatInputError(e: InputError): string {
  if (e.file === null) return e.message;
  return `${e.file}${e.line !== null ? `:${e.line}` : ''}: ${e.message}`;
}

/** What the scan must keep while streaming for this format; the rest is dropped as it goes. */
function keepFor(format: ReportFormat): ScanKeep {
  return {
    evaluations: format.needsEvaluations,
    portUses: format.needsPortMap,
    namespaces: format.needsPortMap,
    exposures: format.needsPortMap,
  };
}

/** A progress line on a terminal's stderr, at most ten updates a second. */
function progressLine(io: ScanIO): { update: (p: ScanProgress) => void; clear: () => void } | null {
  if (!io.stderr.isTTY) return null;
  let last = 0;
  let shown = false;
  return {
    update(p) {
      const t = Date.now();
      if (t - last < 100) return;
      last = t;
      shown = true;
      const of = p.total !== null ? `/${p.total}` : '';
      io.stderr.write(`\r\x1b[Kscanning: ${p.done}${of} ${p.unit}, ${p.objects} objects`);
    },
    clear() {
      if (shown) io.stderr.write('\r\x1b[K');
    },
  };
}

function checkUsage(paths: readonly string[], opts: ScanCommandOptions): void {
  if (opts.cluster) {
    if (paths.length > 0) throw new UsageError('scan: give either paths or --cluster, not both');
    if (opts.namespace && opts.allNamespaces) throw new UsageError('scan: give either --namespace or --all-namespaces, not both');
  } else {
    if (paths.length === 0) throw new UsageError('scan: give files or directories to scan, - for stdin, or --cluster');
    if (opts.context || opts.namespace || opts.allNamespaces) throw new UsageError('scan: --context, --namespace and --all-namespaces need --cluster');
    if (paths.filter((p) => p === '-').length > 1) throw new UsageError('scan: stdin (-) can be read only once');
  }
}

export async function runScan(paths: string[], opts: ScanCommandOptions, io: ScanIO = processIO()): Promise<number> {
  try {
    checkUsage(paths, opts);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`portcullis: ${err.message}\n`);
    return EXIT_USAGE;
  }
  const failOn = opts.failOn ?? 'deny';
  const formatName = opts.format ?? 'table';
  if (!isFormatName(formatName)) {
    io.stderr.write(`portcullis: scan: format ${formatName} is not available (available: ${FORMAT_NAMES.join(', ')})\n`);
    return EXIT_USAGE;
  }
  const format: ReportFormat = FORMATS[formatName];

  const loaded = await loadPolicyPaths(opts.policy ?? []);
  for (const w of loaded.warnings) io.stderr.write(`warning: ${formatPolicyError(w)}\n`);
  if (loaded.errors.length > 0) {
    for (const e of loaded.errors) io.stderr.write(`${formatPolicyError(e)}\n`);
    return EXIT_USAGE;
  }
  let policies = loaded.policies;

  let source: ScanSource;
  if (opts.cluster) {
    const { clusterSource } = await import('../sources/cluster.js');
    const cluster = clusterSource({ context: opts.context, namespace: opts.namespace, allNamespaces: opts.allNamespaces, warn: (m) => io.stderr.write(`warning: ${m}\n`) });
    // Without --policy, the cluster's PortPolicy objects are the active set, as for the
    // webhook and the controller; the shipped default applies while there is none.
    if ((opts.policy ?? []).length === 0) policies = (await cluster.portPolicies(await loadDefaultSpec())) ?? policies;
    source = cluster;
  } else {
    source = manifestSource(paths, {
      defaultNamespace: opts.defaultNamespace ?? 'default',
      isChecked: (o) => isCheckedKind(o.apiVersion, o.kind),
      // The first pass over the input is needed only when some tenant is chosen by labels.
      namespaceLabels: policies.some((p) => p.hasLabelTenants),
      readStdin: io.readStdin,
      warn: (m) => io.stderr.write(`warning: ${m}\n`),
    });
  }

  const engine: ScanEngine = {
    evaluate,
    portUses,
    tenantOf: (policy, namespace, cluster) => tenantOf(policy, namespace, cluster.namespaceLabels(namespace))?.name ?? null,
    ruleExcerpts,
  };
  const progress = progressLine(io);
  const result = await scanSource(source, { policies, engine, keep: keepFor(format), now: io.now, onProgress: progress?.update });
  progress?.clear();

  // One line per input error on stderr, where CI logs show it whatever the report format;
  // except when the table goes to stdout, which lists them itself.
  if (formatName !== 'table' || opts.output) for (const e of result.errors) io.stderr.write(`${formatInputError(e)}\n`);
  const color = opts.color !== false && !opts.output && io.stdoutColor;
  const text = format.write(result, { color, failOn });
  if (opts.output) {
    try {
      await writeFile(opts.output, text);
    } catch (err) {
      io.stderr.write(`${opts.output}: cannot write: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
      return EXIT_USAGE;
    }
  } else {
    io.stdout.write(text);
  }

  if (result.errors.length > 0) return EXIT_USAGE;
  return failsThreshold(result.findings, failOn) ? EXIT_FINDINGS : EXIT_CLEAN;
}
