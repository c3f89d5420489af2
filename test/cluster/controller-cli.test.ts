// `portcullis controller` as a process: started with a kubeconfig file and --context against
// the test API server over HTTPS, it writes reports; a SIGTERM hands the Lease over and it exits 0. The
// CLI runs from src/ through the webhook tests' resolve hook, so no build is needed.
import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { namespace, pod } from '../support/cluster-objects.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { makeCa, servingCert } from '../webhook/harness.js';
import { waitFor } from '../support/wait.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const NODE_ARGS = [
  '--experimental-transform-types',
  '--disable-warning=ExperimentalWarning',
  '--import',
  path.join(ROOT, 'test/webhook/ts-loader.mjs'),
  'src/cmd/cli.ts',
];
const LEASE = ['coordination.k8s.io/v1', 'Lease', 'portcullis-system', 'portcullis-controller'] as const;

let fake: FakeApiServer;
let dir: string;
let kubeconfig: string;
const children: ChildProcess[] = [];
/** The controllers' own pids (from their log lines): under a shell, not the child's. */
const pids = new Set<number>();

beforeEach(async () => {
  // HTTPS with a CA made here: the kubeconfig carries it as certificate-authority-data, as kind writes it.
  const ca = await makeCa();
  fake = await FakeApiServer.start({ tls: { ...(await servingCert(ca)), ca: ca.cert } });
  fake.put(namespace('shop'));
  fake.put(pod('shop', 'debug', [{ containerPort: 10250, hostPort: 10250 }]));
  dir = await mkdtemp(path.join(os.tmpdir(), 'portcullis-controller-cli-'));
  // The current context points nowhere: only --context reaches the test API server.
  const config = JSON.parse(fake.kubeconfig({ context: 'test' }));
  config.clusters.push({ name: 'nowhere', cluster: { server: 'https://127.0.0.1:1' } });
  config.contexts.push({ name: 'nowhere', context: { cluster: 'nowhere', user: 'user' } });
  config['current-context'] = 'nowhere';
  kubeconfig = path.join(dir, 'kubeconfig');
  await writeFile(kubeconfig, JSON.stringify(config));
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const pid of pids) {
    try {
      // Only if the pid is still this test's controller (not reused by another process).
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('src/cmd/cli.ts')) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  pids.clear();
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

function run(wrapInShell: boolean, metricsPort = 0) {
  const args = [...NODE_ARGS, 'controller', '--context', 'test', '--metrics-port', String(metricsPort)];
  const env = { ...process.env, KUBECONFIG: kubeconfig };
  // `; true` keeps the shell from exec'ing node: it stays the parent, as under npx.
  const child = wrapInShell
    ? spawn('sh', ['-c', `${[process.execPath, ...args].map((a) => `'${a}'`).join(' ')}; true`], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
    for (const m of String(d).matchAll(/"pid":(\d+)/g)) pids.add(Number(m[1]));
  });
  child.stderr.on('data', (d) => (output += d));
  return { child, output: () => output };
}

const reportFailures = () => fake.get('wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'shop', 'portcullis-shop')?.summary?.fail;

it('writes reports with --context, and on SIGTERM releases the Lease and exits 0', async () => {
  const { child, output } = run(false);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await waitFor('report written', () => reportFailures() === 1, 15_000).catch((err) => {
    throw new Error(`${err.message}\n${output()}`);
  });
  expect(fake.get(...LEASE)?.spec.holderIdentity).toMatch(/.+/);
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(fake.get(...LEASE)?.spec.holderIdentity).toBe('');
  expect(output()).toContain('released the lease');
  // One log shape with the webhook: ISO-8601 time, the level by name.
  const lines = output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { time: unknown; level: unknown });
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) {
    expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).toContain(line.level);
  }
}, 30_000);

it('hands the Lease over when the shell that started it (npx) is terminated', async () => {
  const { child, output } = run(true);
  await waitFor('report written', () => reportFailures() === 1, 15_000).catch((err) => {
    throw new Error(`${err.message}\n${output()}`);
  });
  child.kill('SIGTERM'); // the shell: it dies without passing the signal on
  await waitFor('lease released', () => fake.get(...LEASE)?.spec.holderIdentity === '').catch((err) => {
    throw new Error(`${err.message}\n${output()}`);
  });
}, 30_000);

it('a --metrics-port in use is a usage error naming it (exit 2, no stack), and the controller it started is stopped', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '0.0.0.0', resolve));
  try {
    const port = (taken.address() as AddressInfo).port;
    const { child, output } = run(false, port);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect([code, output()]).toEqual([
      2,
      expect.stringContaining(`portcullis: cannot listen on 0.0.0.0:${port} for /healthz, /readyz and /metrics (HTTP): EADDRINUSE\n`),
    ]);
    expect(output()).not.toContain('internal error');
    // Whatever it had taken of the Lease is handed back.
    expect(fake.get(...LEASE)?.spec.holderIdentity ?? '').toBe('');
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
}, 30_000);
