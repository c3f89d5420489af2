// `npm run bench:webhook`: drives POST /validate over TLS with the sample AdmissionReviews
// of examples/admission (a 3-container pod, a multi-port Service, network policies, and
// violating variants) at 16 and 64 connections. Each server runs in its own process pinned
// to CPU 0; this process (autocannon) runs on CPU 1 (the npm script pins it). Baselines in
// the same run: a bare node:https server and an empty express 5 app, both parsing the body
// and answering allowed: true. Loopback only; each run is bounded (--duration, default 10 s).
//
// Besides req/s (which on a shared machine also measures how much of CPU 0 the server got),
// it reports the server's CPU time per request from /proc/<pid>/stat, which does not depend
// on what else runs. All three servers run with the same Node flags (--node-flags).
//
//   node bench/webhook.ts [--duration 10] [--connections 16,64] [--warmup 3] [--node-flags "--max-semi-space-size=4"]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generate } from 'selfsigned';

interface Latency {
  p50: number;
  p99: number;
  p99_9: number;
}
interface Result {
  requests: { average: number };
  latency: Latency;
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<Result>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const ROOT = path.resolve(import.meta.dirname, '..');
const REVIEWS = [
  'pod-3-containers',
  'pod-hostport-kubelet',
  'service-multiport',
  'service-nodeport-out-of-range',
  'networkpolicy-dns',
  'networkpolicy-kubelet-egress',
];

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '16,64' },
    // On a 24 GiB machine V8 lets the young generation grow to 64 MiB and the old one far
    // past the working set before collecting; in a pod Node sizes its heap from the memory
    // limit. These flags (the ones recommended for the pod, see docs/operations.md, "Memory") put
    // every server in the same pod-sized heap; they cost no measurable CPU here, and six
    // concurrent 6.5 MB reviews still fit.
    'node-flags': { type: 'string', default: '--max-semi-space-size=4 --max-old-space-size=256' },
  },
});
const nodeFlags = values['node-flags'].split(' ').filter(Boolean);
const duration = Number(values.duration);
const warmup = Number(values.warmup);
const connectionCounts = values.connections.split(',').map(Number);

interface Target {
  name: string;
  command: (port: number, metricsPort: number, cert: string, key: string) => string[];
  ready: (port: number, metricsPort: number) => Promise<boolean>;
}

const tcpReady = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.end();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });

const TARGETS: Target[] = [
  { name: 'bare node:https', command: (p, _m, c, k) => ['bench/webhook-baseline-https.ts', String(p), c, k], ready: (p) => tcpReady(p) },
  { name: 'empty express 5', command: (p, _m, c, k) => ['bench/webhook-baseline-express.ts', String(p), c, k], ready: (p) => tcpReady(p) },
  {
    name: 'portcullis serve',
    command: (p, m, c, k) => [
      'dist/cmd/cli.js',
      'serve',
      '--port',
      String(p),
      '--metrics-port',
      String(m),
      '--tls-cert',
      c,
      '--tls-key',
      k,
      '--policy',
      'examples/policies',
    ],
    ready: (_p, m) =>
      fetch(`http://127.0.0.1:${m}/readyz`).then(
        (r) => r.ok,
        () => false,
      ),
  },
];

/** Peak resident set size of a process (VmHWM), in MiB. */
async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** CPU time (user + system) a process has used, in ms; /proc/<pid>/stat fields 14 and 15 are in clock ticks (100 per second). */
async function cpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function startTarget(t: Target, port: number, cert: string, key: string): Promise<ChildProcess> {
  // The decision log goes where a container's stdout goes: a pipe that is read; here /dev/null.
  const child = spawn('taskset', ['-c', '0', process.execPath, ...nodeFlags, ...t.command(port, port + 1, cert, key)], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 200; i++) {
    if (await t.ready(port, port + 1)) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`${t.name} did not become ready`);
}

async function main() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'portcullis-bench-'));
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  const cert = path.join(dir, 'tls.crt');
  const key = path.join(dir, 'tls.key');
  await writeFile(cert, pems.cert);
  await writeFile(key, pems.private);
  const bodies = await Promise.all(REVIEWS.map((r) => readFile(path.join(ROOT, 'examples/admission', `${r}.json`), 'utf8')));
  const requests = bodies.map((body) => ({ method: 'POST', path: '/validate', body, headers: { 'content-type': 'application/json' } }));
  const meanBody = Math.round(bodies.reduce((n, b) => n + b.length, 0) / bodies.length);
  console.log(
    `node ${process.version} ${nodeFlags.join(' ')}, ${os.cpus()[0].model}, load average ${os.loadavg()[0].toFixed(1)}; bodies: ${REVIEWS.length} AdmissionReviews, mean ${meanBody} bytes; ${duration} s per run after ${warmup} s warm-up`,
  );

  const rows: { target: string; connections: number; rps: number; cpuUs: number; p50: number; p99: number; p999: number; rss: number; bad: number }[] = [];
  let port = 19443;
  for (const connections of connectionCounts) {
    for (const t of TARGETS) {
      port += 2;
      const child = await startTarget(t, port, cert, key);
      try {
        const url = `https://localhost:${port}`;
        if (warmup > 0) await autocannon({ url, connections, duration: warmup, requests });
        const cpuBefore = await cpuMs(child.pid!);
        const r = await autocannon({ url, connections, duration, requests });
        const cpuUs = (((await cpuMs(child.pid!)) - cpuBefore) * 1000) / (r.requests.average * duration);
        const rss = await peakRssMiB(child.pid!);
        rows.push({
          target: t.name,
          connections,
          rps: r.requests.average,
          cpuUs,
          p50: r.latency.p50,
          p99: r.latency.p99,
          p999: r.latency.p99_9,
          rss,
          bad: r.non2xx + r.errors + r.timeouts,
        });
        console.log(
          `  ${t.name} @ ${connections}: ${Math.round(r.requests.average)} req/s, ${cpuUs.toFixed(0)} µs CPU/req, p99 ${r.latency.p99} ms, peak RSS ${rss.toFixed(0)} MiB`,
        );
      } finally {
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
      }
    }
  }
  await rm(dir, { recursive: true, force: true });

  const header =
    '| server | conns | req/s | CPU µs/req | p50 ms | p99 ms | p99.9 ms | peak RSS MiB | failed | req/s vs express | CPU/req: express ÷ this | p99 vs express | RSS vs express |';
  const lines = [header, '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'];
  for (const row of rows) {
    const base = rows.find((r) => r.target === 'empty express 5' && r.connections === row.connections)!;
    lines.push(
      `| ${row.target} | ${row.connections} | ${Math.round(row.rps)} | ${row.cpuUs.toFixed(0)} | ${row.p50} | ${row.p99} | ${row.p999} | ${row.rss.toFixed(0)} | ${row.bad} | ${(row.rps / base.rps).toFixed(2)} | ${(base.cpuUs / row.cpuUs).toFixed(2)} | ${(row.p99 / base.p99).toFixed(2)} | ${(row.rss / base.rss).toFixed(2)} |`,
    );
  }
  console.log(`\n${lines.join('\n')}\n`);
  console.log(
    'Aims for portcullis vs the empty express app: throughput >= 0.85 (req/s, and CPU per request as express ÷ portcullis), p99 <= 1.5 (16 connections), peak RSS <= 1.25.',
  );
  if (rows.some((r) => r.bad > 0)) {
    console.error('Some requests failed: the numbers above are not valid.');
    process.exitCode = 1;
  }
}

await main();
