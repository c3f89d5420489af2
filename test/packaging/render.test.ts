// Rendering every kustomization and validating every object it produces against the API
// schemas. Safety properties are asserted in manifests.test.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { COMPONENTS, KUBECTL_MISSING, kustomize, kustomizeWith } from './kustomize.js';
import { schemaErrors, unknownFields } from './schemas.js';

// Every directory a user applies: the install steps in order, and each mode as a whole.
const KUSTOMIZATIONS = [
  'manifests/crds',
  'manifests/base/pki',
  'manifests/base/workload',
  'manifests/base/webhooks',
  'manifests/base',
  'manifests/overlays/audit',
  'manifests/overlays/audit/workload',
  'manifests/overlays/audit/webhooks',
  'manifests/overlays/enforce',
  'manifests/overlays/enforce/workload',
  'manifests/overlays/enforce/webhooks',
  'manifests/overlays/remediate',
];

// Every optional component, each on top of every whole mode, as a user's overlay adds it.
const COMPOSED = ['audit', 'enforce', 'remediate'].flatMap((mode) => COMPONENTS.map((component) => ({ mode, component })));

describe('kubectl kustomize', () => {
  it('fails with a message naming kubectl as the prerequisite when kubectl is missing', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'no-kubectl-'));
    try {
      await expect(kustomize('manifests/base', { ...process.env, PATH: empty })).rejects.toThrow(KUBECTL_MISSING);
    } finally {
      await rm(empty, { recursive: true });
    }
  });

  it.each(KUSTOMIZATIONS.map((dir) => ({ dir })))('$dir renders, and every object is valid against its API schema', async ({ dir }) => {
    const objects = await kustomize(dir);
    expect(objects.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const o of objects) {
      for (const e of await schemaErrors(o)) problems.push(`${o.kind} ${o.metadata.name}: ${e}`);
    }
    expect(problems).toEqual([]);
  });

  it.each(KUSTOMIZATIONS.map((dir) => ({ dir })))('$dir: no built-in object has a field its Kubernetes type does not know', async ({ dir }) => {
    const problems: string[] = [];
    let checked = 0;
    for (const o of await kustomize(dir)) {
      const unknown = unknownFields(o);
      if (unknown === null) continue;
      checked++;
      for (const e of unknown) problems.push(`${o.kind} ${o.metadata.name}: ${e}`);
    }
    expect(problems).toEqual([]);
    if (!['manifests/crds', 'manifests/base/pki'].includes(dir)) expect(checked).toBeGreaterThan(0);
  });

  it.each(COMPOSED)(
    'overlays/$mode with components/$component renders, every object valid against its API schema and with no unknown field',
    async ({ mode, component }) => {
      const objects = await kustomizeWith(`manifests/overlays/${mode}`, [`manifests/components/${component}`]);
      const plain = new Set((await kustomize(`manifests/overlays/${mode}`)).map((o) => `${o.kind}/${o.metadata.name}`));
      expect(objects.filter((o) => !plain.has(`${o.kind}/${o.metadata.name}`)).length).toBeGreaterThan(0);
      const problems: string[] = [];
      for (const o of objects) {
        for (const e of await schemaErrors(o)) problems.push(`${o.kind} ${o.metadata.name}: ${e}`);
        for (const e of unknownFields(o) ?? []) problems.push(`${o.kind} ${o.metadata.name}: ${e}`);
      }
      expect(problems).toEqual([]);
    },
  );

  it('the whole of a mode is exactly the union of its install steps', async () => {
    for (const mode of ['audit', 'enforce']) {
      const key = (o: { kind: string; metadata: { name: string; namespace?: string } }) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
      const whole = (await kustomize(`manifests/overlays/${mode}`)).map(key).sort();
      const steps = (
        await Promise.all(
          ['manifests/crds', 'manifests/base/pki', `manifests/overlays/${mode}/workload`, `manifests/overlays/${mode}/webhooks`].map((d) => kustomize(d)),
        )
      )
        .flat()
        .map(key)
        .sort();
      expect(whole).toEqual(steps);
    }
  });
});

describe('schema validation can fail', () => {
  const base = { metadata: { name: 'x', namespace: 'y' } };
  it.each([
    {
      name: 'Deployment with replicas as a string',
      object: { apiVersion: 'apps/v1', kind: 'Deployment', ...base, spec: { replicas: '2', selector: {}, template: {} } },
      error: '/spec/replicas',
    },
    {
      name: 'a container port deep in a pod template, as a string',
      object: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        ...base,
        spec: { selector: {}, template: { spec: { containers: [{ name: 'c', ports: [{ containerPort: '80' }] }] } } },
      },
      error: '/spec/template/spec/containers/0/ports/0/containerPort',
    },
    {
      name: 'a matchCondition without its expression',
      object: {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: 'x' },
        webhooks: [{ name: 'a.b.c', clientConfig: {}, sideEffects: 'None', admissionReviewVersions: ['v1'], matchConditions: [{ name: 'm' }] }],
      },
      error: 'expression',
    },
    {
      name: 'webhook with timeoutSeconds as a string',
      object: {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: 'x' },
        webhooks: [{ name: 'a.b.c', clientConfig: {}, sideEffects: 'None', admissionReviewVersions: ['v1'], timeoutSeconds: '5' }],
      },
      error: '/webhooks/0/timeoutSeconds',
    },
    {
      name: 'Certificate without secretName',
      object: { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', ...base, spec: { issuerRef: { name: 'i' } } },
      error: 'secretName',
    },
    {
      name: 'PortPolicy with an unknown action',
      object: { apiVersion: 'portcullis.dev/v1alpha1', kind: 'PortPolicy', metadata: { name: 'p' }, spec: { rules: { 'hostport-reserved': 'block' } } },
      error: '/spec/rules/hostport-reserved',
    },
    { name: 'an unknown kind', object: { apiVersion: 'example.com/v1', kind: 'Widget', ...base }, error: 'no schema for example.com/v1 Widget' },
  ])('$name', async ({ object, error }) => {
    const errors = await schemaErrors(object);
    expect(errors.join('\n')).toContain(error);
  });

  it.each([
    {
      name: 'a misspelt securityContext field deep in a pod template',
      object: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        ...base,
        spec: { template: { spec: { containers: [{ name: 'c', securityContext: { readOnlyRootFileSystem: true } }] } } },
      },
      error: '/spec/template/spec/containers/0/securityContext: unknown field "readOnlyRootFileSystem"',
    },
    {
      name: 'a misspelt webhook field',
      object: {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'MutatingWebhookConfiguration',
        metadata: { name: 'x' },
        webhooks: [{ name: 'a.b.c', timeoutSecond: 5 }],
      },
      error: '/webhooks/0: unknown field "timeoutSecond"',
    },
    { name: 'an unknown top-level field', object: { apiVersion: 'v1', kind: 'Service', ...base, specs: {} }, error: '/: unknown field "specs"' },
  ])('unknown fields: $name', ({ object, error }) => {
    expect(unknownFields(object as never)?.join('\n')).toContain(error);
  });

  it('unknown fields: ConfigMap data, labels and a CRD schema are free-form where the type says so', () => {
    expect(
      unknownFields({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        ...base,
        metadata: { ...base.metadata, labels: { any: 'x' } },
        data: { 'policy.yaml': 'x' },
      }),
    ).toEqual([]);
    expect(unknownFields({ apiVersion: 'cert-manager.io/v1', kind: 'Certificate', ...base })).toBeNull();
  });
});
