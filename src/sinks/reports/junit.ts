// `--format junit`: JUnit XML for CI dashboards (Jenkins, GitLab, test-reporter actions).
// One <testsuite> per rule; a <testcase> per finding and per resource that passed or was
// exempted; findings at or above --fail-on are <failure>s, so the dashboard turns red
// exactly when the build does; rule errors are <error>s; exemptions are <skipped>.
// Only what Jenkins' xunit plugin schema (junit-10.xsd) allows: it has no testcase file, line
// or properties and no skipped or timestamp on <testsuites>, and refuses a report that has them.
// The file is in the case's name ("... in deploy.yaml"), the line in the failure text: a name
// with the line in it would make a new test, and lose its history, whenever a line is added
// above the object.
import { ACTIONS, type Action, type Finding, type RuleId } from '../../engine/types.js';
import { findingMessage, resourceLabel } from './finding-text.js';
import type { ScanResult, WriterOptions } from './scan-result.js';

// XML 1.0 allows only these characters (section 2.2); others (terminal escapes in a
// message, say) would make the whole file unparsable, so they become U+FFFD.
const INVALID_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function escapeXml(text: string): string {
  return text.replace(INVALID_XML, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const attrs = (a: Record<string, string | number | undefined>) =>
  Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join('');

interface Case {
  name: string;
  classname: string;
  body: string;
  kind: 'pass' | 'failure' | 'error' | 'skipped';
}

const inFile = (file: string | undefined) => (file === undefined ? '' : ` in ${file}`);

function findingCase(f: Finding, threshold: Action): Case {
  const message = findingMessage(f);
  const detail = [
    `${f.action}: ${message}`,
    `policy: ${f.policy}`,
    `tenant: ${f.tenant ?? '-'}`,
    `resource: ${f.resource.apiVersion} ${resourceLabel(f.resource)}`,
    `path: ${f.path}`,
    `value: ${f.value ?? '-'}`,
    ...(f.source ? [`source: ${f.source.file}:${f.source.line}`] : []),
  ].join('\n');
  const base = {
    name: `${resourceLabel(f.resource)} ${f.path}${f.value === null ? '' : ` (${f.value})`}${inFile(f.source?.file)}`,
    classname: `${f.policy}.${f.rule}`,
  };
  if (f.status === 'error') {
    return { ...base, kind: 'error', body: `<error${attrs({ message, type: f.action })}>${escapeXml(detail)}</error>` };
  }
  if (ACTIONS.indexOf(f.action) <= ACTIONS.indexOf(threshold)) {
    return { ...base, kind: 'failure', body: `<failure${attrs({ message, type: f.action })}>${escapeXml(detail)}</failure>` };
  }
  // Below the threshold: the test passes, and the finding is still there to read.
  return { ...base, kind: 'pass', body: `<system-out>${escapeXml(detail)}</system-out>` };
}

function renderCase(c: Case): string {
  const open = `    <testcase${attrs({ name: c.name, classname: c.classname, time: '0' })}`;
  return c.body === '' ? `${open}/>` : `${open}>\n      ${c.body}\n    </testcase>`;
}

function renderSuite(name: string, cases: Case[], timestamp: string): string {
  const count = (k: Case['kind']) => cases.filter((c) => c.kind === k).length;
  const head = `  <testsuite${attrs({
    name,
    tests: cases.length,
    failures: count('failure'),
    errors: count('error'),
    skipped: count('skipped'),
    time: '0',
    timestamp,
  })}>`;
  return [head, ...cases.map(renderCase), '  </testsuite>'].join('\n');
}

export function writeJunit(result: ScanResult, options: WriterOptions): string {
  // --fail-on never still shows deny findings as failures: the report says what is wrong,
  // the exit status says whether the build stops.
  const threshold: Action = options.failOn === undefined || options.failOn === 'never' ? 'deny' : options.failOn;
  const timestamp = result.generatedAt.toISOString().replace(/\.\d{3}Z$/, '');
  const byRule = new Map<RuleId, Case[]>(options.rules.rules.map((r) => [r.id, []]));
  for (const f of result.findings) byRule.get(f.rule)!.push(findingCase(f, threshold));
  for (const e of result.evaluations ?? []) {
    for (const o of e.outcomes) {
      const c: Case = {
        name: `${resourceLabel(e.resource)}${inFile(e.source?.file)}`,
        classname: `${o.policy}.${o.rule}`,
        kind: o.status === 'skip' ? 'skipped' : 'pass',
        body: o.status === 'skip' ? `<skipped${attrs({ message: `exempted: ${o.reason ?? 'no reason given'}` })}/>` : '',
      };
      byRule.get(o.rule)!.push(c);
    }
  }

  const suites: { name: string; cases: Case[] }[] = [...byRule].filter(([, cases]) => cases.length > 0).map(([rule, cases]) => ({ name: rule, cases }));
  if (result.errors.length > 0) {
    suites.push({
      name: 'input',
      cases: result.errors.map((e, i) => ({
        name: e.file === null ? `input error ${i + 1}` : e.line === null ? e.file : `${e.file}:${e.line}`,
        classname: 'portcullis.input',
        kind: 'error' as const,
        body: `<error${attrs({ message: e.message, type: 'input' })}>${escapeXml(e.message)}</error>`,
      })),
    });
  }

  const all = suites.flatMap((s) => s.cases);
  const total = (k: Case['kind']) => all.filter((c) => c.kind === k).length;
  // Skipped cases are counted per suite only: the schema has no skipped on <testsuites>.
  const root = `<testsuites${attrs({
    name: 'portcullis',
    tests: all.length,
    failures: total('failure'),
    errors: total('error'),
    time: '0',
  })}>`;
  return ['<?xml version="1.0" encoding="UTF-8"?>', root, ...suites.map((s) => renderSuite(s.name, s.cases, timestamp)), '</testsuites>', ''].join('\n');
}
