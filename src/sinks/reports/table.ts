// `--format table`, the default for people: findings grouped by file (or by resource when
// there is no file, as in cluster scans), columns aligned across the whole report, then
// input errors, one summary line and, when documents were skipped, a last line naming their
// kinds. Colour only when the caller asks for it.
import pc from 'picocolors';
import type { Action, Finding } from '../../engine/types.js';
import { findingMessage, resourceLabel } from './finding-text.js';
import type { ScanResult, WriterOptions } from './scan-result.js';

type Colors = ReturnType<typeof pc.createColors>;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

// Skipped kinds named on the last line, most frequent first; the json format lists them all.
// Ten keeps the line readable in a terminal for a typical repository's handful of kinds.
const SKIPPED_SHOWN = 10;

// A kind comes from the input: control characters would reach the terminal as escapes.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const printable = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');

interface Row {
  line: string;
  action: string;
  actionStyle: (s: string) => string;
  rule: string;
  policy: string;
  resource: string;
  path: string;
  message: string;
}

function actionStyle(c: Colors, f: Finding): (s: string) => string {
  if (f.status === 'error') return c.magenta;
  const styles: Record<Action, (s: string) => string> = { deny: (s) => c.bold(c.red(s)), warn: c.yellow, audit: c.cyan };
  return styles[f.action];
}

export function writeTable(result: ScanResult, options: Pick<WriterOptions, 'color'> = {}): string {
  const c = pc.createColors(options.color ?? false);
  const groups = new Map<string, Row[]>();
  for (const f of result.findings) {
    const key = f.source ? f.source.file : resourceLabel(f.resource);
    const rows = groups.get(key) ?? [];
    rows.push({
      line: f.source ? String(f.source.line) : '-',
      action: f.action,
      actionStyle: actionStyle(c, f),
      rule: f.rule,
      policy: f.policy,
      resource: resourceLabel(f.resource),
      path: f.path,
      message: findingMessage(f),
    });
    groups.set(key, rows);
  }

  // The policy column only earns its width when findings come from more than one policy.
  const showPolicy = new Set(result.findings.map((f) => f.policy)).size > 1;
  const all = [...groups.values()].flat();
  const width = (pick: (r: Row) => string) => Math.max(0, ...all.map((r) => pick(r).length));
  const w = {
    line: width((r) => r.line),
    action: width((r) => r.action),
    rule: width((r) => r.rule),
    policy: width((r) => r.policy),
    resource: width((r) => r.resource),
    path: width((r) => r.path),
  };

  const out: string[] = [];
  for (const [key, rows] of groups) {
    out.push(c.bold(c.underline(key)));
    for (const r of rows) {
      const cells = [
        c.dim(r.line.padStart(w.line)),
        r.actionStyle(r.action.padEnd(w.action)),
        r.rule.padEnd(w.rule),
        ...(showPolicy ? [r.policy.padEnd(w.policy)] : []),
        r.resource.padEnd(w.resource),
        c.dim(r.path.padEnd(w.path)),
        r.message,
      ];
      out.push(`  ${cells.join('  ')}`);
    }
    out.push('');
  }

  if (result.errors.length > 0) {
    out.push(c.bold(c.underline('input errors')));
    for (const e of result.errors) {
      const where = e.file === null ? '' : e.line === null ? `${e.file}: ` : `${e.file}:${e.line}: `;
      out.push(`  ${c.magenta(`${where}${e.message}`)}`);
    }
    out.push('');
  }

  const s = result.summary;
  const checked = `${plural(s.resources, 'resource')} checked, ${s.skipped} skipped, ${plural(s.errors, 'input error')}`;
  const total = s.findings.deny + s.findings.warn + s.findings.audit;
  const counts =
    total === 0
      ? c.green('no findings')
      : [
          s.findings.deny > 0 ? c.bold(c.red(`${s.findings.deny} deny`)) : `${s.findings.deny} deny`,
          s.findings.warn > 0 ? c.yellow(`${s.findings.warn} warn`) : `${s.findings.warn} warn`,
          s.findings.audit > 0 ? c.cyan(`${s.findings.audit} audit`) : `${s.findings.audit} audit`,
        ].join(', ');
  out.push(`${checked}: ${counts}`);
  const skipped = Object.entries(s.skippedKinds).sort(([ka, a], [kb, b]) => b - a || (ka < kb ? -1 : 1));
  if (skipped.length > 0) {
    const named = skipped.slice(0, SKIPPED_SHOWN).map(([k, n]) => `${n} ${printable(k)}`);
    if (skipped.length > SKIPPED_SHOWN) named.push(`${skipped.length - SKIPPED_SHOWN} more kinds (--format json lists them)`);
    out.push(c.dim(`skipped: ${named.join(', ')}`));
  }
  return `${out.join('\n')}\n`;
}
