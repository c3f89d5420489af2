// The built CLI as a user runs it: exit statuses, stderr lines, stdout. Builds dist/ first when
// any source file is newer than it, so the test never runs stale code.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

// A full build (tsc over src/) takes 20 s on an idle 2-core machine and over a minute on a
// busy one: a hook that may build gets that long, not jest's 30 s.
const BUILD_MS = 180_000;

async function buildIfStale(): Promise<void> {
  const built = await stat(CLI).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  // The build stamp (the commit, for `version`) is written by the build script: a dist/ without
  // it was built some other way.
  const stamped = await stat(path.join(ROOT, 'dist/build-stamp.json')).then(
    () => true,
    () => false,
  );
  if (!stamped || built < (await newestMtime(path.join(ROOT, 'src')))) {
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
  }
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The environment without the colour variables the caller's shell may have set. */
function plainEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { NO_COLOR: _n, FORCE_COLOR: _f, ...env } = process.env;
  return { ...env, ...extra };
}

function cli(args: string[], opts: { cwd: string; input?: string; env?: NodeJS.ProcessEnv }): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd,
    input: opts.input ?? '',
    encoding: 'utf8',
    env: opts.env ?? plainEnv({ NO_COLOR: '1' }),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const run = (args: string[], opts: { cwd: string; input?: string; env?: NodeJS.ProcessEnv }): Run => cli(['scan', ...args], opts);

const POD_HOSTPORT_10250 =
  'apiVersion: v1\nkind: Pod\nmetadata:\n  name: grabber\nspec:\n  containers:\n  - name: c\n    image: x\n    ports:\n    - {containerPort: 80, hostPort: 10250}\n';
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
      'policies/broken.yaml':
        '# a policy with a typo in an action\napiVersion: portcullis.dev/v1alpha1\nkind: PortPolicy\nmetadata: {name: broken}\nspec:\n  rules:\n    hostport-reserved: block\n',
    };
    await mkdir(path.join(dir, 'policies'));
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  }, BUILD_MS);
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
      stderr: ['portcullis: scan: --kubeconfig, --context, --namespace and --all-namespaces need --cluster'],
    },
    {
      name: 'an unknown format is a usage error',
      args: ['clean.yaml', '--format', 'yaml'],
      status: 2,
      stderr: ['portcullis: scan: --format yaml: no format yaml (available: table, json, sarif, junit, policyreport, openreports, html)'],
    },
    {
      name: 'an unknown format with a file is a usage error',
      args: ['clean.yaml', '-o', 'yml=out.yml'],
      status: 2,
      stderr: ['portcullis: scan: --format yml=out.yml: no format yml (available: table, json, sarif, junit, policyreport, openreports, html)'],
    },
    {
      name: 'two formats for stdout is a usage error',
      args: ['clean.yaml', '--format', 'json', '-o', 'sarif'],
      status: 2,
      stderr: ['portcullis: scan: formats json, sarif would all go to stdout; give the others a file (--format sarif=report.sarif)'],
    },
    {
      name: 'two reports to one file is a usage error',
      args: ['clean.yaml', '--format', 'json=out', '--format', 'sarif', '--output', 'out'],
      status: 2,
      stderr: ['portcullis: scan: two reports would be written to out'],
    },
    {
      name: 'an empty file after = is a usage error',
      args: ['clean.yaml', '--format', 'sarif='],
      status: 2,
      stderr: ['portcullis: scan: --format sarif=: give a file after = (sarif=report.out), or no = for stdout'],
    },
    {
      name: '--output when every format names its file is a usage error',
      args: ['clean.yaml', '--format', 'json=a.json', '--output', 'b.json'],
      status: 2,
      stderr: ['portcullis: scan: --output b.json is for the format given without a file, and every --format names its own'],
    },
    {
      name: '--stdin-filename without - is a usage error',
      args: ['clean.yaml', '--stdin-filename', 'x.yaml'],
      status: 2,
      stderr: ['portcullis: scan: --stdin-filename names what - reads: give - among the paths'],
    },
    {
      name: '--kubeconfig without --cluster is a usage error',
      args: ['clean.yaml', '--kubeconfig', 'k.yaml'],
      status: 2,
      stderr: ['portcullis: scan: --kubeconfig, --context, --namespace and --all-namespaces need --cluster'],
    },
    {
      name: 'a missing --kubeconfig file is a usage error',
      args: ['--cluster', '--kubeconfig', 'missing-kubeconfig.yaml'],
      status: 2,
      stderr: ['portcullis: scan --cluster: cannot configure the Kubernetes client: cannot read the kubeconfig missing-kubeconfig.yaml: ENOENT'],
    },
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
    const r = run(['-', '--format', 'json', '--default-namespace', 'ci'], {
      cwd: dir,
      input: `---\n# Source: chart/templates/pod.yaml\n${POD_HOSTPORT_10250}`,
    });
    const report = JSON.parse(r.stdout);
    expect({
      status: r.status,
      findings: report.findings.map((f: { source: unknown; resource: { namespace: string }; path: string }) => [f.source, f.resource.namespace, f.path]),
    }).toEqual({
      status: 1,
      findings: [[{ file: '<stdin>', line: 3 }, 'ci', 'spec.containers[0].ports[0].hostPort']],
    });
  });

  it('names stdin by --stdin-filename in every report: json source, sarif URI', () => {
    const input = POD_HOSTPORT_10250;
    const json = JSON.parse(run(['-', '--format', 'json', '--stdin-filename', 'chart/rendered.yaml'], { cwd: dir, input }).stdout);
    const sarif = JSON.parse(run(['-', '--format', 'sarif', '--stdin-filename', 'chart/rendered.yaml'], { cwd: dir, input }).stdout);
    const plain = JSON.parse(run(['-', '--format', 'sarif'], { cwd: dir, input }).stdout);
    expect({
      json: json.findings[0].source,
      sarif: sarif.runs[0].results[0].locations[0].physicalLocation.artifactLocation,
      plain: plain.runs[0].results[0].locations[0].physicalLocation.artifactLocation,
    }).toEqual({
      json: { file: 'chart/rendered.yaml', line: 1 },
      sarif: { uri: 'chart/rendered.yaml', uriBaseId: '%SRCROOT%' },
      plain: { uri: 'stdin', uriBaseId: '%SRCROOT%' },
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
    expect(report.findings.map((f: { rule: string; tenant: string | null }) => `${f.rule} ${f.tenant}`)).toEqual([
      'hostport-reserved blue',
      'hostport-not-allowed blue',
    ]);
  });

  it('writes --output to the file, not stdout', async () => {
    const out = path.join(dir, 'report.json');
    const r = run(['bad.yaml', 'corrupt.yaml', '--format', 'json', '--output', out], { cwd: dir });
    const report = JSON.parse(await readFile(out, 'utf8'));
    expect({
      status: r.status,
      stdout: r.stdout,
      summary: report.summary,
      errors: report.errors.map((e: { file: string; line: number }) => `${e.file}:${e.line}`),
    }).toEqual({
      status: 2,
      stdout: '',
      summary: { resources: 3, skipped: 0, skippedKinds: {}, errors: 1, findings: { deny: 2, warn: 0, audit: 0 } },
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
        // Omitted: the API server would allocate it from the whole range, outside team-b's slice.
        'nodeport-range deny team-b games/game-lb spec.ports[0].nodePort',
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

describe('portcullis scan: several reports in one run, colour', () => {
  let dir: string;
  beforeAll(async () => {
    await buildIfStale();
    dir = await mkdtemp(path.join(tmpdir(), 'portcullis-cli-out-'));
    await writeFile(path.join(dir, 'bad.yaml'), POD_HOSTPORT_10250);
  }, BUILD_MS);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes each --format/-o format=file to its file and the one without a file to stdout', async () => {
    const r = run(['bad.yaml', '--format', 'sarif=out.sarif', '-o', 'junit=out.xml', '--output-format', 'json=out.json', '--format', 'table'], { cwd: dir });
    const sarif = JSON.parse(await readFile(path.join(dir, 'out.sarif'), 'utf8'));
    const json = JSON.parse(await readFile(path.join(dir, 'out.json'), 'utf8'));
    const junit = await readFile(path.join(dir, 'out.xml'), 'utf8');
    expect({
      status: r.status,
      stderr: r.stderr,
      tableOnStdout: /hostport-reserved/.test(r.stdout) && !r.stdout.startsWith('{'),
      sarifResults: sarif.runs[0].results.length,
      jsonFindings: json.findings.length,
      junitFailures: /<testsuite [^>]*failures="1"/.test(junit),
    }).toEqual({ status: 1, stderr: '', tableOnStdout: true, sarifResults: 1, jsonFindings: 1, junitFailures: true });
  });

  it('writes --output for the format without a file, beside the formats with one', async () => {
    const r = run(['bad.yaml', '-o', 'json', '--output', 'main.json', '--format', 'sarif=side.sarif'], { cwd: dir });
    const json = JSON.parse(await readFile(path.join(dir, 'main.json'), 'utf8'));
    const sarif = JSON.parse(await readFile(path.join(dir, 'side.sarif'), 'utf8'));
    expect({ status: r.status, stdout: r.stdout, json: json.findings.length, sarif: sarif.version }).toEqual({
      status: 1,
      stdout: '',
      json: 1,
      sarif: '2.1.0',
    });
  });

  it('writes the other reports and exits 2 when one file cannot be written', async () => {
    const r = run(['bad.yaml', '--format', 'json=no-such-dir/out.json', '--format', 'sarif=ok.sarif'], { cwd: dir });
    const sarif = JSON.parse(await readFile(path.join(dir, 'ok.sarif'), 'utf8'));
    expect({ status: r.status, stderr: r.stderr, sarif: sarif.version }).toEqual({
      status: 2,
      stderr: 'no-such-dir/out.json: cannot write: ENOENT\n',
      sarif: '2.1.0',
    });
  });

  // stdout is a pipe here, as in CI: colour only when the environment or a flag asks for it.
  const ESC = '\x1b[';
  it.each<{ name: string; env: Record<string, string>; args: string[]; colour: boolean }>([
    { name: 'a pipe gets no colour', env: {}, args: [], colour: false },
    { name: 'FORCE_COLOR=1 colours a pipe', env: { FORCE_COLOR: '1' }, args: [], colour: true },
    { name: 'FORCE_COLOR=3 colours a pipe', env: { FORCE_COLOR: '3' }, args: [], colour: true },
    { name: 'FORCE_COLOR=0 does not (Node, chalk)', env: { FORCE_COLOR: '0' }, args: [], colour: false },
    { name: 'FORCE_COLOR=false does not', env: { FORCE_COLOR: 'false' }, args: [], colour: false },
    { name: 'NO_COLOR wins over FORCE_COLOR (picocolors)', env: { NO_COLOR: '1', FORCE_COLOR: '1' }, args: [], colour: false },
    { name: 'an empty NO_COLOR is unset (no-color.org)', env: { NO_COLOR: '', FORCE_COLOR: '1' }, args: [], colour: true },
    { name: '--color colours a pipe', env: {}, args: ['--color'], colour: true },
    { name: '--color wins over NO_COLOR', env: { NO_COLOR: '1' }, args: ['--color'], colour: true },
    { name: '--no-color wins over FORCE_COLOR', env: { FORCE_COLOR: '1' }, args: ['--no-color'], colour: false },
    { name: 'a file never gets colour, FORCE_COLOR or not', env: { FORCE_COLOR: '1' }, args: ['--output', 'table.txt'], colour: false },
  ])('$name', async ({ env, args, colour }) => {
    const r = run(['bad.yaml', ...args], { cwd: dir, env: plainEnv(env) });
    const text = args.includes('--output') ? await readFile(path.join(dir, 'table.txt'), 'utf8') : r.stdout;
    expect({ status: r.status, colour: text.includes(ESC), table: /hostport-reserved/.test(text) }).toEqual({ status: 1, colour, table: true });
  });
});

describe('portcullis version and completion (built CLI)', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  beforeAll(buildIfStale, BUILD_MS);

  it('--version and version -o json name the package version, a commit of this repository and the Node version', () => {
    const line = cli(['--version'], { cwd: ROOT });
    const json = cli(['version', '-o', 'json'], { cwd: ROOT });
    const info = JSON.parse(json.stdout) as { version: string; commit: string; modified: boolean; node: string };
    // The commit dist/ was built from: an object of this repository (HEAD or an ancestor, when
    // dist/ was built before the last commit that left src/ unchanged).
    const known = spawnSync('git', ['cat-file', '-e', `${info.commit}^{commit}`], { cwd: ROOT }).status === 0;
    expect({ status: [line.status, json.status], known, version: info.version, node: info.node, line: line.stdout }).toEqual({
      status: [0, 0],
      known: true,
      version: pkg.version,
      node: process.version,
      line: `portcullis ${pkg.version} (commit ${info.commit.slice(0, 12)}${info.modified ? ', modified' : ''}, node ${process.version})\n`,
    });
  });

  it('version prints the same as text', () => {
    const info = JSON.parse(cli(['version', '-o', 'json'], { cwd: ROOT }).stdout) as { commit: string; modified: boolean };
    const r = cli(['version'], { cwd: ROOT });
    expect({ status: r.status, stdout: r.stdout }).toEqual({
      status: 0,
      stdout: `portcullis ${pkg.version}\ncommit: ${info.commit}${info.modified ? ' (with uncommitted changes)' : ''}\nnode:   ${process.version}\n`,
    });
  });

  it.each([
    {
      name: 'an unknown shell',
      args: ['completion', 'powershell'],
      stderr: /^error: command-argument value 'powershell' is invalid for argument 'shell'\. Allowed choices are bash, zsh, fish\.$/,
    },
    { name: 'no shell', args: ['completion'], stderr: /^error: missing required argument 'shell'$/ },
    {
      name: 'an unknown version output',
      args: ['version', '-o', 'yaml'],
      stderr: /^error: option '-o, --output <format>' argument 'yaml' is invalid\. Allowed choices are text, json\.$/,
    },
    { name: 'an unknown command', args: ['scna'], stderr: /^error: unknown command 'scna'\n\(Did you mean scan\?\)$/ },
  ])('usage error, exit 2: $name', ({ args, stderr }) => {
    const r = cli(args, { cwd: ROOT });
    expect({ status: r.status, stderr: r.stderr.trim(), stdout: r.stdout }).toEqual({ status: 2, stderr: expect.stringMatching(stderr), stdout: '' });
  });

  let bashScript: string;
  beforeAll(() => {
    bashScript = cli(['completion', 'bash'], { cwd: ROOT }).stdout;
  });

  /** What bash offers for the words typed so far (the last one is being completed). */
  function bashComplete(script: string, words: string[]): string[] {
    const program = [
      script,
      `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
      `COMP_CWORD=${words.length - 1}`,
      '_portcullis_complete',
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n');
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', program], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bash failed: ${r.stderr}`);
    return r.stdout.split('\n').filter(Boolean).sort();
  }

  it('bash: the script is valid bash (bash -n)', () => {
    const script = cli(['completion', 'bash'], { cwd: ROOT });
    const check = spawnSync('bash', ['-n'], { input: script.stdout, encoding: 'utf8' });
    expect({ status: script.status, check: check.status, stderr: check.stderr }).toEqual({ status: 0, check: 0, stderr: '' });
  });

  it.each([
    { name: 'commands', words: ['portcullis', 'sc'], want: ['scan'] },
    {
      name: 'every command',
      words: ['portcullis', ''],
      want: ['--help', '--version', '-V', '-h', 'completion', 'controller', 'export', 'help', 'scan', 'serve', 'version'],
    },
    { name: 'scan flags', words: ['portcullis', 'scan', '--fa'], want: ['--fail-on'] },
    { name: 'format names after --format', words: ['portcullis', 'scan', 'x.yaml', '--format', 's'], want: ['sarif'] },
    { name: 'format names after -o', words: ['portcullis', 'scan', '-o', 'j'], want: ['json', 'junit'] },
    { name: '--fail-on choices', words: ['portcullis', 'scan', '--fail-on', ''], want: ['audit', 'deny', 'never', 'warn'] },
    { name: 'files after --policy', words: ['portcullis', 'scan', '--policy', 'examples/pol'], want: ['examples/policies'] },
    { name: 'files as scan paths', words: ['portcullis', 'scan', 'examples/mani'], want: ['examples/manifests'] },
    { name: 'nothing after --context (no file names)', words: ['portcullis', 'scan', '--context', 'ex'], want: [] },
    { name: 'controller --kubeconfig and --report-format', words: ['portcullis', 'controller', '--re'], want: ['--report-format'] },
    { name: 'shells', words: ['portcullis', 'completion', ''], want: ['bash', 'fish', 'zsh'] },
    { name: 'help takes a command', words: ['portcullis', 'help', 'con'], want: ['controller'] },
  ])('bash completes $name', ({ words, want }) => {
    expect(bashComplete(bashScript, words)).toEqual(want);
  });

  // zsh and fish are checked for syntax where they are installed (.ci/run installs both).
  const has = (shell: string) => spawnSync(shell, ['-c', 'exit 0']).status === 0;
  it.each(['zsh', 'fish'])('%s: the script parses', async (shell) => {
    if (!has(shell)) return void console.warn(`${shell} is not installed: its completion script was not checked`);
    const script = cli(['completion', shell], { cwd: ROOT });
    const dir = await mkdtemp(path.join(tmpdir(), 'portcullis-completion-'));
    const file = path.join(dir, `portcullis.${shell}`);
    await writeFile(file, script.stdout);
    const r = spawnSync(shell, ['-n', file], { encoding: 'utf8' });
    await rm(dir, { recursive: true, force: true });
    expect({ status: script.status, check: r.status, stderr: r.stderr, start: script.stdout.split('\n')[0] }).toEqual({
      status: 0,
      check: 0,
      stderr: '',
      start: shell === 'zsh' ? '#compdef portcullis' : `# fish completion for portcullis. Load it with:  portcullis completion fish | source`,
    });
  });
});
