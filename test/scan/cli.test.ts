// The built CLI as a user runs it: exit statuses, stderr lines, stdout. Builds dist/ first when
// any source file is newer than it, so the test never runs stale code.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'dist/cmd/cli.js');

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.ts')) newest = Math.max(newest, (await stat(path.join(e.parentPath, e.name))).mtimeMs);
  }
  return newest;
}

async function buildIfStale(): Promise<void> {
  const built = await stat(CLI).then((s) => s.mtimeMs, () => 0);
  if (built < (await newestMtime(path.join(ROOT, 'src')))) {
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
  }
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], opts: { cwd: string; input?: string }): Run {
  const r = spawnSync(process.execPath, [CLI, 'scan', ...args], { cwd: opts.cwd, input: opts.input ?? '', encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const POD_HOSTPORT_10250 = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: grabber\nspec:\n  containers:\n  - name: c\n    image: x\n    ports:\n    - {containerPort: 80, hostPort: 10250}\n';
const CLEAN_SERVICE = 'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  ports: [{port: 80}]\n';
const policyWith = (action: string) =>
  `apiVersion: portcullis.dev/v1alpha1\nkind: PortPolicy\nmetadata: {name: p-${action}}\nspec:\n  rules:\n    hostport-reserved: ${action}\n`;

describe('portcullis scan (built CLI)', () => {
  let dir: string;
  beforeAll(async () => {
    await buildIfStale();
    dir = await mkdtemp(path.join(tmpdir(), 'portcullis-cli-'));
    const files: Record<string, string> = {
      'clean.yaml': CLEAN_SERVICE,
      'bad.yaml': POD_HOSTPORT_10250,
      'corrupt.yaml': `${CLEAN_SERVICE}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [oops\n---\n${POD_HOSTPORT_10250}`,
      'noname.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {namespace: x}\n',
      'policies/warn.yaml': policyWith('warn'),
      'policies/audit.yaml': policyWith('audit'),
      'policies/broken.yaml': '# a policy with a typo in an action\napiVersion: portcullis.dev/v1alpha1\nkind: PortPolicy\nmetadata: {name: broken}\nspec:\n  rules:\n    hostport-reserved: block\n',
    };
    await mkdir(path.join(dir, 'policies'));
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each([
    { name: 'clean input exits 0', args: ['clean.yaml'], status: 0, stderr: [] },
    { name: 'a deny finding exits 1', args: ['bad.yaml'], status: 1, stderr: [] },
    { name: '--fail-on never exits 0 with findings', args: ['bad.yaml', '--fail-on', 'never'], status: 0, stderr: [] },
    { name: 'a warn finding passes --fail-on deny', args: ['bad.yaml', '--policy', 'policies/warn.yaml'], status: 0, stderr: [] },
    { name: 'a warn finding fails --fail-on warn', args: ['bad.yaml', '--policy', 'policies/warn.yaml', '--fail-on', 'warn'], status: 1, stderr: [] },
    { name: 'an audit finding passes --fail-on warn', args: ['bad.yaml', '--policy', 'policies/audit.yaml', '--fail-on', 'warn'], status: 0, stderr: [] },
    { name: 'an audit finding fails --fail-on audit', args: ['bad.yaml', '--policy', 'policies/audit.yaml', '--fail-on', 'audit'], status: 1, stderr: [] },
    {
      name: 'a bad policy file is one line file:line: field: message, exit 2',
      args: ['clean.yaml', '--policy', 'policies/broken.yaml'],
      status: 2,
      stderr: [expect.stringMatching(/^policies\/broken\.yaml:7: spec\.rules\.hostport-reserved: must be one of "deny", "warn", "audit", "off"$/)],
    },
    {
      name: 'an unreadable path exits 2 and the other paths are still scanned',
      args: ['missing.yaml', 'clean.yaml', '--format', 'json'],
      status: 2,
      stderr: ['missing.yaml: cannot read: no such file or directory (ENOENT)'],
    },
    {
      name: 'corrupt YAML is one line with its line, exit 2 even with deny findings (2 wins)',
      args: ['corrupt.yaml', '--format', 'json'],
      status: 2,
      stderr: [expect.stringMatching(/^corrupt\.yaml:10: invalid YAML: .+ \(in the document at line 7\)$/)],
    },
    {
      name: 'an object without a name is an input error',
      args: ['noname.yaml', '--format', 'json'],
      status: 2,
      stderr: ['noname.yaml:1: Service has neither metadata.name nor metadata.generateName'],
    },
    { name: 'no paths is a usage error', args: [], status: 2, stderr: ['portcullis: scan: give files or directories to scan, - for stdin, or --cluster'] },
    {
      name: '--namespace without --cluster is a usage error',
      args: ['clean.yaml', '--namespace', 'x'],
      status: 2,
      stderr: ['portcullis: scan: --context, --namespace and --all-namespaces need --cluster'],
    },
    { name: 'an unknown format is a usage error', args: ['clean.yaml', '--format', 'yaml'], status: 2, stderr: [expect.stringMatching(/^error: option '--format <format>' argument 'yaml' is invalid/)] },
  ])('$name', ({ args, status, stderr }) => {
    const r = run(args, { cwd: dir });
    expect({ status: r.status, stderr: r.stderr.split('\n').filter(Boolean) }).toEqual({ status, stderr });
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('lists input errors in the table on stdout, not again on stderr', () => {
    const r = run(['corrupt.yaml', 'missing.yaml'], { cwd: dir });
    expect({ status: r.status, stderr: r.stderr, errorLines: r.stdout.split('\n').filter((l) => /^\s+(corrupt|missing)\.yaml:/.test(l)).length }).toEqual({
      status: 2,
      stderr: '',
      errorLines: 2,
    });
  });

  it('reads stdin with - and names it <stdin> in the json report', () => {
    const r = run(['-', '--format', 'json', '--default-namespace', 'ci'], { cwd: dir, input: `---\n# Source: chart/templates/pod.yaml\n${POD_HOSTPORT_10250}` });
    const report = JSON.parse(r.stdout);
    expect({ status: r.status, findings: report.findings.map((f: { source: unknown; resource: { namespace: string }; path: string }) => [f.source, f.resource.namespace, f.path]) }).toEqual({
      status: 1,
      findings: [[{ file: '<stdin>', line: 3 }, 'ci', 'spec.containers[0].ports[0].hostPort']],
    });
  });

  it('finds a label-chosen tenant from a Namespace that comes after the objects in it', async () => {
    const policy = path.join(dir, 'policies', 'labels.yaml');
    await writeFile(
      policy,
      'apiVersion: portcullis.dev/v1alpha1\nkind: PortPolicy\nmetadata: {name: labels}\nspec:\n  tenants:\n  - name: blue\n    namespaceSelector: {matchLabels: {team: blue}}\n    allowedHostPorts: []\n',
    );
    const input = `${POD_HOSTPORT_10250.replace('name: grabber', 'name: grabber\n  namespace: apps')}---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n  labels: {team: blue}\n`;
    const r = run(['-', '--policy', policy, '--format', 'json'], { cwd: dir, input });
    const report = JSON.parse(r.stdout);
    expect(report.findings.map((f: { rule: string; tenant: string | null }) => `${f.rule} ${f.tenant}`)).toEqual(['hostport-reserved blue', 'hostport-not-allowed blue']);
  });

  it('writes --output to the file, not stdout', async () => {
    const out = path.join(dir, 'report.json');
    const r = run(['bad.yaml', 'corrupt.yaml', '--format', 'json', '--output', out], { cwd: dir });
    const report = JSON.parse(await readFile(out, 'utf8'));
    expect({ status: r.status, stdout: r.stdout, summary: report.summary, errors: report.errors.map((e: { file: string; line: number }) => `${e.file}:${e.line}`) }).toEqual({
      status: 2,
      stdout: '',
      summary: { resources: 3, skipped: 0, errors: 1, findings: { deny: 2, warn: 0, audit: 0 } },
      errors: ['corrupt.yaml:10'],
    });
  });

  it('scans the shipped examples with the example policy: tenants by name and by label', () => {
    const r = run(['examples/', '--policy', 'examples/policies', '--format', 'json'], { cwd: ROOT });
    const report = JSON.parse(r.stdout);
    const got = report.findings.map((f: { rule: string; action: string; tenant: string | null; resource: { namespace: string; name: string }; path: string }) =>
      [f.rule, f.action, f.tenant, `${f.resource.namespace}/${f.resource.name}`, f.path].join(' '),
    );
    expect({ status: r.status, errors: report.errors, got }).toEqual({
      status: 1,
      errors: [],
      got: [
        'netpol-sensitive-exposure deny team-a team-a/allow-kubelet-egress spec.egress[0]',
        'hostport-reserved deny team-a team-a-staging/log-agent spec.template.spec.containers[0].ports[0].hostPort',
        'hostport-not-allowed warn team-a team-a-staging/log-agent spec.template.spec.containers[0].ports[0].hostPort',
        'hostport-reserved deny team-a team-a-staging/log-agent spec.template.spec.containers[0].ports[1].hostPort',
        'hostport-not-allowed warn team-a team-a-staging/log-agent spec.template.spec.containers[0].ports[1].hostPort',
        'nodeport-range deny team-a team-a/web-debug spec.ports[0].nodePort',
        'netpol-sensitive-exposure deny team-b games/scrape-kubelet spec.egress[0]',
        'hostport-reserved deny team-b games/game-server spec.template.spec.containers[0].ports[0].hostPort',
        'hostport-not-allowed warn team-b games/game-server spec.template.spec.containers[0].ports[0].hostPort',
        'hostport-reserved deny team-b games/game-server spec.template.spec.containers[0].ports[1].hostPort',
        'hostport-not-allowed warn team-b games/game-server spec.template.spec.containers[0].ports[1].hostPort',
        'hostport-not-allowed warn team-b games/net-debug spec.hostNetwork',
        'nodeport-range deny team-b games/matchmaker spec.ports[0].nodePort',
      ],
    });
  });

  it('scans the examples with the shipped default: kube-system and metrics-server are not flagged', () => {
    const r = run(['examples/', '--format', 'json'], { cwd: ROOT });
    const report = JSON.parse(r.stdout);
    const namespaces = new Set(report.findings.map((f: { resource: { namespace: string } }) => f.resource.namespace));
    expect({ status: r.status, errors: report.errors, kubeSystem: namespaces.has('kube-system'), monitoring: namespaces.has('monitoring') }).toEqual({
      status: 1,
      errors: [],
      kubeSystem: false,
      monitoring: false,
    });
  });
});
