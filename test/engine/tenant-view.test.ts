// What a tenant's objects do once applied: omitted node ports allocated outside the tenant's
// slice (scan only), hostNetwork around allowedHostPorts, LoadBalancers switched off, and
// exemptions by image and by requester.
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { evaluate } from '../../src/engine/evaluate.js';
import type { PortPolicySpec } from '../../src/engine/policy/model.js';
import type { Finding, KubeObject, Resource } from '../../src/engine/types.js';
import { cluster, container, policy } from './helpers.js';

const ingressNginx = load(readFileSync(new URL('./fixtures/ingress-nginx-baremetal.yaml', import.meta.url), 'utf8')) as KubeObject;
const TEAM_A = { name: 'team-a', namespaces: ['team-a'], nodePortRange: '30000-30039' };

const run = (object: unknown, spec: PortPolicySpec, opts: { ns?: string; planned?: boolean; requester?: Resource['requester'] } = {}): Finding[] => {
  const resource: Resource = { object: object as KubeObject, namespace: opts.ns ?? 'team-a', source: null };
  if (opts.requester) resource.requester = opts.requester;
  return evaluate(resource, [policy(spec)], cluster(), { planned: opts.planned ?? false }).findings;
};
const brief = (fs: Finding[]) => fs.map((f) => `${f.action} ${f.rule} ${f.path}`);
const svc = (spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec });

describe('tenant view: omitted node ports', () => {
  it.each([
    {
      name: "ingress-nginx's baremetal NodePort Service in a tenant slice: one finding per port",
      object: ingressNginx,
      spec: { tenants: [TEAM_A] },
      want: ['deny nodeport-range spec.ports[0].nodePort', 'deny nodeport-range spec.ports[1].nodePort'],
    },
    { name: 'the same at /validate (not planned): judged as received', object: ingressNginx, spec: { tenants: [TEAM_A] }, planned: false, want: [] },
    {
      name: 'the same with the allocator remediation on',
      object: ingressNginx,
      spec: { tenants: [TEAM_A], remediation: { nodePortAllocation: true } },
      want: [],
    },
    { name: 'the same in a tenant without a slice', object: ingressNginx, spec: { tenants: [{ name: 'team-a', namespaces: ['team-a'] }] }, want: [] },
    { name: 'the same outside every tenant', object: ingressNginx, spec: { tenants: [TEAM_A] }, ns: 'ingress-nginx', want: [] },
    {
      name: 'a LoadBalancer with omitted node ports',
      object: svc({ type: 'LoadBalancer', ports: [{ name: 'https', port: 443 }] }),
      spec: { tenants: [TEAM_A] },
      want: ['deny nodeport-range spec.ports[0].nodePort'],
    },
    {
      name: 'a LoadBalancer with allocateLoadBalancerNodePorts: false',
      object: svc({ type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ name: 'https', port: 443 }] }),
      spec: { tenants: [TEAM_A] },
      want: [],
    },
    { name: 'a named port inside the slice', object: svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 30010 }] }), spec: { tenants: [TEAM_A] }, want: [] },
    { name: 'a ClusterIP Service', object: svc({ ports: [{ port: 80 }] }), spec: { tenants: [TEAM_A] }, want: [] },
  ])('$name', ({ object, spec, ns, planned, want }) => {
    expect(brief(run(object, spec as PortPolicySpec, { ns, planned: planned ?? true }))).toEqual(want);
  });

  it('says what the API server will do, with the policy’s own ranges', () => {
    const [f] = run(ingressNginx, { nodePortRange: '30000-32767', tenants: [TEAM_A] }, { planned: true });
    expect([f.message, f.value, f.key]).toEqual([
      'the API server will allocate from 30000-32767, outside your slice: name a port in 30000-30039 or ask for the allocator',
      null,
      'nodeport-range|p:http/TCP|unset',
    ]);
  });
});

describe('tenant view: hostNetwork around allowedHostPorts', () => {
  // Flannel's, Calico's and kube-vip's DaemonSets declare no ports on the host network.
  const flannelLike = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'kube-flannel-ds' },
    spec: { template: { spec: { hostNetwork: true, containers: [{ name: 'kube-flannel', image: 'ghcr.io/flannel-io/flannel:v0.27.3' }] } } },
  };
  const tenant = (extra: Record<string, unknown>) => ({ tenants: [{ name: 'team-a', namespaces: ['team-a'], ...extra }] });
  it.each([
    {
      name: 'allowedHostPorts set, allowHostNetwork unset: a warning, even at deny',
      spec: tenant({ allowedHostPorts: ['8080-8090'] }),
      want: ['warn hostport-not-allowed spec.template.spec.hostNetwork'],
    },
    {
      name: 'the rule at audit stays at audit',
      spec: { ...tenant({ allowedHostPorts: ['8080-8090'] }), rules: { 'hostport-not-allowed': 'audit' } },
      want: ['audit hostport-not-allowed spec.template.spec.hostNetwork'],
    },
    { name: 'allowedHostPorts [] counts too', spec: tenant({ allowedHostPorts: [] }), want: ['warn hostport-not-allowed spec.template.spec.hostNetwork'] },
    {
      name: 'allowHostNetwork: false: denied',
      spec: tenant({ allowedHostPorts: ['8080-8090'], allowHostNetwork: false }),
      want: ['deny hostport-not-allowed spec.template.spec.hostNetwork'],
    },
    { name: 'allowHostNetwork: true: allowed', spec: tenant({ allowedHostPorts: ['8080-8090'], allowHostNetwork: true }), want: [] },
    { name: 'no allowedHostPorts: no restriction', spec: tenant({}), want: [] },
  ])('$name', ({ spec, want }) => {
    expect(brief(run(flannelLike, spec as PortPolicySpec))).toEqual(want);
  });
});

describe('allowLoadBalancers', () => {
  const tenant = (extra: Record<string, unknown>) => ({ tenants: [{ name: 'team-a', namespaces: ['team-a'], ...extra }] });
  it.each([
    {
      name: 'false: a LoadBalancer is denied at spec.type',
      object: svc({ type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 443 }] }),
      spec: tenant({ allowLoadBalancers: false }),
      want: ['deny nodeport-not-allowed spec.type'],
    },
    {
      name: 'false: a NodePort Service is not concerned',
      object: svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }),
      spec: tenant({ allowLoadBalancers: false }),
      want: [],
    },
    {
      name: 'default: a LoadBalancer passes',
      object: svc({ type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 443 }] }),
      spec: tenant({}),
      want: [],
    },
    {
      name: 'both switched off: one finding',
      object: svc({ type: 'LoadBalancer', ports: [{ port: 443 }] }),
      spec: tenant({ allowLoadBalancers: false, allowNodePorts: false }),
      want: ['deny nodeport-not-allowed spec.type'],
    },
  ])('$name', ({ object, spec, want }) => {
    expect(brief(run(object, spec as PortPolicySpec))).toEqual(want);
  });
});

describe('exemptions by image and by requester', () => {
  const agent = (images: { name: string; image: string; init?: boolean }[]) => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent' },
    spec: {
      template: {
        spec: {
          containers: images.filter((c) => !c.init).map((c) => ({ ...container(c.name, [{ containerPort: 10250, hostPort: 10250 }]), image: c.image })),
          initContainers: images.filter((c) => c.init).map((c) => ({ name: c.name, image: c.image, restartPolicy: 'Always' })),
        },
      },
    },
  });
  const exempting = (e: Record<string, unknown>) => ({ exemptions: [{ rules: ['hostport-reserved'], reason: 'node agent', ...e }] });
  const ALICE = { username: 'alice@example.com', groups: ['platform', 'system:authenticated'] };
  const CONTROLLER = { username: 'system:serviceaccount:kube-system:daemon-set-controller', groups: ['system:serviceaccounts'] };
  it.each([
    {
      name: 'every container matches: exempt',
      object: agent([{ name: 'a', image: 'node-agent:1' }]),
      spec: exempting({ images: ['docker.io/library/node-agent:1'] }),
      want: [],
    },
    {
      name: 'a sidecar (init container) with another image: not exempt',
      object: agent([
        { name: 'a', image: 'node-agent:1' },
        { name: 's', image: 'busybox:1', init: true },
      ]),
      spec: exempting({ images: ['node-agent:1'] }),
      want: ['deny hostport-reserved'],
    },
    {
      name: 'both images listed: exempt',
      object: agent([
        { name: 'a', image: 'node-agent:1' },
        { name: 's', image: 'busybox:1', init: true },
      ]),
      spec: exempting({ images: ['node-agent:1', 'busybox:*'] }),
      want: [],
    },
    {
      name: 'another tag: not exempt',
      object: agent([{ name: 'a', image: 'node-agent:2' }]),
      spec: exempting({ images: ['node-agent:1'] }),
      want: ['deny hostport-reserved'],
    },
    {
      name: 'a user exemption with that user at admission',
      object: agent([{ name: 'a', image: 'x:1' }]),
      spec: exempting({ users: ['alice@*'] }),
      requester: ALICE,
      want: [],
    },
    { name: 'a group exemption', object: agent([{ name: 'a', image: 'x:1' }]), spec: exempting({ groups: ['platform'] }), requester: ALICE, want: [] },
    {
      name: 'a user exemption, another requester',
      object: agent([{ name: 'a', image: 'x:1' }]),
      spec: exempting({ users: ['bob'] }),
      requester: ALICE,
      want: ['deny hostport-reserved'],
    },
    {
      name: 'a ServiceAccount exemption by namespace/name',
      object: agent([{ name: 'a', image: 'x:1' }]),
      spec: exempting({ serviceAccounts: ['kube-system/daemon-set-controller'] }),
      requester: CONTROLLER,
      want: [],
    },
    {
      name: 'a ServiceAccount exemption, a user requester',
      object: agent([{ name: 'a', image: 'x:1' }]),
      spec: exempting({ serviceAccounts: ['kube-system/*'] }),
      requester: ALICE,
      want: ['deny hostport-reserved'],
    },
    {
      name: 'a user exemption without a requester (scan): the finding stays',
      object: agent([{ name: 'a', image: 'x:1' }]),
      spec: exempting({ users: ['alice@*'] }),
      want: ['deny hostport-reserved'],
    },
  ])('$name', ({ object, spec, requester, want }) => {
    expect(run(object, spec as PortPolicySpec, { requester }).map((f) => `${f.action} ${f.rule}`)).toEqual(want);
  });

  it("never reads the pod's spec.serviceAccountName, which the tenant writes", () => {
    const object = agent([{ name: 'a', image: 'x:1' }]);
    (object.spec.template.spec as Record<string, unknown>).serviceAccountName = 'daemon-set-controller';
    expect(
      run(object, exempting({ serviceAccounts: ['team-a/daemon-set-controller', 'kube-system/daemon-set-controller'] }), { requester: ALICE }).length,
    ).toBe(1);
  });

  it('a scan says that an exemption by requester may apply at admission', () => {
    const [f] = run(agent([{ name: 'a', image: 'x:1' }]), exempting({ users: ['alice@*'], reason: 'alice runs the node agents' }));
    expect(f.message).toMatch(/\(at admission the exemption "alice runs the node agents" may apply, depending on who writes the object\)$/);
  });
});
