// `portcullis scan`: policies and a source in, a report and an exit status out.
// Exit statuses (Spectral's convention): 2 for usage or input errors (wins), 1 when a finding
// at or above --fail-on was found, else 0.
import { writeFile } from 'node:fs/promises';
import { evaluate, isCheckedKind, portUses, tenantOf, type EvaluateOptions } from '../engine/evaluate.js';
import { profileHints, profilesOfDaemonSet } from '../engine/policy/profile-hints.js';
import { RULE_CATALOG } from '../engine/rules/index.js';
import { ACTIONS, type Action, type Finding } from '../engine/types.js';
import { scanSource, type ScanEngine, type ScanKeep, type ScanProgress } from '../scan/run.js';
import { ruleExcerpts } from '../sinks/reports/html/exposures.js';
import { FORMAT_NAMES, FORMATS, isFormatName, type FormatName } from '../sinks/reports/index.js';
import type { InputError } from '../sinks/reports/scan-result.js';
import { manifestSource } from '../sources/manifests.js';
import { formatPolicyError, loadDefaultSpec, loadPolicyPaths } from '../sources/policy-files.js';
import type { ScanSource } from '../sources/source-item.js';
import { colorFromEnv } from './color.js';
import { EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, UsageError } from './exit.js';

export interface ScanCommandOptions {
  policy?: string[];
  /** --format: a format, or format=file; repeatable (commander collects a list). */
  format?: string | string[];
  /** -o/--output-format: the same as --format. */
  outputFormat?: string[];
  output?: string;
  failOn?: Action | 'never';
  defaultNamespace?: string;
  /** The name stdin (-) has in reports: the file the piped manifests came from. */
  stdinFilename?: string;
  cluster?: boolean;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  allNamespaces?: boolean;
  /** --color (true) or --no-color (false); undefined leaves it to the environment. */
  color?: boolean;
}

/** The process edges, passed in so tests need no module mocks. */
export interface ScanIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  /** The environment asks for colour on stdout (see color.ts): NO_COLOR, FORCE_COLOR, a terminal. */
  stdoutColor: boolean;
  readStdin?: () => Promise<string>;
  now: () => Date;
}

const processIO = (): ScanIO => ({
  stdout: process.stdout,
  stderr: process.stderr,
  stdoutColor: colorFromEnv(process.env, Boolean(process.stdout.isTTY)),
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

/** One report to write: a format, and its file (null: stdout). */
interface Target {
  format: FormatName;
  file: string | null;
}

/**
 * The reports a run writes, from --format/-o values (format or format=file) and --output.
 * At most one format goes without a file: to stdout, or to --output when given.
 */
function targetsOf(opts: ScanCommandOptions): Target[] {
  const given = [...(typeof opts.format === 'string' ? [opts.format] : (opts.format ?? [])), ...(opts.outputFormat ?? [])];
  const targets = (given.length > 0 ? given : ['table']).map((value): Target => {
    const eq = value.indexOf('=');
    const name = eq < 0 ? value : value.slice(0, eq);
    const file = eq < 0 ? null : value.slice(eq + 1);
    if (!isFormatName(name)) throw new UsageError(`scan: --format ${value}: no format ${name} (available: ${FORMAT_NAMES.join(', ')})`);
    if (file === '') throw new UsageError(`scan: --format ${value}: give a file after = (${name}=report.out), or no = for stdout`);
    return { format: name, file };
  });
  const unnamed = targets.filter((t) => t.file === null);
  if (unnamed.length > 1) {
    throw new UsageError(
      `scan: formats ${unnamed.map((t) => t.format).join(', ')} would all go to ${opts.output ?? 'stdout'}; give the others a file (--format sarif=report.sarif)`,
    );
  }
  if (opts.output !== undefined) {
    if (unnamed.length === 0) throw new UsageError(`scan: --output ${opts.output} is for the format given without a file, and every --format names its own`);
    unnamed[0].file = opts.output;
  }
  const files = targets.flatMap((t) => (t.file === null ? [] : [t.file]));
  const twice = files.find((f, i) => files.indexOf(f) !== i);
  if (twice !== undefined) throw new UsageError(`scan: two reports would be written to ${twice}`);
  return targets;
}

/** What the scan must keep while streaming for these formats; the rest is dropped as it goes. */
function keepFor(targets: readonly Target[]): ScanKeep {
  const evaluations = targets.some((t) => FORMATS[t.format].needsEvaluations);
  const portMap = targets.some((t) => FORMATS[t.format].needsPortMap);
  return { evaluations, portUses: portMap, namespaces: portMap, exposures: portMap };
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
    if (opts.kubeconfig || opts.context || opts.namespace || opts.allNamespaces)
      throw new UsageError('scan: --kubeconfig, --context, --namespace and --all-namespaces need --cluster');
    if (paths.filter((p) => p === '-').length > 1) throw new UsageError('scan: stdin (-) can be read only once');
    if (opts.stdinFilename !== undefined && !paths.includes('-')) throw new UsageError('scan: --stdin-filename names what - reads: give - among the paths');
    if (opts.stdinFilename === '') throw new UsageError('scan: --stdin-filename needs a name');
  }
}

export async function runScan(paths: string[], opts: ScanCommandOptions, io: ScanIO = processIO()): Promise<number> {
  let targets: Target[];
  try {
    checkUsage(paths, opts);
    targets = targetsOf(opts);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`portcullis: ${err.message}\n`);
    return EXIT_USAGE;
  }
  const failOn = opts.failOn ?? 'deny';

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
    const cluster = clusterSource({
      kubeconfigFile: opts.kubeconfig,
      context: opts.context,
      namespace: opts.namespace,
      allNamespaces: opts.allNamespaces,
      warn: (m) => io.stderr.write(`warning: ${m}\n`),
    });
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
      stdinName: opts.stdinFilename,
      warn: (m) => io.stderr.write(`warning: ${m}\n`),
    });
  }

  // DaemonSets seen in the cluster name the catalog profiles it runs (a hint on stderr). Every
  // scanned object is judged as one about to be applied (omitted node ports as allocated).
  const profilesSeen = new Map<string, string>();
  // The scan loop passes one options object for the whole scan: extend it once, not per object.
  let planned: { from: EvaluateOptions | undefined; to: EvaluateOptions } | null = null;
  const plannedOptions = (options: EvaluateOptions | undefined): EvaluateOptions => {
    if (planned === null || planned.from !== options) planned = { from: options, to: { ...options, planned: true } };
    return planned.to;
  };
  const engine: ScanEngine = {
    evaluate: opts.cluster
      ? (resource, active, facts, options) => {
          const { object } = resource;
          if (object.kind === 'DaemonSet' && resource.namespace !== null) {
            for (const profile of profilesOfDaemonSet(resource.namespace, object.metadata.name ?? '')) {
              if (!profilesSeen.has(profile)) profilesSeen.set(profile, `${resource.namespace}/${object.metadata.name}`);
            }
          }
          return evaluate(resource, active, facts, plannedOptions(options));
        }
      : (resource, active, facts, options) => evaluate(resource, active, facts, plannedOptions(options)),
    portUses,
    tenantOf: (policy, namespace, cluster) => tenantOf(policy, namespace, cluster.namespaceLabels(namespace))?.name ?? null,
    ruleExcerpts,
  };
  const progress = progressLine(io);
  const result = await scanSource(source, { policies, engine, keep: keepFor(targets), now: io.now, onProgress: progress?.update });
  progress?.clear();
  for (const hint of profileHints(policies, profilesSeen)) io.stderr.write(`hint: ${hint}\n`);

  // One line per input error on stderr, where CI logs show it whatever the report format;
  // except when the table goes to stdout, which lists them itself.
  const tableOnStdout = targets.some((t) => t.format === 'table' && t.file === null);
  if (!tableOnStdout) for (const e of result.errors) io.stderr.write(`${formatInputError(e)}\n`);
  let unwritten = false;
  for (const t of targets) {
    // Colour only on stdout: a file is read later, by something that may not take escapes.
    const color = t.file === null && (opts.color ?? io.stdoutColor);
    const text = FORMATS[t.format].write(result, { rules: RULE_CATALOG, color, failOn });
    if (t.file === null) {
      io.stdout.write(text);
      continue;
    }
    try {
      await writeFile(t.file, text);
    } catch (err) {
      io.stderr.write(`${t.file}: cannot write: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
      unwritten = true;
    }
  }

  if (result.errors.length > 0 || unwritten) return EXIT_USAGE;
  return failsThreshold(result.findings, failOn) ? EXIT_FINDINGS : EXIT_CLEAN;
}
