// `npm run bench:audit`: the controller's first full audit of a cluster at Kubernetes' published
// scale limits (150,000 pods on 5,000 nodes, 10,000 Services, plus network policies), served
// by the test API server in its own process. Prints the time to a complete first report set
// and the controller's peak RSS. Aims (docs/benchmarks.md): under 60 s and under 300 MB.
// `npm run bench:audit -- '{"nodes":500}'` runs a smaller cluster (any field of ClusterShape).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CONTROLLER_NODE_OPTIONS } from '../src/config/controller.js';

// The controller runs with the V8 flags its Deployment sets in NODE_OPTIONS;
// CONTROLLER_NODE_FLAGS='' measures V8's defaults instead.
const CONTROLLER_NODE_FLAGS = (process.env.CONTROLLER_NODE_FLAGS ?? CONTROLLER_NODE_OPTIONS).split(' ').filter(Boolean);
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = process.cwd();
const shapeArg = process.argv[2] ?? '';

const server = spawn(process.execPath, ['--max-old-space-size=6144', path.join(here, 'audit-apiserver.js'), shapeArg], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const seedStart = performance.now();
const lines = createInterface({ input: server.stdout });
const [ready] = (await once(lines, 'line')) as [string];
const [, url, pods, objects] = ready.split(' ');
process.stderr.write(`API server ready at ${url} with ${objects} objects (${pods} pods), seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s\n`);

const dir = await mkdtemp(path.join(tmpdir(), 'portcullis-bench-'));
const kubeconfig = path.join(dir, 'kubeconfig');
await writeFile(
  kubeconfig,
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'bench', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'bench', user: {} }],
    contexts: [{ name: 'bench', context: { cluster: 'bench', user: 'bench' } }],
    'current-context': 'bench',
  }),
);

try {
  // --expose-gc only lets the controller measure its retained heap after the run.
  const controller = spawn(
    process.execPath,
    ['--expose-gc', ...CONTROLLER_NODE_FLAGS, path.join(here, 'audit-controller.js'), kubeconfig, path.join(repo, 'policies/default.yaml')],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  controller.stdout.on('data', (d) => (out += d));
  const [code] = await once(controller, 'exit');
  if (code !== 0) throw new Error(`controller exited with ${code}`);
  const r = JSON.parse(out.trim().split('\n').at(-1)!);
  const mb = (b: number) => (b / 1024 / 1024).toFixed(0);
  const rows = [
    ['objects served', objects],
    ['pods', pods],
    ['caches synced (list of every kind)', `${r.syncSeconds.toFixed(1)} s`],
    ['first complete report set', `${r.firstReportSetSeconds.toFixed(1)} s (aim < 60 s)`],
    ['controller peak RSS', `${mb(r.peakRssBytes)} MB (aim < 300 MB)`],
    ['controller heap retained after the first report set', `${mb(r.heapUsedBytes)} MB`],
    ['peak RSS reached at', `${r.peakAtSeconds.toFixed(1)} s`],
    ['reports written', r.reportsWritten],
    ['scopes audited', r.scopes],
    ['objects cached', Object.values(r.cached as Record<string, number>).reduce((a, b) => a + b, 0)],
    ['findings', JSON.stringify(r.findings)],
  ];
  const w = Math.max(...rows.map(([k]) => String(k).length));
  process.stdout.write(`controller node flags: ${CONTROLLER_NODE_FLAGS.join(' ') || '(V8 defaults)'}\n`);
  for (const [k, v] of rows) process.stdout.write(`${String(k).padEnd(w)}  ${v}\n`);
  process.stdout.write(`cached per kind: ${JSON.stringify(r.cached)}\n`);
  process.stdout.write(
    `memory at the sampled peak (MB): ${JSON.stringify(Object.fromEntries(Object.entries(r.atPeak ?? {}).map(([k, v]) => [k, Math.round(Number(v) / 1048576)])))}\n`,
  );
} finally {
  server.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
}
