// manifests/overlays/vap: rendered with `kubectl kustomize`, it installs the CRD, the
// PortPolicy, the exported ValidatingAdmissionPolicies and bindings (exactly what `portcullis
// export vap` makes of that PortPolicy today) and the opt-out label guard, and no webhook or
// workload. Every exported object validates against the Kubernetes OpenAPI schema.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadPolicyPaths } from '../../src/sources/policy-files.js';
import { exportVap, NAMESPACE_EXCLUSIONS } from '../../src/sinks/vap/index.js';
import { find, kustomize, REPO_ROOT, type K8sObject } from './kustomize.js';
import { schemaErrors, unknownFields } from './schemas.js';

const OVERLAY = 'manifests/overlays/vap';

let objects: K8sObject[] = [];
beforeAll(async () => {
  objects = await kustomize(OVERLAY);
});

describe('manifests/overlays/vap', () => {
  it('renders the CRD, the PortPolicy, the exported policies and the label guard, and no webhook or workload', () => {
    const kinds = new Set(objects.map((o) => o.kind));
    expect([...kinds].sort()).toEqual(['CustomResourceDefinition', 'PortPolicy', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
    expect(find(objects, 'ValidatingAdmissionPolicy').map((o) => o.metadata.name)).toContain('portcullis-ignore-label');
  });

  it('holds exactly what portcullis export vap makes of its PortPolicy', async () => {
    const loaded = await loadPolicyPaths([path.join(REPO_ROOT, OVERLAY, 'policy.yaml')]);
    expect(loaded.errors).toEqual([]);
    const exported = exportVap(loaded.policies);
    expect(exported.overBudget).toEqual([]);
    const shipped = objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'vap');
    // If this fails, export again (manifests/overlays/vap/kustomization.yaml says how). The
    // rendered policies carry the namespace selector the overlay copies in.
    // kubectl kustomize orders by kind; the comparison does not depend on order.
    const byName = (a: { kind: string; metadata: { name: string } }, b: { kind: string; metadata: { name: string } }) =>
      `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`);
    expect([...shipped].sort(byName)).toEqual([...exported.objects].sort(byName));
  });

  it('every policy fails closed and every binding names an existing policy', () => {
    const policies = find(objects, 'ValidatingAdmissionPolicy');
    for (const p of policies)
      expect({ name: p.metadata.name, failurePolicy: (p.spec as { failurePolicy: string }).failurePolicy }).toEqual({
        name: p.metadata.name,
        failurePolicy: 'Fail',
      });
    const names = new Set(policies.map((p) => p.metadata.name));
    for (const b of find(objects, 'ValidatingAdmissionPolicyBinding')) expect(names).toContain((b.spec as { policyName: string }).policyName);
  });

  it('validates against the Kubernetes OpenAPI schema, with no unknown field', async () => {
    for (const o of objects) {
      expect({ name: `${o.kind}/${o.metadata.name}`, errors: await schemaErrors(o) }).toEqual({ name: `${o.kind}/${o.metadata.name}`, errors: [] });
      const unknown = unknownFields(o);
      if (unknown !== null) expect({ name: `${o.kind}/${o.metadata.name}`, unknown }).toEqual({ name: `${o.kind}/${o.metadata.name}`, unknown: [] });
    }
  });

  it('skips the same namespaces as the webhooks (components/namespace-exclusions)', () => {
    const exclusions = parse(readFileSync(path.join(REPO_ROOT, 'manifests/components/namespace-exclusions/exclusions.yaml'), 'utf8')) as {
      namespaceSelector: unknown;
    };
    expect(NAMESPACE_EXCLUSIONS).toEqual(exclusions.namespaceSelector);
    for (const p of find(objects, 'ValidatingAdmissionPolicy').filter((o) => o.metadata.name !== 'portcullis-ignore-label')) {
      expect((p.spec as { matchConstraints: { namespaceSelector: unknown } }).matchConstraints.namespaceSelector).toEqual(exclusions.namespaceSelector);
    }
  });
});
