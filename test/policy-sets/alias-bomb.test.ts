// A policy file whose YAML aliases expand without bound (the "billion laughs" shape) is a
// mistake in a file like any other: an error at its file and line, never an internal error
// with a stack (scan exited 70, and a running webhook logged a stack without counting the
// failed reload).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadPolicyPaths, formatPolicyError } from '../../src/sources/policy-files.js';

// Nine levels of ten aliases each: 10^9 strings once expanded.
const BOMB = [
  'apiVersion: portcullis.dev/v1alpha1',
  'kind: PortPolicy',
  'metadata: {name: laughs}',
  'spec:',
  '  a: &a ["x","x","x","x","x","x","x","x","x","x"]',
  ...'bcdefghi'.split('').map((c, i) => `  ${c}: &${c} [${Array(10).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
  '',
].join('\n');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'portcullis-alias-bomb-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

it.each([{ name: 'a PortPolicy whose aliases expand to a billion strings', text: BOMB }])('$name: one error at its file, no policy', async ({ text }) => {
  const file = path.join(dir, 'policy.yaml');
  await writeFile(file, text);
  const loaded = await loadPolicyPaths([dir]);
  expect(loaded.policies).toEqual([]);
  expect(loaded.errors.map(formatPolicyError)).toEqual([
    `${file}:1: invalid YAML: its aliases expand too far (more than the YAML parser's alias count allows); write the values out`,
  ]);
});
