// The directory walker the scan, the policy loader and the webhook's reload digest share, on a
// tree made at test time: names whose code-unit order differs from a locale's, dot entries,
// node_modules, a ConfigMap volume (..data linked to a timestamped directory, one link per key),
// a link to a directory, a loop, a dangling link.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { walk, walkDirectory, type WalkEntry, type WalkOptions } from '../../src/sources/directory-walk.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'portcullis-walk-'));
  const files: Record<string, string> = {
    'tree/B.yaml': 'b',
    'tree/a.yaml': 'a',
    'tree/a-b.yaml': 'a-b',
    'tree/ab.yaml': 'ab',
    'tree/UPPER.YAML': 'upper',
    'tree/notes.txt': 'notes',
    'tree/.hidden.yaml': 'hidden',
    'tree/.git/config.yaml': 'git',
    'tree/node_modules/dep.yaml': 'dep',
    'tree/sub/c.yml': 'c',
    'tree/cm/..2026_12_06_08_00_00.1/policy.yaml': 'policy',
    'ring/a.yaml': 'a',
    'ring/inner/b.yaml': 'b',
  };
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  await mkdir(path.join(dir, 'tree', 'Z-empty'));
  const link = (target: string, name: string): Promise<void> => symlink(target, path.join(dir, name));
  await link('..2026_12_06_08_00_00.1', 'tree/cm/..data');
  await link('..data/policy.yaml', 'tree/cm/policy.yaml');
  await link('sub', 'tree/linked');
  await link('a.yaml', 'tree/file-link.json');
  await link('missing.yaml', 'tree/dangling.yaml');
  await link('..', 'tree/sub/up');
  await link('..', 'ring/inner/back-to-ring');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** An entry as one line, its path relative to the test directory. */
function line(e: WalkEntry): string {
  const at = path.relative(dir, e.path);
  if (e.type === 'file') return `file ${at}`;
  if (e.type === 'passed') return `passed ${at} (${e.reason})`;
  return `error ${at} ${e.error.code}`;
}

async function lines(entries: AsyncIterable<WalkEntry>): Promise<string[]> {
  const out: string[] = [];
  for await (const e of entries) out.push(line(e));
  return out;
}

const MANIFESTS = new Set(['.yaml', '.yml', '.json']);

describe('walk', () => {
  it.each<{ name: string; root: string; options: WalkOptions; want: string[] }>([
    {
      // localeCompare would put B.yaml and UPPER.YAML after the lower-case names.
      name: 'every file, in code-unit order of names, links followed, each directory once',
      root: 'tree',
      options: { recursive: true },
      want: [
        'file tree/B.yaml',
        'file tree/UPPER.YAML',
        'file tree/a-b.yaml',
        'file tree/a.yaml',
        'file tree/ab.yaml',
        'file tree/cm/policy.yaml',
        'passed tree/dangling.yaml (broken-link)',
        'file tree/file-link.json',
        // linked comes before sub: the directory is walked under the first name that reaches it.
        'file tree/linked/c.yml',
        'file tree/node_modules/dep.yaml',
        'file tree/notes.txt',
      ],
    },
    {
      name: "the scan's options: extensions in any case, node_modules skipped",
      root: 'tree',
      options: { recursive: true, extensions: MANIFESTS, ignoreExtensionCase: true, skipDirectories: new Set(['node_modules']) },
      want: [
        'file tree/B.yaml',
        'file tree/UPPER.YAML',
        'file tree/a-b.yaml',
        'file tree/a.yaml',
        'file tree/ab.yaml',
        'file tree/cm/policy.yaml',
        'passed tree/dangling.yaml (broken-link)',
        'file tree/file-link.json',
        'file tree/linked/c.yml',
        'passed tree/node_modules (skipped-directory)',
        'passed tree/notes.txt (extension)',
      ],
    },
    {
      name: "the policy loader's options: extensions as written, links to directories passed over",
      root: 'tree',
      options: { recursive: true, extensions: MANIFESTS, links: 'files' },
      want: [
        'file tree/B.yaml',
        'passed tree/UPPER.YAML (extension)',
        'file tree/a-b.yaml',
        'file tree/a.yaml',
        'file tree/ab.yaml',
        'file tree/cm/policy.yaml',
        'passed tree/dangling.yaml (broken-link)',
        'file tree/file-link.json',
        'passed tree/linked (linked-directory)',
        'file tree/node_modules/dep.yaml',
        'passed tree/notes.txt (extension)',
        'file tree/sub/c.yml',
        'passed tree/sub/up (linked-directory)',
      ],
    },
    {
      name: 'one directory, not recursive: subdirectories are passed',
      root: 'tree',
      options: { recursive: false, extensions: MANIFESTS },
      want: [
        'file tree/B.yaml',
        'passed tree/UPPER.YAML (extension)',
        'passed tree/Z-empty (directory)',
        'file tree/a-b.yaml',
        'file tree/a.yaml',
        'file tree/ab.yaml',
        'passed tree/cm (directory)',
        'passed tree/dangling.yaml (broken-link)',
        'file tree/file-link.json',
        'passed tree/linked (directory)',
        'passed tree/node_modules (directory)',
        'passed tree/notes.txt (extension)',
        'passed tree/sub (directory)',
      ],
    },
    {
      name: 'a ConfigMap volume: each key once, through its link, not again under ..data',
      root: 'tree/cm',
      options: { recursive: true, extensions: MANIFESTS },
      want: ['file tree/cm/policy.yaml'],
    },
    {
      name: 'a loop back to the root: the root is not walked twice',
      root: 'ring',
      options: { recursive: true },
      want: ['file ring/a.yaml', 'file ring/inner/b.yaml'],
    },
    {
      name: 'a loop to an ancestor of the root: walked once from the root, then cut',
      root: 'tree/sub',
      options: { recursive: true, extensions: new Set(['.yml']) },
      want: [
        'file tree/sub/c.yml',
        'passed tree/sub/up/B.yaml (extension)',
        'passed tree/sub/up/UPPER.YAML (extension)',
        'passed tree/sub/up/a-b.yaml (extension)',
        'passed tree/sub/up/a.yaml (extension)',
        'passed tree/sub/up/ab.yaml (extension)',
        'passed tree/sub/up/cm/policy.yaml (extension)',
        'passed tree/sub/up/dangling.yaml (broken-link)',
        'passed tree/sub/up/file-link.json (extension)',
        'passed tree/sub/up/node_modules/dep.yaml (extension)',
        'passed tree/sub/up/notes.txt (extension)',
      ],
    },
    {
      name: 'a named file is yielded whatever its extension',
      root: 'tree/notes.txt',
      options: { recursive: true, extensions: MANIFESTS },
      want: ['file tree/notes.txt'],
    },
    {
      name: 'a dot entry named as the root is walked: only names inside are skipped',
      root: 'tree/.git',
      options: { recursive: true },
      want: ['file tree/.git/config.yaml'],
    },
    { name: 'an empty directory yields nothing', root: 'tree/Z-empty', options: { recursive: true }, want: [] },
    { name: 'a missing root is an error naming it', root: 'tree/missing', options: { recursive: true }, want: ['error tree/missing ENOENT'] },
    {
      name: 'a dangling link as the root is an error naming it',
      root: 'tree/dangling.yaml',
      options: { recursive: true },
      want: ['error tree/dangling.yaml ENOENT'],
    },
  ])('$name', async ({ root, options, want }) => {
    expect(await lines(walk(path.join(dir, root), options))).toEqual(want);
  });
});

describe('walkDirectory', () => {
  it.each<{ name: string; roots: string[]; want: string[] }>([
    {
      name: 'one visited set over two walks: a directory reached from both is walked once',
      roots: ['ring', 'ring/inner'],
      want: ['file ring/a.yaml', 'file ring/inner/b.yaml'],
    },
    {
      name: 'a directory that cannot be read is an error naming it, and the next walk goes on',
      roots: ['tree/a.yaml', 'ring/inner'],
      want: ['error tree/a.yaml ENOTDIR', 'file ring/inner/b.yaml', 'file ring/inner/back-to-ring/a.yaml'],
    },
  ])('$name', async ({ roots, want }) => {
    const visited = new Set<string>();
    const out: string[] = [];
    for (const root of roots) out.push(...(await lines(walkDirectory(path.join(dir, root), { recursive: true, extensions: MANIFESTS, visited }))));
    expect(out).toEqual(want);
  });
});
