// The README is the short guide and docs/ the rest: the README stays short, and every relative
// link in either resolves to a file and, when it names one, a heading of that file (sections
// move between files; a link left behind would point at nothing).
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { runScan } from '../src/cmd/scan.js';
import { RULE_IDS } from '../src/engine/rules/index.js';
import { docSection, headings, readDoc } from './support/readme.js';

const ROOT = new URL('..', import.meta.url).pathname;
const MARKDOWN = [
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

/** GitHub's heading anchor: lower case, punctuation other than - and _ dropped, spaces to hyphens; repeats get -1, -2. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const { title } of headings(markdown)) {
    const text = title.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Relative link targets outside code fences and inline code, with their line numbers. */
function relativeLinks(markdown: string): { line: number; target: string }[] {
  const links: { line: number; target: string }[] = [];
  let fenced = false;
  markdown.split('\n').forEach((text, i) => {
    if (/^\s*(```|~~~)/.test(text)) fenced = !fenced;
    if (fenced) return;
    for (const m of text.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      if (!/^[a-z][a-z0-9+.-]*:/i.test(m[1])) links.push({ line: i + 1, target: m[1] });
    }
  });
  return links;
}

describe('documentation', () => {
  it('README.md is a guide of at most 400 lines', () => {
    expect(readDoc('README.md').trimEnd().split('\n').length).toBeLessThanOrEqual(400);
  });

  it('README.md opens with the two commands for a fresh machine: set up and scan the examples, run the tests', () => {
    const first = /```sh\n([\s\S]*?)```/.exec(readDoc('README.md'))![1];
    expect(first).toMatch(/^npm ci && npx portcullis scan examples\//m);
    expect(first).toMatch(/^npm test\b/m);
  });

  it.each(MARKDOWN.map((file) => ({ name: file, file })))('$name: every relative link names a file that exists, and a heading of it', ({ file }) => {
    const broken: string[] = [];
    for (const { line, target } of relativeLinks(readDoc(file))) {
      const [ref, anchor] = target.split('#', 2) as [string, string | undefined];
      const resolved = ref === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), decodeURI(ref)));
      if (!existsSync(path.join(ROOT, resolved))) broken.push(`${file}:${line}: ${target}: no file ${resolved}`);
      else if (anchor !== undefined && resolved.endsWith('.md') && !anchors(readDoc(resolved)).has(anchor))
        broken.push(`${file}:${line}: ${target}: ${resolved} has no heading #${anchor}`);
    }
    expect(broken).toEqual([]);
  });

  it("every page of docs/ is in the README's Documentation table", () => {
    const table = docSection('README.md', 'Documentation');
    // On failure: add a row for the new page to the table in README.md.
    expect(MARKDOWN.filter((f) => f !== 'README.md' && !table.includes(`](${f})`))).toEqual([]);
  });

  it("README.md's quick start says what `scan examples/` finds, file by file, and its exit status 1", async () => {
    let report = '';
    const status = await runScan(
      [path.join(ROOT, 'examples')],
      { format: 'json' },
      {
        stdout: { write: (text: string) => (report += text) },
        stderr: { write: () => true },
        stdoutColor: false,
        now: () => new Date('2026-12-06T00:00:00Z'),
      },
    );
    const quickStart = docSection('README.md', 'Quick start');
    expect(quickStart).toMatch(/exit status 1/);
    const files = (JSON.parse(report) as { findings: { rule: string; source: { file: string } }[] }).findings.map((f) => ({
      file: path.relative(path.join(ROOT, 'examples'), f.source.file),
      rule: f.rule,
    }));
    // Each row: | `file`, `glob/*.yaml`, `dir/` | what | `rule` ... or nothing / skipped |
    const rows = [...quickStart.matchAll(/^\| (`.+?) \| .+? \| (.+) \|$/gm)].map((m) => ({
      patterns: [...m[1].matchAll(/`([^`]+)`/g)].map(
        (p) => new RegExp(`(^|/)${p[1].replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}${p[1].endsWith('/') ? '' : '$'}`),
      ),
      rules: [...m[2].matchAll(/`([^`]+)`/g)].map((r) => r[1]).filter((r) => (RULE_IDS as readonly string[]).includes(r)),
    }));
    expect(rows.length).toBeGreaterThan(3);
    const inRow = (row: (typeof rows)[number]) => files.filter((f) => row.patterns.some((p) => p.test(f.file)));
    const said = rows.map((row) => [...new Set(inRow(row).map((f) => f.rule))].sort());
    expect({ status, said }).toEqual({ status: 1, said: rows.map((row) => [...new Set(row.rules)].sort()) });
    expect(files.filter((f) => !rows.some((row) => inRow(row).includes(f)))).toEqual([]);
  });

  it('the layout table of docs/development.md names every directory of src/, and only those', () => {
    const dirs = (
      readdirSync(path.join(ROOT, 'src'), { recursive: true, withFileTypes: true }) as { name: string; parentPath: string; isDirectory(): boolean }[]
    )
      .filter((e) => e.isDirectory())
      .map((e) => `${path.relative(ROOT, path.join(e.parentPath, e.name))}/`)
      .sort();
    const named = [...new Set([...docSection('docs/development.md', 'Layout').matchAll(/`(src\/[\w/-]*\/)`/g)].map((m) => m[1]))].sort();
    expect(named).toEqual(dirs);
  });

  it.each([
    { name: 'a heading with code and a colon', markdown: '## `json`: the stable contract', anchor: 'json-the-stable-contract' },
    { name: 'flags keep their hyphens', markdown: '## The port map: `--format html`', anchor: 'the-port-map---format-html' },
    { name: 'a repeated heading is numbered', markdown: '## Limits\n## Limits', anchor: 'limits-1' },
    { name: 'a # line in a code block is not a heading', markdown: '```sh\n# not a heading\n```', anchor: null },
  ])('anchors: $name', ({ markdown, anchor }) => {
    const found = anchors(markdown);
    if (anchor === null) expect(found.size).toBe(0);
    else expect(found.has(anchor)).toBe(true);
  });
});
