// A real webhook server for the tests: a CA made at test time, a serving certificate it
// signs, policy files in a temporary directory, logs captured as parsed JSON lines, and an
// undici client that trusts the CA (the API server's caBundle).
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';
import { Agent, fetch } from 'undici';
import type { ClusterView } from '../../src/cluster/view.js';
import { SERVE_DEFAULTS, type ServeConfig } from '../../src/config/serve.js';
import { createLogger } from '../../src/server/logger.js';
import { startServer, type RunningServer } from '../../src/server/server.js';

export interface Pem {
  cert: string;
  key: string;
}

export async function makeCa(): Promise<Pem> {
  const p = await generate([{ name: 'commonName', value: 'portcullis test CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true },
    ],
  });
  return { cert: p.cert, key: p.private };
}

/** A serving certificate for localhost and 127.0.0.1 signed by `ca`. */
export async function servingCert(ca: Pem): Promise<Pem> {
  const p = await generate([{ name: 'commonName', value: 'portcullis.portcullis-system.svc' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca,
    extensions: [
      { name: 'basicConstraints', cA: false },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { cert: p.cert, key: p.private };
}

export const TEST_POLICY = `
apiVersion: portcullis.dev/v1alpha1
kind: PortPolicy
metadata: {name: test-ports}
spec:
  rules:
    hostport-not-allowed: warn
    nodeport-not-allowed: audit
  remediation:
    netpolCarveOut: true
    dropOutOfRangeNodePort: true
  tenants:
    - name: team-a
      namespaces: ["team-a", "team-a-*"]
      nodePortRange: "30000-30039"
      allowedHostPorts: ["8080-8090"]
    - name: team-b
      namespaceSelector: {matchLabels: {tenant: team-b}}
      nodePortRange: "30040-30079"
    - name: team-c
      namespaces: ["team-c"]
      allowNodePorts: false
  exemptions:
    - namespaces: ["kube-system"]
      rules: ["hostport-reserved"]
      reason: "kube-system components own the node's reserved ports"
`;

export interface Reply {
  status: number;
  headers: Headers;
  json: any;
  text: string;
}

export interface Harness {
  dir: string;
  tlsDir: string;
  policyDir: string;
  ca: Pem;
  leaf: Pem;
  server: RunningServer;
  dispatcher: Agent;
  logs: Record<string, any>[];
  /** The same lines as written, for their sizes. */
  rawLogs: string[];
  url(endpoint: string): string;
  post(endpoint: string, body: unknown, opts?: { query?: string; headers?: Record<string, string>; raw?: boolean; signal?: AbortSignal }): Promise<Reply>;
  ops(pathname: string): Promise<Reply>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  policy?: string;
  config?: Partial<ServeConfig>;
  view?: ClusterView | null;
  clock?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  logLevel?: ServeConfig['logLevel'];
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'portcullis-webhook-test-'));
  const ca = await makeCa();
  const leaf = await servingCert(ca);
  const tlsDir = path.join(dir, 'tls');
  const policyDir = path.join(dir, 'policy');
  // Mounted the way the kubelet mounts the cert-manager Secret and the policy ConfigMap.
  await writeAtomic(tlsDir, { 'tls.crt': leaf.cert, 'tls.key': leaf.key, 'ca.crt': ca.cert }, 0);
  await writeAtomic(policyDir, { 'policy.yaml': opts.policy ?? TEST_POLICY }, 0);
  const logs: Record<string, any>[] = [];
  const rawLogs: string[] = [];
  const logger = createLogger(opts.logLevel ?? 'info', {
    write: (line: string) => {
      rawLogs.push(line);
      logs.push(JSON.parse(line));
    },
  });
  const config: ServeConfig = {
    ...SERVE_DEFAULTS,
    port: 0,
    metricsPort: 0,
    host: '127.0.0.1',
    tlsCert: path.join(tlsDir, 'tls.crt'),
    tlsKey: path.join(tlsDir, 'tls.key'),
    policyPaths: [policyDir],
    drainDelayMs: 0,
    gracePeriodMs: 5000,
    reloadDebounceMs: 20,
    ...opts.config,
  };
  const server = await startServer(config, { logger, view: opts.view ?? null, clock: opts.clock, sleep: opts.sleep, random: () => 0 });
  const dispatcher = new Agent({ connect: { ca: ca.cert } });
  const base = `https://localhost:${server.webhookPort}`;
  const read = async (res: Awaited<ReturnType<typeof fetch>>): Promise<Reply> => {
    const text = await res.text();
    let json: unknown = undefined;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON: the test asserts on text
    }
    return { status: res.status, headers: res.headers as unknown as Headers, json, text };
  };
  return {
    dir,
    tlsDir,
    policyDir,
    ca,
    leaf,
    server,
    dispatcher,
    logs,
    rawLogs,
    url: (endpoint) => `${base}${endpoint}`,
    async post(endpoint, body, o = {}) {
      const res = await fetch(`${base}${endpoint}${o.query ? `?${o.query}` : ''}`, {
        method: 'POST',
        body: o.raw ? (body as string) : JSON.stringify(body),
        headers: { 'content-type': 'application/json', ...o.headers },
        dispatcher,
        signal: o.signal,
      });
      return read(res);
    },
    async ops(pathname) {
      return read(await fetch(`http://127.0.0.1:${server.opsPort}${pathname}`));
    },
    async close() {
      await dispatcher.close();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The decoded JSON Patch of a response, or null. */
export function patchOf(response: { patch?: string; patchType?: string }): any[] | null {
  if (!response.patch) return null;
  expect(response.patchType).toBe('JSONPatch');
  return JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'));
}

/**
 * Writes files the way the kubelet updates a Secret or ConfigMap volume (AtomicWriter): a
 * new timestamped directory, a `..data_tmp` symlink to it renamed over `..data`, and
 * top-level symlinks `name -> ..data/name`.
 */
export async function writeAtomic(dir: string, files: Record<string, string>, generation: number): Promise<void> {
  const fs = await import('node:fs/promises');
  await fs.mkdir(dir, { recursive: true });
  const stamp = `..2026_11_25_18_00_00.${generation}`;
  await fs.mkdir(path.join(dir, stamp));
  for (const [name, text] of Object.entries(files)) await fs.writeFile(path.join(dir, stamp, name), text);
  await fs.symlink(stamp, path.join(dir, '..data_tmp'));
  await fs.rename(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
  for (const name of Object.keys(files)) {
    await fs.symlink(path.join('..data', name), path.join(dir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
}

/** Polls `check` until it returns true, or fails after `ms`. */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 3000): Promise<void> {
  const until = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > until) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A port free on 127.0.0.1 a moment ago, for a server the test starts as a child process. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
