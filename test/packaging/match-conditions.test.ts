// The webhooks' matchConditions, evaluated with a CEL implementation (@bufbuild/cel) on the
// objects the API server would send. Two properties: a condition never errors (an error is
// a webhook failure, which failurePolicy Fail turns into a rejection), and it skips only
// what the engine would find no port exposure in (skipping is always safe).
import { isCelError, run, type CelInput } from '@bufbuild/cel';
import fc from 'fast-check';
import { checkedKind } from '../../src/engine/facts/kinds.js';
import { resourceFacts } from '../../src/engine/facts/resource-facts.js';
import type { KubeObject } from '../../src/engine/types.js';
import { AUDITED } from '../../src/k8s/resources.js';
import { find, kustomize, type K8sObject } from './kustomize.js';

type Obj = Record<string, any>;

let configs: K8sObject[] = [];
beforeAll(async () => {
  // remediate: the validating webhooks of every mode, and the mutating ones remediation adds.
  const objects = await kustomize('manifests/overlays/remediate');
  configs = [...find(objects, 'ValidatingWebhookConfiguration'), ...find(objects, 'MutatingWebhookConfiguration')];
});

/** JSON → CEL values as the API server hands them over: objects are maps, integers int64. */
function toCel(v: unknown): CelInput {
  if (Array.isArray(v)) return v.map(toCel);
  if (v !== null && typeof v === 'object') return new Map(Object.entries(v).map(([k, x]) => [k, toCel(x)]));
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  return v as CelInput;
}

function resourceOf(apiVersion: string, kind: string) {
  const t = AUDITED.find((r) => (r.group ? `${r.group}/${r.version}` : r.version) === apiVersion && r.kind === kind);
  if (!t) throw new Error(`${apiVersion} ${kind} is not a checked kind`);
  return t;
}

/** Each webhook that would be called for this kind, with the verdict of its matchConditions. */
function matches(object: Obj | null, apiVersion: string, kind: string, operation = 'CREATE'): { webhook: string; call: boolean }[] {
  const t = resourceOf(apiVersion, kind);
  const request = toCel({
    operation,
    kind: { group: t.group, version: t.version, kind },
    resource: { group: t.group, version: t.version, resource: t.resource },
  });
  return configs.flatMap((c) =>
    (c.webhooks as Obj[])
      .filter((w) => (w.rules as Obj[]).some((r) => r.apiGroups.includes(t.group) && r.resources.includes(t.resource) && r.operations.includes(operation)))
      .map((w) => {
        const results = ((w.matchConditions as Obj[]) ?? []).map((m) => {
          const out = run(m.expression, { object: object === null ? null : toCel(object), oldObject: null, request });
          if (isCelError(out)) throw new Error(`${w.name} ${m.name} errors on ${kind}: ${out.message}`);
          if (typeof out !== 'boolean') throw new Error(`${w.name} ${m.name} returned ${String(out)}, not a bool`);
          return out;
        });
        return { webhook: w.name as string, call: results.every(Boolean) };
      }),
  );
}

/** Does the engine see any port exposure in this object? */
function engineSeesExposure(object: Obj): boolean {
  const kind = checkedKind(object.apiVersion, object.kind)!;
  const facts = resourceFacts(object as KubeObject, kind);
  return (
    (facts.podSpec !== null && (facts.podSpec.hostNetwork || facts.podSpec.hostPorts.length > 0)) ||
    (facts.service !== null && (facts.service.allocatesNodePorts || facts.service.nodePorts.length > 0)) ||
    facts.networkRules.some((r) => r.action === 'allow')
  );
}

const container = (ports?: Obj[]) => ({ name: 'c', image: 'x', ...(ports ? { ports } : {}) });
const podSpec = (extra: Obj = {}, ports?: Obj[]) => ({ containers: [container(ports)], ...extra });

// Where each checked workload kind keeps its pod spec (as in src/engine/facts/kinds.ts).
const WORKLOADS: { apiVersion: string; kind: string; wrap: (spec: Obj) => Obj }[] = [
  { apiVersion: 'v1', kind: 'Pod', wrap: (spec) => ({ spec }) },
  { apiVersion: 'v1', kind: 'PodTemplate', wrap: (spec) => ({ template: { spec } }) },
  { apiVersion: 'v1', kind: 'ReplicationController', wrap: (spec) => ({ spec: { template: { spec } } }) },
  { apiVersion: 'apps/v1', kind: 'Deployment', wrap: (spec) => ({ spec: { selector: {}, template: { spec } } }) },
  { apiVersion: 'apps/v1', kind: 'ReplicaSet', wrap: (spec) => ({ spec: { template: { spec } } }) },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', wrap: (spec) => ({ spec: { template: { spec } } }) },
  { apiVersion: 'apps/v1', kind: 'DaemonSet', wrap: (spec) => ({ spec: { template: { spec } } }) },
  { apiVersion: 'batch/v1', kind: 'Job', wrap: (spec) => ({ spec: { template: { spec } } }) },
  { apiVersion: 'batch/v1', kind: 'CronJob', wrap: (spec) => ({ spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec } } } } }) },
];

const SPECS: { name: string; spec: Obj; call: boolean }[] = [
  { name: 'containerPort only', spec: podSpec({}, [{ containerPort: 8080 }]), call: false },
  { name: 'no ports at all', spec: podSpec(), call: false },
  { name: 'hostNetwork: false', spec: podSpec({ hostNetwork: false }, [{ containerPort: 80 }]), call: false },
  { name: 'a hostPort', spec: podSpec({}, [{ containerPort: 8080, hostPort: 10250 }]), call: true },
  { name: 'hostNetwork', spec: podSpec({ hostNetwork: true }), call: true },
  {
    name: 'a hostPort in an init container',
    spec: { containers: [container()], initContainers: [container([{ containerPort: 1, hostPort: 2379 }])] },
    call: true,
  },
  {
    name: 'a hostPort in an ephemeral container',
    spec: { containers: [container()], ephemeralContainers: [container([{ containerPort: 1, hostPort: 9 }])] },
    call: true,
  },
  {
    name: 'the second of several containers',
    spec: { containers: [container([{ containerPort: 1 }]), { ...container([{ containerPort: 2, hostPort: 31000 }]), name: 'd' }] },
    call: true,
  },
];

const WORKLOAD_ROWS = WORKLOADS.flatMap((w) =>
  SPECS.map((s) => ({
    name: `${w.kind} with ${s.name}`,
    object: { apiVersion: w.apiVersion, kind: w.kind, metadata: { name: 'x', namespace: 'ns' }, ...w.wrap(s.spec) },
    call: s.call,
  })),
);

const svc = (spec: Obj) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'ns' }, spec });
const netpol = (spec: Obj) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'n', namespace: 'ns' }, spec });

const OTHER_ROWS: { name: string; object: Obj; call: boolean }[] = [
  { name: 'ClusterIP Service', object: svc({ type: 'ClusterIP', ports: [{ port: 80 }] }), call: false },
  { name: 'headless Service', object: svc({ type: 'ClusterIP', clusterIP: 'None', ports: [{ port: 80 }] }), call: false },
  { name: 'ExternalName Service', object: svc({ type: 'ExternalName', externalName: 'example.com' }), call: false },
  {
    name: 'ClusterIP Service with externalIPs (CVE-2020-8554)',
    object: svc({ type: 'ClusterIP', ports: [{ port: 80 }], externalIPs: ['203.0.113.10'] }),
    call: true,
  },
  { name: 'ClusterIP Service with an empty externalIPs', object: svc({ type: 'ClusterIP', ports: [{ port: 80 }], externalIPs: [] }), call: false },
  { name: 'NodePort Service', object: svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }), call: true },
  { name: 'NodePort Service without nodePort', object: svc({ type: 'NodePort', ports: [{ port: 80 }] }), call: true },
  { name: 'LoadBalancer Service', object: svc({ type: 'LoadBalancer', ports: [{ port: 80 }] }), call: true },
  { name: 'Service without a type (not defaulted)', object: svc({ ports: [{ port: 80 }] }), call: true },
  { name: 'Service without a spec', object: { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } }, call: true },
  { name: 'ingress-only NetworkPolicy', object: netpol({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] }), call: false },
  { name: 'default-deny NetworkPolicy', object: netpol({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] }), call: false },
  { name: 'egress to everything', object: netpol({ podSelector: {}, egress: [{}] }), call: true },
  {
    name: 'egress to an ipBlock on 10250',
    object: netpol({ podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ port: 10250 }] }] }),
    call: true,
  },
  // The admin network policies (kubernetes-sigs/network-policy-api apis/v1alpha1, v1alpha2).
  ...(['AdminNetworkPolicy', 'BaselineAdminNetworkPolicy', 'ClusterNetworkPolicy'] as const).flatMap((kind) => {
    const allow = kind === 'ClusterNetworkPolicy' ? 'Accept' : 'Allow';
    const apiVersion = kind === 'ClusterNetworkPolicy' ? 'policy.networking.k8s.io/v1alpha2' : 'policy.networking.k8s.io/v1alpha1';
    const o = (spec: Obj) => ({ apiVersion, kind, metadata: { name: 'a' }, spec: { subject: { namespaces: {} }, ...spec } });
    return [
      { name: `${kind} with an ${allow} egress rule to nodes`, object: o({ egress: [{ action: allow, to: [{ nodes: {} }] }] }), call: true },
      { name: `${kind} with Deny egress rules only`, object: o({ egress: [{ action: 'Deny', to: [{ nodes: {} }] }] }), call: false },
      { name: `${kind} with ingress rules only`, object: o({ ingress: [{ action: allow, from: [{ namespaces: {} }] }] }), call: false },
      { name: `${kind} without rules`, object: o({}), call: false },
      { name: `${kind} with a rule without action (not defaulted)`, object: o({ egress: [{ to: [{ nodes: {} }] }] }), call: true },
    ];
  }),
  // Calico's policies, both groups (api/pkg/apis/projectcalico/v3 policy_common.go).
  ...(['projectcalico.org/v3', 'crd.projectcalico.org/v1'] as const).flatMap((apiVersion) =>
    (['NetworkPolicy', 'GlobalNetworkPolicy'] as const).flatMap((kind) => {
      const o = (spec: Obj) => ({
        apiVersion,
        kind,
        metadata: { name: 'c', ...(kind === 'NetworkPolicy' ? { namespace: 'ns' } : {}) },
        spec: { selector: 'all()', ...spec },
      });
      return [
        {
          name: `${apiVersion} ${kind} with an Allow egress rule`,
          object: o({ egress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [10250] } }] }),
          call: true,
        },
        {
          name: `${apiVersion} ${kind} with an Allow ingress rule`,
          object: o({ ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [10250] } }] }),
          call: true,
        },
        {
          name: `${apiVersion} ${kind} with Deny, Pass and Log rules only`,
          object: o({ egress: [{ action: 'Deny' }, { action: 'Pass' }, { action: 'Log' }], ingress: [{ action: 'Deny' }] }),
          call: false,
        },
        { name: `${apiVersion} ${kind} without rules`, object: o({}), call: false },
      ];
    }),
  ),
  {
    name: 'CiliumNetworkPolicy (always checked)',
    object: { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: 'c', namespace: 'ns' }, spec: { endpointSelector: {} } },
    call: true,
  },
];

describe('webhook matchConditions', () => {
  it.each([...WORKLOAD_ROWS, ...OTHER_ROWS])('$name → call the webhook: $call', ({ object, call }) => {
    const verdicts = matches(object, object.apiVersion, object.kind);
    expect(verdicts.length).toBeGreaterThan(0);
    for (const v of verdicts) expect(v).toEqual({ webhook: v.webhook, call });
    // Skipping is safe only when the engine would find nothing to judge.
    if (!call) expect(engineSeesExposure(object)).toBe(false);
  });

  it('a Pod matches exactly one validating webhook and no mutating one (pods are never patched)', () => {
    expect(matches(WORKLOAD_ROWS[0].object, 'v1', 'Pod').map((v) => v.webhook)).toEqual(['pods.validate.portcullis.dev']);
  });

  // Only Services and NetworkPolicies can be patched (src/engine/remediate/).
  const PATCHED = new Set(['/Service', 'networking.k8s.io/NetworkPolicy']);
  it.each(AUDITED.map((t) => ({ kind: `${t.group}/${t.kind}`, t, expected: PATCHED.has(`${t.group}/${t.kind}`) ? ['validate', 'mutate'] : ['validate'] })))(
    '$kind: webhooks $expected',
    ({ t, expected }) => {
      const names = matches(null, t.group ? `${t.group}/${t.version}` : t.version, t.kind).map((v) => v.webhook.split('.')[1]);
      expect(names).toEqual(expected);
    },
  );

  it.each(WORKLOADS)('$kind: a null object (DELETE) is sent, never an error', ({ apiVersion, kind }) => {
    for (const v of matches(null, apiVersion, kind, 'CREATE')) expect(v.call).toBe(true);
  });

  it.each(WORKLOADS)('$kind: without its pod spec it is sent; with an empty pod spec skipped; never an error', ({ apiVersion, kind, wrap }) => {
    const bare = { apiVersion, kind, metadata: { name: 'x' } };
    for (const v of matches(bare, apiVersion, kind)) expect(v.call).toBe(true);
    const empty = { ...bare, ...wrap({}) };
    for (const v of matches(empty, apiVersion, kind)) expect(v.call).toBe(false);
    expect(engineSeesExposure(empty)).toBe(false);
  });

  it('on any pod spec, every workload webhook agrees with the engine: called exactly when there is a host port or hostNetwork', () => {
    const port = fc.record(
      { containerPort: fc.integer({ min: 1, max: 65535 }), hostPort: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }) },
      { requiredKeys: ['containerPort'] },
    );
    const ctr = fc.record(
      { name: fc.constantFrom('a', 'b', 'c'), image: fc.constant('x'), ports: fc.option(fc.array(port, { maxLength: 3 }), { nil: undefined }) },
      { requiredKeys: ['name', 'image'] },
    );
    const spec = fc.record(
      {
        hostNetwork: fc.option(fc.boolean(), { nil: undefined }),
        containers: fc.array(ctr, { minLength: 1, maxLength: 3 }),
        initContainers: fc.option(fc.array(ctr, { maxLength: 2 }), { nil: undefined }),
      },
      { requiredKeys: ['containers'] },
    );
    fc.assert(
      fc.property(fc.constantFrom(...WORKLOADS), spec, (w, s) => {
        const clean = JSON.parse(JSON.stringify(s)) as Obj; // drop undefined, as the API server's encoding does
        const object = { apiVersion: w.apiVersion, kind: w.kind, metadata: { name: 'x', namespace: 'ns' }, ...w.wrap(clean) };
        const verdicts = matches(object, w.apiVersion, w.kind);
        return verdicts.length === 1 && verdicts.every((v) => v.call === engineSeesExposure(object));
      }),
      { numRuns: 300 },
    );
  });
});
