// The engine is pure: no I/O, no frameworks, no environment. This keeps it true by reading
// every import of every file under src/engine.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ENGINE = resolve(new URL('../../src/engine', import.meta.url).pathname);
const FORBIDDEN = [
  /^(node:)?fs(\/|$)/,
  /^(node:)?net$/,
  /^(node:)?https?$/,
  /^(node:)?http2$/,
  /^express(\/|$)/,
  /^@kubernetes\/client-node(\/|$)/,
  /^pino(\/|$)/,
  /^prom-client(\/|$)/,
];

function problems(file: string, text: string): string[] {
  const out: string[] = [];
  for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
    if (FORBIDDEN.some((re) => re.test(fileName))) out.push(`${file} imports ${fileName}`);
    if (fileName.startsWith('.') && relative(ENGINE, resolve(dirname(file), fileName)).startsWith('..'))
      out.push(`${file} imports ${fileName} from outside the engine`);
  }
  if (/\bprocess\s*(\.\s*env|\[\s*['"]env['"]\s*\])/.test(text)) out.push(`${file} reads process.env`);
  return out;
}

const engineFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? engineFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );

describe('engine import boundary', () => {
  it.each([
    { name: 'node:fs', text: "import { readFileSync } from 'node:fs';", bad: true },
    { name: 'bare fs/promises', text: "import fs from 'fs/promises';", bad: true },
    { name: 'node:http', text: "import * as http from 'node:http';", bad: true },
    { name: 'https', text: "export { request } from 'https';", bad: true },
    { name: 'node:net', text: "const net = await import('node:net');", bad: true },
    { name: 'express', text: "import express from 'express';", bad: true },
    { name: 'client-node', text: "import type { V1Pod } from '@kubernetes/client-node';", bad: true },
    { name: 'pino', text: "import pino from 'pino';", bad: true },
    { name: 'prom-client', text: "import { Counter } from 'prom-client';", bad: true },
    { name: 'process.env', text: 'const level = process.env.LOG_LEVEL;', bad: true },
    { name: 'leaving the engine', text: "import { x } from '../../cmd/cli.js';", bad: true },
    { name: 'cidr-tools and node:path are fine', text: "import { parseCidr } from 'cidr-tools';\nimport { posix } from 'node:path';", bad: false },
    { name: 'engine-relative import is fine', text: "import { inRange } from '../ports.js';", bad: false },
  ])('the checker flags $name: $bad', ({ text, bad }) => {
    expect(problems(join(ENGINE, 'rules', 'example.ts'), text).length > 0).toBe(bad);
  });

  it('src/engine has files to check', () => {
    expect(engineFiles(ENGINE).length).toBeGreaterThan(10);
  });

  it.each(engineFiles(ENGINE).map((f) => ({ name: relative(ENGINE, f), file: f })))('$name stays pure', ({ file }) => {
    expect(problems(file, readFileSync(file, 'utf8'))).toEqual([]);
  });
});
