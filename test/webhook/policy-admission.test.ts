// PortPolicy writes through the real server: AdmissionReviews as the API server sends them for
// the portcullis-portpolicies webhook, judged by the loader the policy files use, denials
// naming the loader's field paths within the answer limits. And the opt-out label on a
// Namespace, which the webhook does not judge: the ValidatingAdmissionPolicy shipped with the
// webhooks does, in the API server, evaluated here with the test CEL evaluator.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { SERVE_DEFAULTS } from '../../src/config/serve.js';
import { loadPolicy } from '../../src/engine/policy/load.js';
import { loadDefaultSpec } from '../../src/sources/policy-files.js';
import { kustomize, one, REPO_ROOT } from '../packaging/kustomize.js';
import { admit as admitByPolicy, evaluate as evaluateCel, type AdmissionAttributes } from '../support/k8s-cel/index.js';
import { startHarness, type Harness } from './harness.js';
import { admissionReview, type Obj } from './reviews.js';

const OPT_OUT_LABEL = 'portcullis.dev/ignore';

const policy = (spec: Obj, name = 'team-ports'): Obj => ({
  apiVersion: 'portcullis.dev/v1alpha1',
  kind: 'PortPolicy',
  metadata: { name, uid: 'c0ffee00-0000-4000-8000-000000000001', generation: 1 },
  spec,
});
const example = parse(readFileSync(path.join(REPO_ROOT, 'examples/policies/portpolicy.yaml'), 'utf8')) as Obj;
const tenant = (name: string, extra: Obj = {}) => ({ name, namespaces: [name], ...extra });

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

/** The loader's problems for a policy, as the denial should list them. */
async function loaderLines(p: Obj): Promise<string[]> {
  const r = loadPolicy({ ...p, metadata: { name: p.metadata.name } }, await loadDefaultSpec());
  if (r.ok) throw new Error('the policy loads');
  return r.problems.map((x) => `- ${x.path}: ${x.message}`);
}

describe('PortPolicy CREATE', () => {
  it('a valid policy (the example) is allowed, without warnings', async () => {
    const res = await h.post('/validate', admissionReview({ object: { ...example, metadata: { ...example.metadata, uid: 'u' } }, uid: 'uid-valid' }));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'uid-valid', allowed: true } });
  });

  it('an invalid policy is denied with each problem at its field path (exact answer)', async () => {
    const res = await h.post(
      '/validate',
      admissionReview({ object: policy({ nodePortRange: '32767-30000', nodeCIDRs: ['10.0.0.0/8', '10.1.2.3/33'] }), uid: 'uid-invalid' }),
    );
    expect(res.status).toBe(200);
    expect(res.json.response).toEqual({
      uid: 'uid-invalid',
      allowed: false,
      status: {
        code: 403,
        message: [
          'portcullis denied this PortPolicy: 2 problems, each at its field path',
          '- spec.nodePortRange: "32767-30000" has its low end above its high end',
          `- spec.nodeCIDRs[1]: ${(loadPolicy(policy({ nodeCIDRs: ['10.1.2.3/33'] })) as { problems: { message: string }[] }).problems[0].message}`,
        ].join('\n'),
      },
    });
    expect(res.json.response.status.message).toContain('/33');
  });

  it.each([
    { name: 'a port above 65535', spec: { sensitivePorts: [{ name: 'x', ports: '99999' }] } },
    {
      name: 'an unknown field and an unknown protocol (the schema)',
      spec: { reservedPorts: [{ name: 'x', ports: '80', component: 'c', protocol: 'ICMP' }], tenant: [] },
    },
    {
      name: 'a tenant slice outside the default nodePortRange (the shipped default fills the range)',
      spec: { tenants: [tenant('a', { nodePortRange: '29000-29010' })] },
    },
    {
      name: 'two tenants listing one namespace, and one without namespaces',
      spec: { tenants: [tenant('a'), { name: 'b', namespaces: ['a'] }, { name: 'c' }] },
    },
    { name: 'an exemption of a rule that does not exist', spec: { exemptions: [{ rules: ['hostport-everything'], reason: 'test' }] } },
    { name: 'no spec', spec: undefined },
  ])('$name: denied with the loader problems', async ({ spec }) => {
    const object = policy(spec ?? {});
    if (spec === undefined) delete object.spec;
    const res = await h.post('/validate', admissionReview({ object }));
    expect(res.json.response.allowed).toBe(false);
    expect(res.json.response.status.code).toBe(403);
    const [head, ...lines] = res.json.response.status.message.split('\n');
    const expected = await loaderLines(object);
    expect(head).toBe(`portcullis denied this PortPolicy: ${expected.length} problem${expected.length === 1 ? '' : 's'}, each at its field path`);
    expect(lines).toEqual(expected);
  });

  it('a policy the loader accepts with warnings is allowed with them', async () => {
    const spec = { remediation: { nodePortAllocation: true }, tenants: [tenant('a', { nodePortRange: '32000-32010' })] };
    const res = await h.post('/validate', admissionReview({ object: policy(spec) }));
    expect(res.json.response.allowed).toBe(true);
    expect(res.json.response.warnings).toEqual([
      expect.stringMatching(/^spec\.tenants\[0\]\.nodePortRange: slice 32000-32010 lies in the API server's dynamic NodePort band/),
    ]);
    for (const w of res.json.response.warnings) expect(w.length).toBeLessThanOrEqual(SERVE_DEFAULTS.maxWarningChars);
  });

  it('thousands of problems: the message stays within its limit and counts what it left out', async () => {
    const cidrs = Array.from({ length: 5000 }, (_, i) => `10.${i % 256}.0.0/${40 + (i % 50)}`);
    const res = await h.post('/validate', admissionReview({ object: policy({ nodeCIDRs: cidrs }) }));
    const message: string = res.json.response.status.message;
    expect(Array.from(message).length).toBeLessThanOrEqual(SERVE_DEFAULTS.maxMessageChars);
    const lines = message.split('\n');
    expect(lines[0]).toBe('portcullis denied this PortPolicy: 5000 problems, each at its field path');
    expect(lines[1]).toMatch(/^- spec\.nodeCIDRs\[0\]: /);
    const shown = lines.length - 2;
    expect(shown).toBeGreaterThan(10);
    expect(lines.at(-1)).toBe(`- and ${5000 - shown} more; \`portcullis scan --policy FILE\` on the object saved to a file lists them all`);
  });

  it('1000 tenants on one slice: one problem per tenant, not one per pair', async () => {
    const tenants = Array.from({ length: 1000 }, (_, i) => tenant(`t${i}`, { nodePortRange: '30000-30010' }));
    const res = await h.post('/validate', admissionReview({ object: policy({ tenants }) }));
    const lines: string[] = res.json.response.status.message.split('\n');
    expect(lines[0]).toBe('portcullis denied this PortPolicy: 999 problems, each at its field path');
    expect(lines.slice(1, 3)).toEqual([
      '- spec.tenants[1].nodePortRange: slice 30000-30010 overlaps tenant "t0" (30000-30010)',
      '- spec.tenants[2].nodePortRange: slice 30000-30010 overlaps tenant "t0" (30000-30010) and 1 more tenant',
    ]);
  });

  it('a megabyte tenant name quoted by the loader is clipped in its line', async () => {
    const long = 'x'.repeat(1_000_000);
    const res = await h.post('/validate', admissionReview({ object: policy({ tenants: [tenant(long), { name: long, namespaces: ['b'] }] }) }));
    const message: string = res.json.response.status.message;
    expect(Array.from(message).length).toBeLessThanOrEqual(SERVE_DEFAULTS.maxMessageChars);
    for (const l of message.split('\n')) expect(Array.from(l).length).toBeLessThanOrEqual(512);
    expect(message.split('\n')[1]).toMatch(/^- spec\.tenants\[1\]\.name: tenant "x+…$/);
  });

  it('is logged as a PortPolicy denial and counted under kind PortPolicy', async () => {
    const uid = 'uid-logged';
    await h.post('/validate', admissionReview({ object: policy({ nodePortRange: '0-10' }), uid }));
    const line = h.logs.find((l) => l.uid === uid)!;
    expect(line).toMatchObject({ kind: 'PortPolicy', name: 'team-ports', operation: 'CREATE', verdict: 'denied' });
    expect(line.message).toContain('spec.nodePortRange');
    const metrics = await h.ops('/metrics');
    expect(metrics.text).toMatch(/portcullis_admission_requests_total\{endpoint="validate",kind="PortPolicy",operation="CREATE",verdict="denied"\} [1-9]/);
  });
});

describe('docs/policy-admission.md', () => {
  const doc = readFileSync(path.join(REPO_ROOT, 'docs/policy-admission.md'), 'utf8');

  it('its example policy gets the denial it shows, line for line', async () => {
    const example = parse(/```yaml\n([\s\S]*?)```/.exec(doc)![1]) as Obj;
    const shown = /```text\n\$ kubectl apply[^\n]*\n[^\n]*denied the request: ([\s\S]*?)\n```/.exec(doc)![1];
    const res = await h.post('/validate', admissionReview({ object: example }));
    expect(res.json.response.status.message).toBe(shown);
    expect(doc).toContain(`admission webhook "${'portpolicies.validate.portcullis.dev'}" denied the request`);
  });

  it('its table of bounds is the schema', () => {
    const crd = parse(readFileSync(path.join(REPO_ROOT, 'manifests/crds/portpolicy.yaml'), 'utf8')) as Obj;
    const spec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties;
    const row = (field: string) => {
      const text = doc.split('\n').find((l) => l.startsWith(`| ${field}`))!;
      return /(maxLength|maxItems)` (\d+)/.exec(text)!.slice(1);
    };
    expect(row('`spec.reservedPorts`, `spec.sensitivePorts`')).toEqual(['maxItems', String(spec.reservedPorts.maxItems)]);
    expect(spec.sensitivePorts.maxItems).toBe(spec.reservedPorts.maxItems);
    expect(row('`spec.tenants`')).toEqual(['maxItems', String(spec.tenants.maxItems)]);
    expect(row('`spec.tenants[].allowedHostPorts`')).toEqual(['maxItems', String(spec.tenants.items.properties.allowedHostPorts.maxItems)]);
    expect(row('every port text')).toEqual(['maxLength', String(spec.nodePortRange.maxLength)]);
    expect(row('`spec.exemptions`')).toEqual(['maxItems', String(spec.exemptions.maxItems)]);
  });
});

describe('the e2e workflow (.github/workflows/e2e.yaml, which cannot run here) expects what portcullis says', () => {
  const workflow = readFileSync(path.join(REPO_ROOT, '.github/workflows/e2e.yaml'), 'utf8');
  /** The heredoc written to e2e/NAME, dedented. */
  const heredoc = (name: string) => {
    const m = new RegExp(`cat > e2e/${name} <<'YAML'\\n([\\s\\S]*?)\\n\\s*YAML\\n`).exec(workflow)!;
    const lines = m[1].split('\n');
    const indent = /^\s*/.exec(lines[0])![0].length;
    return parse(lines.map((l) => l.slice(indent)).join('\n')) as Obj;
  };

  it('the reversed range: refused by the CRD rule whose message it greps', () => {
    const crd = parse(readFileSync(path.join(REPO_ROOT, 'manifests/crds/portpolicy.yaml'), 'utf8')) as Obj;
    const rules = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.nodePortRange['x-kubernetes-validations'] as {
      rule: string;
      message: string;
    }[];
    const text = heredoc('portpolicy-reversed.yaml').spec.nodePortRange;
    const failed = rules.filter((r) => evaluateCel(r.rule, { self: text }) !== true).map((r) => r.message);
    expect(failed).toEqual(['a range "lo-hi" needs lo <= hi']);
    expect(workflow).toContain(`grep -q '${failed[0]}'`);
  });

  it('the slice outside the range: denied by the webhook with the line it greps', async () => {
    const res = await h.post('/validate', admissionReview({ object: heredoc('portpolicy-slice-outside.yaml') }));
    const grepped = /grep -q "(spec\.tenants[^"]*)"/.exec(workflow)![1].replace(/\\/g, '');
    expect(res.json.response.status.message.split('\n')).toContain(`- ${grepped}`);
  });
});

describe('PortPolicy UPDATE and other operations', () => {
  const valid = policy({ nodePortRange: '30000-32767' });
  const broken = policy({ nodePortRange: '32767-30000' });
  const withFinalizer = (p: Obj) => ({ ...p, metadata: { ...p.metadata, finalizers: ['example.com/keep'] } });

  it.each([
    { name: 'an update that fixes an invalid policy', operation: 'UPDATE', object: valid, old: broken, allowed: true, warnings: undefined },
    { name: 'an update that breaks a valid policy', operation: 'UPDATE', object: broken, old: valid, allowed: false, warnings: undefined },
    {
      name: 'a metadata-only update of a policy that got in invalid (its finalizer removed)',
      operation: 'UPDATE',
      object: broken,
      old: withFinalizer(broken),
      allowed: true,
      warnings: [
        'portcullis ignores this PortPolicy: its spec does not load (1 problem)',
        'invalid: spec.nodePortRange: "32767-30000" has its low end above its high end',
      ],
    },
    { name: 'a delete of an invalid policy', operation: 'DELETE', object: broken, old: null, allowed: true, warnings: undefined },
  ] as const)('$name: allowed $allowed', async ({ operation, object, old, allowed, warnings }) => {
    const res = await h.post('/validate', admissionReview({ operation, object, oldObject: old }));
    expect(res.json.response.allowed).toBe(allowed);
    expect(res.json.response.warnings).toEqual(warnings);
  });

  it('a status write (the controller) is not judged', async () => {
    const res = await h.post('/validate', admissionReview({ operation: 'UPDATE', object: broken, oldObject: broken, subResource: 'status' }));
    expect(res.json.response).toEqual({ uid: expect.any(String), allowed: true });
  });

  it('/mutate leaves a PortPolicy alone', async () => {
    const res = await h.post('/mutate', admissionReview({ object: broken }));
    expect(res.json.response).toEqual({ uid: expect.any(String), allowed: true });
  });

  it('another version of the kind is not read as v1alpha1', async () => {
    const res = await h.post('/validate', admissionReview({ object: { ...broken, apiVersion: 'portcullis.dev/v1' } }));
    expect(res.json.response).toEqual({ uid: expect.any(String), allowed: true });
  });
});

describe(`the opt-out label ${OPT_OUT_LABEL} on a Namespace`, () => {
  // The guard is a ValidatingAdmissionPolicy in the API server, not this webhook: it must hold
  // while the webhook is down, and no webhook entry sends Namespaces here. The server answers
  // a Namespace review without judging it; the rendered guard decides.
  let guard: { policy: Obj; binding: Obj };
  let listed: string;
  beforeAll(async () => {
    const objects = await kustomize('manifests/overlays/enforce');
    guard = {
      policy: one(objects, 'ValidatingAdmissionPolicy', 'portcullis-ignore-label'),
      binding: one(objects, 'ValidatingAdmissionPolicyBinding', 'portcullis-ignore-label'),
    };
    // The admin's list (local-config: read from the file, never rendered).
    const parameters = parse(readFileSync(path.join(REPO_ROOT, 'manifests/parameters/parameters.yaml'), 'utf8')) as Obj;
    listed = (JSON.parse(parameters.data.ignoreLabelNamespaces) as string[])[0];
  });

  const ns = (name: string, labels: Record<string, string> = {}) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } },
  });
  const attributes = (operation: 'CREATE' | 'UPDATE', object: Obj, oldObject: Obj | null, username: string): AdmissionAttributes => ({
    operation,
    resource: { group: '', version: 'v1', resource: 'namespaces' },
    kind: { group: '', version: 'v1', kind: 'Namespace' },
    namespace: null,
    object,
    oldObject,
    namespaceObject: null,
    userInfo: { username },
  });

  it.each([
    {
      name: 'a tenant adds it to their namespace',
      operation: 'UPDATE',
      object: () => ns('team-a', { [OPT_OUT_LABEL]: 'true' }),
      old: () => ns('team-a'),
      user: 'alice@example.com',
      denied: true,
    },
    {
      name: 'a tenant creates a namespace with it',
      operation: 'CREATE',
      object: () => ns('team-a-tools', { [OPT_OUT_LABEL]: 'true' }),
      old: () => null,
      user: 'alice@example.com',
      denied: true,
    },
    {
      name: 'the admin labels an exempted namespace',
      operation: 'UPDATE',
      object: () => ns(listed, { [OPT_OUT_LABEL]: 'true' }),
      old: () => ns(listed),
      user: 'admin',
      denied: false,
    },
    {
      name: 'an exempted namespace is created with it',
      operation: 'CREATE',
      object: () => ns(listed, { [OPT_OUT_LABEL]: 'true' }),
      old: () => null,
      user: 'admin',
      denied: false,
    },
  ] as const)('$name: the webhook does not judge it, the guard denies $denied', async ({ operation, object, old, user, denied }) => {
    const res = await h.post('/validate', admissionReview({ operation, object: object(), oldObject: old() }));
    expect(res.json.response).toEqual({ uid: expect.any(String), allowed: true });
    const outcome = admitByPolicy(guard.policy, guard.binding, attributes(operation, object(), old(), user));
    expect(outcome).not.toBeNull();
    expect(outcome!.errors).toEqual([]);
    expect({ actions: outcome!.actions, messages: outcome!.messages }).toEqual(
      denied
        ? {
            actions: ['Deny'],
            messages: [
              `namespace ${object().metadata.name} may not carry the label ${OPT_OUT_LABEL}, which switches portcullis off for it; only the namespaces the cluster admin lists in the portcullis install may`,
            ],
          }
        : { actions: [], messages: [] },
    );
  });
});
