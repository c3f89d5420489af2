// `portcullis serve` as a child process, as the kubelet or a user starts it: a serving
// certificate from a CA made at test time in a temporary directory, kernel-picked ports, the
// CLI run from src/ through a resolve hook (no build, never a stale dist/).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { freePort, makeCa, servingCert, type Pem } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface ServeProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** Holds tls.crt and tls.key; the caller removes it. */
  dir: string;
  ca: Pem;
  port: number;
  metricsPort: number;
}

export async function spawnServe(opts: { args: string[]; nodeFlags?: string[]; env?: NodeJS.ProcessEnv }): Promise<ServeProcess> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'portcullis-serve-'));
  const ca = await makeCa();
  const leaf = await servingCert(ca);
  await writeFile(path.join(dir, 'tls.crt'), leaf.cert);
  await writeFile(path.join(dir, 'tls.key'), leaf.key);
  const [port, metricsPort] = [await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [
      ...(opts.nodeFlags ?? []),
      '--experimental-transform-types',
      '--disable-warning=ExperimentalWarning',
      '--import',
      path.join(ROOT, 'test/webhook/ts-loader.mjs'),
      'src/cmd/cli.ts',
      'serve',
      ...['--port', String(port), '--metrics-port', String(metricsPort), '--tls-cert', path.join(dir, 'tls.crt'), '--tls-key', path.join(dir, 'tls.key')],
      ...opts.args,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env },
  );
  return { child, dir, ca, port, metricsPort };
}
