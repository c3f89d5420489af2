// `portcullis export vap`: the active policies as ValidatingAdmissionPolicies and bindings,
// a YAML stream on stdout or in a file. The compiling is src/sinks/vap; this only loads,
// writes and says what VAP mode leaves to the webhook.
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { RULES } from '../engine/rules/index.js';
import { exportVap, VAP_RULES } from '../sinks/vap/index.js';
import { formatPolicyError, loadPolicyPaths } from '../sources/policy-files.js';
import { EXIT_CLEAN, EXIT_USAGE } from './exit.js';

export interface ExportOptions {
  policy?: string[];
  output?: string;
  /** false with --no-namespace-selector. */
  namespaceSelector?: boolean;
}

export interface ExportIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

/** The YAML stream: a header naming what the webhook alone enforces, then one document per object. */
export function vapStream(objects: readonly object[], policies: readonly string[], webhookOnly: readonly string[]): string {
  const header = [
    `# ValidatingAdmissionPolicies exported by portcullis from ${policies.length === 1 ? 'policy' : 'policies'} ${policies.join(', ')}.`,
    '# Re-export and apply again after every policy change: the catalog, tenants and exemptions are compiled in.',
    ...(webhookOnly.length > 0 ? [`# Not enforced here (the webhook enforces them): ${webhookOnly.join(', ')}.`] : []),
    '# What each policy leaves to the webhook is in its annotation portcullis.dev/webhook-only (docs/vap.md).',
  ];
  return `${header.join('\n')}\n${objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join('')}`;
}

export async function runExportVap(opts: ExportOptions, io: ExportIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const loaded = await loadPolicyPaths(opts.policy ?? []);
  for (const w of loaded.warnings) io.stderr.write(`warning: ${formatPolicyError(w)}\n`);
  if (loaded.errors.length > 0) {
    for (const e of loaded.errors) io.stderr.write(`${formatPolicyError(e)}\n`);
    return EXIT_USAGE;
  }
  const webhookOnly = RULES.map((r) => r.id).filter((id) => VAP_RULES[id] === undefined && loaded.policies.some((p) => p.rules[id] !== 'off'));
  for (const id of webhookOnly) io.stderr.write(`note: ${id} is not exported to ValidatingAdmissionPolicy; only the webhook enforces it\n`);
  const exported = exportVap(loaded.policies, { namespaceSelector: opts.namespaceSelector });
  for (const o of exported.overBudget) io.stderr.write(`note: ${o}\n`);
  const text = vapStream(
    exported.objects,
    loaded.policies.map((p) => p.name),
    [...webhookOnly, ...exported.overBudget],
  );
  if (opts.output) {
    try {
      await writeFile(opts.output, text);
    } catch (err) {
      io.stderr.write(`portcullis: cannot write ${opts.output}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
      return EXIT_USAGE;
    }
  } else io.stdout.write(text);
  return EXIT_CLEAN;
}
