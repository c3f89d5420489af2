// The dependency table of src/: which part may import which. Reading every relative import
// of every file under src/ keeps it true; a new folder must be given its row before it can
// be imported. The engine's stricter boundary (no I/O, no frameworks) is test/engine/imports.test.ts.
//
// Read top to bottom as layers: a part imports only parts listed in its row. The commands
// (cmd/) put everything together; nothing imports them. Errors the runtime raises for a user
// mistake live in runtime/, not in cmd/. Sources and sinks never import each other: what both
// need (the engine's vocabulary, the AdmissionReview envelope) lives below them.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const SRC = resolve(new URL('../src', import.meta.url).pathname);

const MAY_IMPORT: Record<string, readonly string[]> = {
  runtime: [],
  'build-info.ts': [],
  engine: [],
  k8s: ['engine', 'runtime'],
  cluster: ['engine', 'k8s', 'runtime'],
  sources: ['engine', 'k8s', 'cluster', 'runtime'],
  sinks: ['engine', 'k8s', 'runtime', 'build-info.ts'],
  scan: ['engine', 'sources', 'sinks', 'runtime'],
  // Settings objects name the types of what they configure.
  config: ['engine', 'sinks', 'runtime'],
  controller: ['engine', 'k8s', 'cluster', 'sinks', 'config', 'runtime'],
  server: ['engine', 'k8s', 'cluster', 'sources', 'sinks', 'config', 'runtime'],
  cmd: ['engine', 'k8s', 'cluster', 'sources', 'sinks', 'scan', 'config', 'controller', 'server', 'runtime', 'build-info.ts'],
};

// Narrower than a row: files of an allowed part that a part still may not import. The sinks
// are handed the rules by the doors (a RuleCatalog, engine/rules/rule.ts) and import neither the
// registry nor a rule, so the registry stays the one list of rules and a format can be tested
// with any rules.
const MAY_NOT_IMPORT: Record<string, (target: string) => string | null> = {
  sinks: (target) => (target.startsWith('engine/rules/') && target !== 'engine/rules/rule.ts' ? 'a door passes the rules in' : null),
};

/** The part of src/ a path belongs to: its first folder, or the file itself at the top. */
const partOf = (file: string): string => relative(SRC, file).split(sep)[0];

function violations(file: string, text: string): string[] {
  const from = partOf(file);
  const allowed = MAY_IMPORT[from];
  if (!allowed) return [`${relative(SRC, file)}: src/${from} has no row in the dependency table`];
  const out: string[] = [];
  for (const { fileName, pos } of ts.preProcessFile(text, true, true).importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const target = resolve(dirname(file), fileName.replace(/\.js$/, '.ts'));
    if (relative(SRC, target).startsWith('..')) {
      out.push(`${relative(SRC, file)}:${lineOf(text, pos)} imports ${fileName}, outside src/`);
      continue;
    }
    const to = partOf(target);
    const why = MAY_NOT_IMPORT[from]?.(relative(SRC, target).split(sep).join('/'));
    if (to !== from && !allowed.includes(to)) out.push(`${relative(SRC, file)}:${lineOf(text, pos)}: ${from} may not import ${to} (${fileName})`);
    else if (why) out.push(`${relative(SRC, file)}:${lineOf(text, pos)}: ${from} may not import ${relative(SRC, target)} (${fileName}): ${why}`);
  }
  return out;
}

const lineOf = (text: string, pos: number): number => text.slice(0, pos).split('\n').length;

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );

describe('architecture: the dependency table of src/', () => {
  it.each([
    {
      name: 'a source importing a sink',
      file: 'sources/manifests.ts',
      text: "import type { X } from '../sinks/reports/scan-result.js';",
      found: ['sources/manifests.ts:1: sources may not import sinks (../sinks/reports/scan-result.js)'],
    },
    {
      name: 'a sink importing a source',
      file: 'sinks/reports/sarif.ts',
      text: "\nimport { STDIN_NAME } from '../../sources/manifests.js';",
      found: ['sinks/reports/sarif.ts:2: sinks may not import sources (../../sources/manifests.js)'],
    },
    {
      name: 'the runtime reaching up into the CLI',
      file: 'config/serve.ts',
      text: "import { UsageError } from '../cmd/exit.js';",
      found: ['config/serve.ts:1: config may not import cmd (../cmd/exit.js)'],
    },
    {
      name: 'a re-export counts as an import',
      file: 'engine/types.ts',
      text: "export { x } from '../k8s/client.js';",
      found: ['engine/types.ts:1: engine may not import k8s (../k8s/client.js)'],
    },
    {
      name: 'a dynamic import counts too',
      file: 'cluster/informer.ts',
      text: "const m = await import('../server/server.js');",
      found: ['cluster/informer.ts:1: cluster may not import server (../server/server.js)'],
    },
    {
      name: 'leaving src/',
      file: 'scan/run.ts',
      text: "import { x } from '../../test/support/wait.js';",
      found: ['scan/run.ts:1 imports ../../test/support/wait.js, outside src/'],
    },
    { name: 'a folder with no row', file: 'utils/misc.ts', text: '', found: ['utils/misc.ts: src/utils has no row in the dependency table'] },
    {
      name: 'a sink importing the rule registry',
      file: 'sinks/reports/junit.ts',
      text: "import { RULE_IDS } from '../../engine/rules/index.js';",
      found: ['sinks/reports/junit.ts:1: sinks may not import engine/rules/index.ts (../../engine/rules/index.js): a door passes the rules in'],
    },
    {
      name: 'a sink importing a rule',
      file: 'sinks/metrics.ts',
      text: "import { nodeportRange } from '../engine/rules/nodeport-range.js';",
      found: ['sinks/metrics.ts:1: sinks may not import engine/rules/nodeport-range.ts (../engine/rules/nodeport-range.js): a door passes the rules in'],
    },
    {
      name: "a sink importing the rules' types",
      file: 'sinks/reports/sarif.ts',
      text: "import type { RuleCatalog } from '../../engine/rules/rule.js';",
      found: [],
    },
    { name: 'a door importing the registry', file: 'cmd/scan.ts', text: "import { RULE_CATALOG } from '../engine/rules/index.js';", found: [] },
    {
      name: 'inside one part, and packages, are free',
      file: 'server/server.ts',
      text: "import express from 'express';\nimport { drain } from './drain.js';",
      found: [],
    },
    { name: 'an allowed edge', file: 'cmd/serve.ts', text: "import { startServer } from '../server/server.js';", found: [] },
    { name: 'the top-level build-info file', file: 'sinks/process-metrics.ts', text: "import { BUILD_INFO } from '../build-info.js';", found: [] },
  ])('the checker: $name', ({ file, text, found }) => {
    expect(violations(join(SRC, file), text)).toEqual(found);
  });

  it('every part of src/ has a row, and every row names a part', () => {
    const parts = readdirSync(SRC).filter((e) => !e.endsWith('.d.ts'));
    expect(parts.sort()).toEqual(Object.keys(MAY_IMPORT).sort());
  });

  it.each(sourceFiles(SRC).map((f) => ({ name: relative(SRC, f), file: f })))('$name keeps to the table', ({ file }) => {
    expect(violations(file, readFileSync(file, 'utf8'))).toEqual([]);
  });
});
