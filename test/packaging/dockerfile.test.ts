// The Dockerfile, checked by parsing it (no container engine on these machines): pinned
// bases, a runtime without shell or dev dependencies, a numeric non-root user, and an
// ENTRYPOINT that runs `portcullis serve`. Each check is a function returning problems, run
// on the real Dockerfile (no problems) and on broken variants (the problem it must name).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execForm, parseCopy, parseDockerfile, runtimeStage, stageByRef, type Stage } from './dockerfile.js';
import { REPO_ROOT } from './kustomize.js';

const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  devDependencies: Record<string, string>;
};
const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8');

const EXACT_VERSION = /\d+\.\d+\.\d+/;

/** Every base image but scratch and earlier stages: an exact version tag (what Renovate reads and a reader understands) and a digest (what the build really gets). */
function unpinnedBases(stages: Stage[]): string[] {
  return stages.flatMap((s) => {
    if (s.image === 'scratch' || stages.some((t) => t.index < s.index && t.name === s.image)) return [];
    const [ref, digest] = s.image.split('@');
    const problems: string[] = [];
    const tag = /^[^@]+:([^/:@]+)$/.exec(ref)?.[1];
    if (tag === undefined) problems.push(`${s.image}: no tag`);
    else if (tag === 'latest' || !EXACT_VERSION.test(tag)) problems.push(`${s.image}: tag "${tag}" is not an exact version`);
    if (!/^sha256:[0-9a-f]{64}$/.test(digest ?? '')) problems.push(`${s.image}: not pinned by a sha256 digest`);
    return problems;
  });
}

/** The OCI annotations every published image should carry, and the version label's default this package's version. */
function labelProblems(stages: Stage[], version: string): string[] {
  const runtime = runtimeStage(stages);
  const labels = runtime.instructions
    .filter((i) => i.keyword === 'LABEL')
    .map((i) => i.args)
    .join(' ');
  const problems = ['title', 'description', 'source', 'version', 'revision', 'created']
    .filter((k) => !new RegExp(`org\\.opencontainers\\.image\\.${k}=`).test(labels))
    .map((k) => `runtime stage has no org.opencontainers.image.${k} label`);
  const arg = runtime.instructions.find((i) => i.keyword === 'ARG' && i.args.startsWith('VERSION='));
  if (arg?.args !== `VERSION=${version}`) problems.push(`ARG ${arg?.args ?? 'VERSION'}: the default is not package.json's version ${version}`);
  return problems;
}

/** Node images must carry the Node the tests run on: the `node` devDependency. */
function nodeVersionMismatches(stages: Stage[], nodeVersion: string): string[] {
  return stages
    .filter((s) => /^(docker\.io\/(library\/)?)?node:/.test(s.image))
    .filter((s) => !s.image.split(':')[1].startsWith(`${nodeVersion}-`) && s.image.split(':')[1] !== nodeVersion)
    .map((s) => `${s.image}: not node ${nodeVersion}`);
}

function runtimeUserProblems(stages: Stage[]): string[] {
  const users = runtimeStage(stages).instructions.filter((i) => i.keyword === 'USER');
  if (users.length === 0) return ['runtime stage sets no USER (it would run as root)'];
  const m = /^(\d+)(?::(\d+))?$/.exec(users[users.length - 1].args.trim());
  if (!m) return [`USER ${users[users.length - 1].args}: not numeric (the kubelet cannot verify runAsNonRoot for a name)`];
  return m[1] === '0' || m[2] === '0' ? ['USER is root'] : [];
}

function runtimeShellProblems(stages: Stage[]): string[] {
  const runtime = runtimeStage(stages);
  const problems: string[] = [];
  if (runtime.image !== 'scratch' && !runtime.image.startsWith('gcr.io/distroless/'))
    problems.push(`runtime base ${runtime.image} is not scratch or distroless (it ships a shell)`);
  for (const i of runtime.instructions.filter((x) => x.keyword === 'RUN')) problems.push(`line ${i.line}: RUN in the runtime stage needs a shell`);
  return problems;
}

/** A stage installs only production dependencies when its every npm ci/install omits dev. */
function prodOnly(stage: Stage): boolean {
  const runs = stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
  const installs = runs.filter((r) => /\bnpm (ci|install|i)\b/.test(r));
  const pruned = runs.some((r) => /\bnpm prune\b.*--omit[= ]dev/.test(r));
  return (installs.length > 0 && installs.every((r) => /--omit[= ]dev/.test(r))) || pruned;
}

function devDependencyProblems(stages: Stage[]): string[] {
  const problems: string[] = [];
  for (const i of runtimeStage(stages).instructions.filter((x) => x.keyword === 'COPY')) {
    const copy = parseCopy(i.args);
    const touchesModules = copy.sources.some((s) => s.includes('node_modules')) || /node_modules/.test(copy.dest);
    if (!touchesModules) continue;
    const from = copy.from === null ? undefined : stageByRef(stages, copy.from);
    if (!from) problems.push(`line ${i.line}: node_modules copied from the build context or an image`);
    else if (!prodOnly(from)) problems.push(`line ${i.line}: node_modules copied from stage ${from.name ?? from.index}, which installs dev dependencies`);
  }
  for (const i of runtimeStage(stages).instructions.filter((x) => x.keyword === 'COPY' && parseCopy(x.args).from === null)) {
    for (const s of parseCopy(i.args).sources) {
      if (!['package.json', 'policies', 'policies/'].includes(s)) problems.push(`line ${i.line}: runtime copies ${s} from the build context`);
    }
  }
  return problems;
}

function entrypointProblems(stages: Stage[], bin: string): string[] {
  const runtime = runtimeStage(stages);
  const entry = runtime.instructions.filter((i) => i.keyword === 'ENTRYPOINT').pop();
  if (!entry) return ['no ENTRYPOINT'];
  const argv = execForm(entry.args);
  if (!argv) return ['ENTRYPOINT in shell form needs /bin/sh'];
  const workdir = runtime.instructions.filter((i) => i.keyword === 'WORKDIR').pop()?.args ?? '/';
  const problems: string[] = [];
  if (argv[argv.length - 1] !== 'serve') problems.push(`ENTRYPOINT ${JSON.stringify(argv)} does not end with serve`);
  if (argv[1] !== path.posix.join(workdir, bin)) problems.push(`ENTRYPOINT runs ${argv[1]}, not the package's bin ${path.posix.join(workdir, bin)}`);
  if (!/\/node$/.test(argv[0])) problems.push(`ENTRYPOINT starts ${argv[0]}, not node`);
  return problems;
}

/** With an allowlist .dockerignore, every path COPY takes from the context must be let in. */
function contextProblems(stages: Stage[], ignore: string): string[] {
  const lines = ignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const problems: string[] = [];
  if (lines[0] !== '*') problems.push('.dockerignore is not an allowlist starting with *');
  const allowed = lines.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
  for (const forbidden of ['node_modules', 'dist', '.git']) if (allowed.includes(forbidden)) problems.push(`.dockerignore lets ${forbidden} in`);
  for (const s of stages) {
    for (const i of s.instructions.filter((x) => x.keyword === 'COPY' && parseCopy(x.args).from === null)) {
      for (const src of parseCopy(i.args).sources.map((x) => x.replace(/^\.\//, '').replace(/\/$/, ''))) {
        if (!allowed.some((a) => src === a || src.startsWith(`${a}/`))) problems.push(`line ${i.line}: COPY ${src} is excluded by .dockerignore`);
      }
    }
  }
  return problems;
}

const stages = parseDockerfile(dockerfile);
const variant = (from: string | RegExp, to: string) => {
  if (typeof from === 'string' ? !dockerfile.includes(from) : !from.test(dockerfile)) throw new Error(`the Dockerfile no longer contains ${from}`);
  return parseDockerfile(dockerfile.replace(from, to));
};
const BUILD_FROM = /FROM node:[^ ]+ AS build/;

describe('Dockerfile', () => {
  it('has a build stage, a production-dependency stage and a runtime stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(stages.some((s) => s.instructions.some((i) => i.keyword === 'RUN' && /npm run build/.test(i.args)))).toBe(true);
  });

  it.each([
    { name: 'bases are pinned to exact versions and digests', check: () => unpinnedBases(stages) },
    { name: 'the runtime carries the OCI labels, its version defaulting to package.json', check: () => labelProblems(stages, pkg.version) },
    {
      name: `node images carry node ${pkg.devDependencies.node}, the version the tests run on`,
      check: () => nodeVersionMismatches(stages, pkg.devDependencies.node),
    },
    { name: 'the runtime user is numeric and not root', check: () => runtimeUserProblems(stages) },
    { name: 'the runtime has no shell', check: () => runtimeShellProblems(stages) },
    { name: 'no dev dependency reaches the runtime', check: () => devDependencyProblems(stages) },
    { name: 'ENTRYPOINT runs portcullis serve', check: () => entrypointProblems(stages, pkg.bin.portcullis) },
    { name: '.dockerignore lets in exactly what COPY needs', check: () => contextProblems(stages, dockerignore) },
  ])('$name', ({ check }) => {
    expect(check()).toEqual([]);
  });

  it('the runtime gets dist/ from the stage that builds it and package.json (for "type": "module")', () => {
    const copies = runtimeStage(stages)
      .instructions.filter((i) => i.keyword === 'COPY')
      .map((i) => parseCopy(i.args));
    const dist = copies.find((c) => c.sources.some((s) => /\/dist\/?$/.test(s)));
    expect(dist?.from).toBeDefined();
    const builder = stageByRef(stages, dist!.from!);
    expect(builder?.instructions.some((i) => i.keyword === 'RUN' && /npm run build/.test(i.args))).toBe(true);
    expect(copies.some((c) => c.from === null && c.sources.includes('package.json'))).toBe(true);
    expect(copies.some((c) => c.from === null && c.sources.some((s) => s.startsWith('policies')))).toBe(true);
  });

  it.each([
    { name: 'a latest tag', broken: () => variant(BUILD_FROM, 'FROM node:latest AS build'), check: unpinnedBases, problem: 'node:latest' },
    { name: 'an untagged base', broken: () => variant(BUILD_FROM, 'FROM node AS build'), check: unpinnedBases, problem: 'no tag' },
    { name: 'a major-only tag', broken: () => variant(BUILD_FROM, 'FROM node:24-slim AS build'), check: unpinnedBases, problem: 'not an exact version' },
    {
      name: 'a tag without a digest',
      broken: () => variant(BUILD_FROM, 'FROM node:24.21.0-trixie-slim AS build'),
      check: unpinnedBases,
      problem: 'not pinned by a sha256 digest',
    },
    { name: 'a digest only', broken: () => variant(BUILD_FROM, `FROM node@sha256:${'a'.repeat(64)} AS build`), check: unpinnedBases, problem: 'no tag' },
    {
      name: 'another Node version',
      broken: () => variant(BUILD_FROM, 'FROM node:24.20.0-trixie-slim AS build'),
      check: (s: Stage[]) => nodeVersionMismatches(s, pkg.devDependencies.node),
      problem: 'node:24.20.0',
    },
    {
      name: 'a stale version label',
      broken: () => variant('ARG VERSION=', 'ARG VERSION=0.0.1\nARG OLD='),
      check: (s: Stage[]) => labelProblems(s, pkg.version),
      problem: 'is not package.json',
    },
    {
      name: 'a missing source label',
      broken: () => variant('org.opencontainers.image.source=', 'org.example.source='),
      check: (s: Stage[]) => labelProblems(s, pkg.version),
      problem: 'image.source label',
    },
    { name: 'a named user', broken: () => variant('USER 65532:65532', 'USER nonroot'), check: runtimeUserProblems, problem: 'not numeric' },
    { name: 'root', broken: () => variant('USER 65532:65532', 'USER 0'), check: runtimeUserProblems, problem: 'root' },
    {
      name: 'a runtime on a full image',
      broken: () => variant('\nFROM scratch\n', '\nFROM node:24.21.0-trixie-slim\n'),
      check: runtimeShellProblems,
      problem: 'ships a shell',
    },
    {
      name: 'node_modules from the build stage',
      broken: () => variant('COPY --from=prod-deps /src/node_modules', 'COPY --from=build /src/node_modules'),
      check: devDependencyProblems,
      problem: 'installs dev dependencies',
    },
    {
      name: 'a dev install in the prod stage',
      broken: () => variant('npm ci --omit=dev', 'npm ci'),
      check: devDependencyProblems,
      problem: 'installs dev dependencies',
    },
    {
      name: 'an ENTRYPOINT without serve',
      broken: () => variant('"/app/dist/cmd/cli.js", "serve"]', '"/app/dist/cmd/cli.js"]'),
      check: (s: Stage[]) => entrypointProblems(s, pkg.bin.portcullis),
      problem: 'does not end with serve',
    },
    {
      name: 'a shell-form ENTRYPOINT',
      broken: () => variant('ENTRYPOINT ["/nodejs/bin/node", "/app/dist/cmd/cli.js", "serve"]', 'ENTRYPOINT node /app/dist/cmd/cli.js serve'),
      check: (s: Stage[]) => entrypointProblems(s, pkg.bin.portcullis),
      problem: 'shell form',
    },
  ])('catches $name', ({ broken, check, problem }) => {
    expect(check(broken()).join('\n')).toContain(problem);
  });

  it('catches a COPY that .dockerignore excludes', () => {
    expect(contextProblems(stages, dockerignore.replace('!policies/\n', ''))).toEqual([expect.stringContaining('COPY policies is excluded')]);
    expect(contextProblems(stages, `${dockerignore}!node_modules\n`)).toEqual(['.dockerignore lets node_modules in']);
  });
});

// dockerfilelint (npm; hadolint has no npm or Debian package): its generic checks on top of
// the project's own above. Run on the text, as it would be on the file.
describe('dockerfilelint', () => {
  const lint = (text: string): Promise<{ title: string; line: string }[]> =>
    new Promise((resolve, reject) => {
      const child = execFile(path.join(REPO_ROOT, 'node_modules/.bin/dockerfilelint'), ['-j'], { cwd: REPO_ROOT }, (err, stdout, stderr) => {
        // It exits 1 when it finds issues; the JSON says which.
        try {
          resolve((JSON.parse(stdout) as { files: { issues: { title: string; line: string }[] }[] }).files.flatMap((f) => f.issues));
        } catch {
          reject(new Error(`dockerfilelint failed: ${stderr || err?.message}`));
        }
      });
      child.stdin!.end(text);
    });

  it('finds no issue in the Dockerfile', async () => {
    expect(await lint(dockerfile)).toEqual([]);
  });

  it('finds the issues in a broken variant (so an empty answer means something)', async () => {
    const broken = dockerfile.replace('FROM scratch\n', 'FROM scratch\nMAINTAINER someone\n').replace('EXPOSE 8443 8080', 'EXPOSE 84430');
    expect((await lint(broken)).map((i) => i.title)).toEqual(expect.arrayContaining(['Invalid Port Exposed']));
  });
});
