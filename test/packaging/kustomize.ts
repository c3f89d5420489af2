// Renders manifests/ with `kubectl kustomize` (kubectl embeds kustomize v5; no npm or Debian
// package ships kustomize itself). A missing kubectl is a failed test with a message that
// says what to install, never a skip: the manifests would otherwise go unchecked.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
};

export const KUBECTL_MISSING =
  'kubectl was not found on PATH. The manifest tests render manifests/ with `kubectl kustomize` ' +
  '(kubectl 1.27 or later; it embeds kustomize v5). Install kubectl, then run npm test again ' +
  '(docs/development.md, "Prerequisites for the manifest tests").';

/** The optional components under manifests/components, which a user adds in an overlay of their own. */
export const COMPONENTS = ['network-policy', 'priority-quota', 'monitoring', 'alerts', 'dashboard'] as const;

// Renders are pure functions of the files: one per directory per test file is enough.
const rendered = new Map<string, Promise<K8sObject[]>>();

/** Runs `kubectl kustomize <dir>` (dir relative to the repository) and parses every document. */
export function kustomize(dir: string, env?: NodeJS.ProcessEnv): Promise<K8sObject[]> {
  if (env !== undefined) return render(dir, env);
  if (!rendered.has(dir)) rendered.set(dir, render(dir, process.env));
  return rendered.get(dir)!.then((objects) => structuredClone(objects));
}

function render(dir: string, env: NodeJS.ProcessEnv): Promise<K8sObject[]> {
  return new Promise((resolve, reject) => {
    execFile('kubectl', ['kustomize', dir], { cwd: REPO_ROOT, env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error(KUBECTL_MISSING));
      if (err) return reject(new Error(`kubectl kustomize ${dir} failed: ${stderr.trim() || err.message}`));
      const docs = parseAllDocuments(stdout);
      if (!Array.isArray(docs)) return resolve([]);
      const problem = docs.flatMap((d) => d.errors)[0];
      if (problem) return reject(new Error(`kubectl kustomize ${dir} printed invalid YAML: ${problem.message}`));
      resolve(docs.map((d) => d.toJS() as K8sObject).filter((o) => o !== null));
    });
  });
}

export const find = (objects: readonly K8sObject[], kind: string, name?: string): K8sObject[] =>
  objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));

export function one(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = find(objects, kind, name);
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0];
}

/**
 * Renders `base` with `components` added, as a user's own overlay would
 * (`resources: [base]`, `components: [...]`): a kustomization written to a temporary
 * directory, naming the repository's directories by relative path (kustomize refuses
 * absolute ones).
 */
export async function kustomizeWith(base: string, components: readonly string[]): Promise<K8sObject[]> {
  const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const dir = await mkdtemp(path.join(tmpdir(), 'portcullis-overlay-'));
  const rel = (d: string) => path.relative(dir, path.join(REPO_ROOT, d));
  try {
    await writeFile(
      path.join(dir, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        `resources: [${rel(base)}]`,
        `components: [${components.map(rel).join(', ')}]`,
        '',
      ].join('\n'),
    );
    return await render(dir, process.env);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
