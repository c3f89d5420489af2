// A policy path that yields no PortPolicy must never load as "no policies": that set allows
// everything. Each case below is a way an admin gets there, mounted the way the kubelet mounts
// a ConfigMap (a ..data symlink to a timestamped directory, one symlink per key). Every door
// refuses it: the loader, `serve` and `controller` at start and `scan --policy` exit 2, and a
// running webhook refuses a reload to it and keeps the last good set.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadPolicyPaths, formatPolicyError } from '../../src/sources/policy-files.js';
import { startHarness, TEST_POLICY, type Harness } from '../webhook/harness.js';
import { webPod } from '../webhook/objects.js';
import { admissionReview } from '../webhook/reviews.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = [
  '--experimental-transform-types',
  '--disable-warning=ExperimentalWarning',
  '--import',
  path.join(ROOT, 'test/webhook/ts-loader.mjs'),
  'src/cmd/cli.ts',
];

const CONFIG_MAP = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: portcullis-policy\ndata:\n  policy.yaml: ""\n';

/** Each way to a policy directory with no PortPolicy in it, and what the error must say. */
const EMPTY_SETS: { name: string; files: Record<string, string>; error: RegExp }[] = [
  {
    // kubectl create configmap portcullis-policy --from-file=policy=policy.yaml: the key is the file name.
    name: 'a ConfigMap key without .yaml',
    files: { policy: TEST_POLICY },
    error:
      /\/policy: no policy file: it holds policy, none of them \*\.yaml, \*\.yml or \*\.json\. .*a ConfigMap key is the file name, so it must end in \.yaml/,
  },
  {
    name: 'a ConfigMap with no keys',
    files: {},
    error: /\/policy: no policy file: it is empty\. A policy directory must hold \*\.yaml, \*\.yml or \*\.json files with PortPolicy documents/,
  },
  {
    name: 'a policy file with comments only',
    files: { 'policy.yaml': '# the policy goes here\n---\n' },
    error: /\/policy: no PortPolicy here: its file holds no YAML document\. Expected at least one document with kind: PortPolicy/,
  },
  {
    name: 'another kind of object only',
    files: { 'policy.yaml': CONFIG_MAP },
    error: /\/policy\.yaml:2: kind: a ConfigMap is not a PortPolicy; a policy file holds only PortPolicy documents/,
  },
];

/** What the kubelet's atomic writer does for a ConfigMap volume: new data, ..data swapped, stale keys removed. */
async function mountConfigMap(dir: string, files: Record<string, string>, generation: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  const stamp = `..2026_12_06_08_00_00.${generation}`;
  await mkdir(path.join(dir, stamp));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, stamp, name), text);
  await symlink(stamp, path.join(dir, '..data_tmp'));
  await rename(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
  for (const name of await readdir(dir)) if (!name.startsWith('.') && !(name in files)) await unlink(path.join(dir, name));
  for (const name of Object.keys(files)) {
    await symlink(path.join('..data', name), path.join(dir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'portcullis-empty-set-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

async function mounted(files: Record<string, string>): Promise<string> {
  const dir = path.join(await mkdtemp(path.join(tmp, 'case-')), 'policy');
  await mountConfigMap(dir, files, 0);
  return dir;
}

/** Runs the CLI from src/ to its exit; a process still running after the deadline is killed and fails the test. */
function runCli(args: string[], deadlineMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`portcullis ${args.join(' ')} still running after ${deadlineMs} ms\n${stdout}\n${stderr}`));
    }, deadlineMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('a policy path that yields no PortPolicy', () => {
  it.each(EMPTY_SETS)('loader: $name is an error naming the path', async ({ files, error }) => {
    const loaded = await loadPolicyPaths([await mounted(files)]);
    expect(loaded.policies).toEqual([]);
    expect(loaded.errors.map(formatPolicyError)).toEqual([expect.stringMatching(error)]);
  });

  it('loader: every path must yield a PortPolicy, not just the set as a whole', async () => {
    const good = await mounted({ 'policy.yaml': TEST_POLICY });
    const empty = await mounted({ policy: TEST_POLICY });
    const loaded = await loadPolicyPaths([good, empty]);
    expect(loaded.errors.map(formatPolicyError)).toEqual([expect.stringMatching(EMPTY_SETS[0].error)]);
  });

  it.each(EMPTY_SETS)(
    'serve: $name exits 2 at start with the error',
    async ({ files, error }) => {
      const r = await runCli(['serve', '--port', '0', '--metrics-port', '0', '--policy', await mounted(files)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^portcullis: the policy does not load:\n/);
      expect(r.stderr).toMatch(error);
      expect(r.stdout).not.toContain('"serving"');
    },
    30_000,
  );

  it.each(EMPTY_SETS)(
    'scan --policy: $name exits 2 with the error',
    async ({ files, error }) => {
      const manifest = path.join(tmp, `pod-${Math.random().toString(36).slice(2)}.yaml`);
      await writeFile(manifest, JSON.stringify(webPod({ hostPorts: { metrics: 10250 } })));
      const r = await runCli(['scan', '--policy', await mounted(files), manifest]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(error);
      expect(r.stdout).toBe('');
    },
    30_000,
  );

  it.each(EMPTY_SETS)(
    'controller: $name exits 2 before it connects to a cluster',
    async ({ files, error }) => {
      // No kubeconfig at all: the policy is checked first, so the error is the policy's.
      const r = await runCli(['controller', '--metrics-port', '0', '--policy', await mounted(files)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(error);
      expect(r.stderr).not.toContain('Kubernetes client');
    },
    30_000,
  );

  describe('reload of a running webhook', () => {
    const violating = () => admissionReview({ object: webPod({ hostPorts: { metrics: 10250 } }), uid: 'kept' });
    let h: Harness;
    beforeEach(async () => {
      // The watchers never fire during the test: each reload is the one the test asks for.
      h = await startHarness({ config: { reloadDebounceMs: 600_000, reloadPollMs: 600_000 } });
      await mountConfigMap(h.policyDir, { 'policy.yaml': TEST_POLICY }, 1);
    });
    afterEach(() => h.close());

    it.each(EMPTY_SETS)('$name is refused, logged at error, counted, and the last good set stays', async ({ files, error }) => {
      expect((await h.post('/validate', violating())).json.response.allowed).toBe(false);
      await mountConfigMap(h.policyDir, files, 2);

      const r = await h.server.reloadPolicies();
      expect(r).toEqual({ changed: true, ok: false, errors: [expect.stringMatching(error)] });
      const line = h.logs.find((l) => l.msg === 'policy reload refused; the last good policy stays in force');
      expect(line).toMatchObject({ level: 'error', component: 'policy', errors: [expect.stringMatching(error)] });
      expect((await h.ops('/metrics')).text.split('\n')).toContain('portcullis_policy_reloads_total{result="failure"} 1');
      expect((await h.post('/validate', violating())).json.response).toMatchObject({ uid: 'kept', allowed: false });
      expect((await h.ops('/readyz')).status).toBe(200);
      // The same bad set is not counted twice.
      expect(await h.server.reloadPolicies()).toEqual({ changed: false });
    });
  });
});
