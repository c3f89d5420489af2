// The install guide shows what a user sees when the demo objects reach the webhook: the
// warning in audit mode and the rejections in enforce mode. These are the real answers of
// /validate with the policy each mode installs (its ConfigMap, as the pods mount it), so a
// change of wording in the engine fails here instead of leaving the guide wrong.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { answerLimits, SERVE_DEFAULTS } from '../../src/config/serve.js';
import { NO_CLUSTER_FACTS } from '../../src/engine/types.js';
import { admit } from '../../src/server/admit.js';
import { parseAdmissionReview } from '../../src/sources/admission.js';
import { loadPolicyPaths } from '../../src/sources/policy-files.js';
import { kustomize, one, REPO_ROOT } from './kustomize.js';

type Obj = Record<string, any>;

const guide = readFileSync(path.join(REPO_ROOT, 'docs/install.md'), 'utf8');

/** The body of the heredoc that writes `file` in the guide. */
function heredoc(file: string): Obj {
  const m = new RegExp(`cat > ${file.replace('.', '\\.')} <<'EOF'\\n([\\s\\S]*?)\\nEOF`).exec(guide);
  if (!m) throw new Error(`the guide writes no ${file}`);
  return parse(m[1]) as Obj;
}

/** The first fenced yaml block that holds `tenants:`: the snippet the guide adds to the policy. */
function tenantSnippet(): Obj[] {
  const block = [...guide.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => /^\s*tenants:/m.test(b));
  if (!block) throw new Error('the guide shows no tenants snippet');
  return (parse(block.replace(/^ {2}/gm, '')) as { tenants: Obj[] }).tenants;
}

/** The policy a mode's pods mount, optionally with extra spec fields, loaded as serve loads it. */
async function policyOf(mode: string, extra: Obj = {}) {
  const cm = one(await kustomize(`manifests/overlays/${mode}/workload`), 'ConfigMap', 'portcullis-policy');
  const dir = await mkdtemp(path.join(tmpdir(), 'guide-policy-'));
  try {
    for (const [file, text] of Object.entries(cm.data as Record<string, string>)) {
      const doc = parse(text) as Obj;
      await writeFile(path.join(dir, file), stringify({ ...doc, spec: { ...doc.spec, ...extra } }));
    }
    const loaded = await loadPolicyPaths([dir]);
    expect(loaded.errors).toEqual([]);
    return loaded.policies;
  } finally {
    await rm(dir, { recursive: true });
  }
}

async function validate(mode: string, object: Obj, extra: Obj = {}) {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
  const review = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'u',
      kind: { group, version, kind: object.kind },
      resource: {},
      name: object.metadata.name,
      namespace: object.metadata.namespace,
      operation: 'CREATE',
      object,
      dryRun: true,
    },
  };
  const limits = answerLimits(SERVE_DEFAULTS);
  const out = admit('validate', parseAdmissionReview(review), {
    policies: await policyOf(mode, extra),
    cluster: NO_CLUSTER_FACTS,
    namespaceLookupError: null,
    allocator: null,
    limits,
  });
  return out.review.response as Obj;
}

/** What kubectl prints for a webhook denial: the API server wraps the status message. */
const kubectlDenial = (file: string, webhook: string, message: string) =>
  `Error from server (Forbidden): error when creating "${file}": admission webhook "${webhook}" denied the request: ${message}`;

describe('the messages the install guide shows', () => {
  const pod = heredoc('hostport-10250.yaml');
  const service = heredoc('nodeport-service.yaml');

  it('audit: the hostPort 10250 Pod is admitted with the warning shown', async () => {
    const response = await validate('audit', pod);
    expect(response.allowed).toBe(true);
    expect(response.warnings.length).toBeGreaterThan(0);
    for (const w of response.warnings as string[]) expect(guide).toContain(`Warning: ${w}\npod/${pod.metadata.name} created (server dry run)`);
  });

  it('enforce: the same Pod is rejected with the message shown', async () => {
    const response = await validate('enforce', pod);
    expect(response.allowed).toBe(false);
    expect(response.status.code).toBe(403);
    expect(guide).toContain(kubectlDenial('hostport-10250.yaml', 'pods.validate.portcullis.dev', response.status.message));
  });

  it('enforce with the tenant snippet: the NodePort Service is rejected with the message shown', async () => {
    const response = await validate('enforce', service, { tenants: tenantSnippet() });
    expect(response.allowed).toBe(false);
    expect(guide).toContain(kubectlDenial('nodeport-service.yaml', 'services.validate.portcullis.dev', response.status.message));
  });

  it('the demo objects live in the demo namespace, which no webhook excludes', async () => {
    const objects = await kustomize('manifests/overlays/enforce/webhooks');
    const excluded = (one(objects, 'ValidatingWebhookConfiguration', 'portcullis').webhooks as Obj[])[0].namespaceSelector.matchExpressions[0]
      .values as string[];
    for (const o of [pod, service]) expect(excluded).not.toContain(o.metadata.namespace);
    expect(guide).toContain(`kubectl create namespace ${pod.metadata.namespace}`);
  });
});
