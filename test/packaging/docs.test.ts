// The install guide and the e2e workflow name directories and objects of manifests/: they
// must exist, and the guide's install and uninstall commands must come in the safe order.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { find, kustomize, REPO_ROOT } from './kustomize.js';

const guide = readFileSync(path.join(REPO_ROOT, 'docs/install.md'), 'utf8');
const workflow = readFileSync(path.join(REPO_ROOT, '.github/workflows/e2e.yaml'), 'utf8');

const kustomizeDirs = (text: string) => [...text.matchAll(/kubectl (apply|delete) -k ([\w./-]+)/g)].map((m) => ({ verb: m[1], dir: m[2] }));
const STEP = (dir: string) => ['crds', 'pki', 'workload', 'webhooks'].findIndex((s) => dir.endsWith(`/${s}`));

describe('install guide and e2e workflow', () => {
  it.each([
    { name: 'docs/install.md', text: guide },
    { name: '.github/workflows/e2e.yaml', text: workflow },
  ])('$name: every `kubectl apply|delete -k` names a kustomization', ({ text }) => {
    const dirs = kustomizeDirs(text);
    expect(dirs.length).toBeGreaterThan(4);
    for (const { dir } of dirs) expect({ dir, exists: existsSync(path.join(REPO_ROOT, dir, 'kustomization.yaml')) }).toEqual({ dir, exists: true });
  });

  it.each([
    { name: 'docs/install.md', text: guide },
    { name: '.github/workflows/e2e.yaml', text: workflow },
  ])('$name: installs crds, pki, workload, webhooks in that order and uninstalls webhooks first', ({ text }) => {
    const applies = kustomizeDirs(text)
      .filter((d) => d.verb === 'apply' && STEP(d.dir) >= 0)
      .map((d) => STEP(d.dir));
    expect(applies.slice(0, 4)).toEqual([0, 1, 2, 3]);
    const deletes = kustomizeDirs(text)
      .filter((d) => d.verb === 'delete')
      .map((d) => STEP(d.dir));
    expect(deletes).toEqual([3, 2, 1, 0]);
  });

  it.each([
    { name: 'docs/install.md', text: guide },
    { name: '.github/workflows/e2e.yaml', text: workflow },
  ])('$name: every file or directory under manifests/ that it names exists', ({ text }) => {
    const named = [...new Set([...text.matchAll(/\bmanifests\/[\w./-]*[\w]/g)].map((m) => m[0]))].filter((p) => !p.includes('<'));
    expect(named.length).toBeGreaterThan(4);
    for (const p of named) expect({ path: p, exists: existsSync(path.join(REPO_ROOT, p)) }).toEqual({ path: p, exists: true });
    // `<mode>` stands for both overlays.
    for (const m of text.matchAll(/\bmanifests\/overlays\/<mode>\/([\w./-]*\w)/g)) {
      for (const mode of ['audit', 'enforce']) expect(existsSync(path.join(REPO_ROOT, 'manifests/overlays', mode, m[1]))).toBe(true);
    }
  });

  it('the objects the guide waits for exist under those names', async () => {
    const objects = (await Promise.all(['manifests/crds', 'manifests/base/pki', 'manifests/overlays/audit/workload'].map((d) => kustomize(d)))).flat();
    const waits = [...guide.matchAll(/\b(certificate|deployment|crd)\/([\w.-]+)/g)].map((m) => ({ kind: m[1], name: m[2] }));
    expect(waits.length).toBeGreaterThan(3);
    const kinds: Record<string, string> = { certificate: 'Certificate', deployment: 'Deployment', crd: 'CustomResourceDefinition' };
    for (const w of waits) expect({ ...w, found: find(objects, kinds[w.kind], w.name).length }).toEqual({ ...w, found: 1 });
  });

  it("the workflow says in its header that it cannot run on this project's machines", () => {
    const header = workflow
      .split('\n')
      .filter((l) => l.startsWith('#'))
      .join('\n');
    expect(header).toMatch(/CANNOT run on this project's own machines/);
    expect(header).toMatch(/no container engine/);
  });
});

describe('docs/install.md', () => {
  it('labels exactly the namespaces manifests/parameters lists: its command reads them as written there', () => {
    const loop = /^for ns in \$\((.*)\); do$/m.exec(guide);
    expect(loop).not.toBeNull();
    const names = execFileSync('bash', ['-c', loop![1]], { cwd: REPO_ROOT, encoding: 'utf8' }).trim().split(/\s+/);
    const params = readFileSync(path.join(REPO_ROOT, 'manifests/parameters/parameters.yaml'), 'utf8');
    const listed = JSON.parse(/ignoreLabelNamespaces: '(.*)'/.exec(params)![1]) as string[];
    expect(names).toEqual(listed);
    expect(names.length).toBeGreaterThan(2);
  });

  it('the README points to it, and has no install steps of its own', () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('[docs/install.md](docs/install.md)');
    expect(kustomizeDirs(readme)).toEqual([]);
  });

  it('covers the audit to enforce step, the CNI namespaces, rollback and what was never run', () => {
    for (const heading of [
      '## 3. Install in audit mode',
      '### The CNI bootstrap deadlock',
      '## 6. Switch to enforce',
      '## 10. Rollback',
      '## Why kustomize and not Helm',
    ])
      expect(guide).toContain(heading);
    expect(guide).toMatch(/\*\*What has never run\.\*\*/);
  });
});
