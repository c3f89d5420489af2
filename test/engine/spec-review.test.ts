// Issue 2's rule text, sentence by sentence: each table holds the cases that a misreading of
// one sentence would get wrong. The rule-specific test files hold the broader coverage.
import { evaluate } from '../../src/engine/evaluate.js';
import { parseBlock } from '../../src/engine/net/cidr.js';
import { loadPolicy } from '../../src/engine/policy/load.js';
import type { PortPolicySpec } from '../../src/engine/policy/model.js';
import { PROFILES } from '../../src/engine/policy/profiles.js';
import { cluster, container, defaultPolicy, defaultSpec, hits, policy, resource } from './helpers.js';

const doc = (spec: unknown, name = 'p') => ({ apiVersion: 'portcullis.dev/v1alpha1', kind: 'PortPolicy', metadata: { name }, spec });
const pod = (spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec });
const hostPort = (port: unknown, extra: Record<string, unknown> = {}) =>
  pod({ containers: [container('c', [{ containerPort: 1, hostPort: port, ...extra }])] });
const np = (spec: Record<string, unknown>) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'n' },
  spec: { podSelector: {}, ...spec },
});
const egress = (...rules: Record<string, unknown>[]) => np({ policyTypes: ['Egress'], egress: rules });
const ip = (cidr: string, except?: string[]) => ({ ipBlock: except ? { cidr, except } : { cidr } });
const kubelet = [{ port: 10250 }];
const cnp = (spec: Record<string, unknown>) => ({
  apiVersion: 'cilium.io/v2',
  kind: 'CiliumNetworkPolicy',
  metadata: { name: 'c' },
  spec: { endpointSelector: {}, ...spec },
});
const ccnp = (body: Record<string, unknown>) => ({ apiVersion: 'cilium.io/v2', kind: 'CiliumClusterwideNetworkPolicy', metadata: { name: 'cc' }, ...body });
const kubeletTCP = [{ ports: [{ port: '10250', protocol: 'TCP' }] }];

describe('policy: defaulting and load errors', () => {
  it('fields a policy omits among nodePortRange, reservedPorts, sensitivePorts and rules take the default values', () => {
    const p = policy({ rules: { 'hostport-reserved': 'warn' } });
    expect(p.nodePortRange).toEqual({ lo: 30000, hi: 32767 });
    const defaultEntries = PROFILES.filter((x) => defaultSpec.profiles!.includes(x.name)).flatMap((x) => x.entries.map((e) => e.name));
    expect(p.reservedPorts.map((e) => e.name)).toEqual([...defaultEntries, 'nodeport-range']);
    expect(p.sensitivePorts.map((e) => [e.name, e.range.lo, e.protocol])).toEqual([
      ['kubelet-api', 10250, 'TCP'],
      ['kubelet-read-only', 10255, 'TCP'],
    ]);
    expect(p.rules).toEqual({
      'nodeport-range': 'deny',
      'nodeport-not-allowed': 'deny',
      'hostport-reserved': 'warn',
      'hostport-not-allowed': 'deny',
      'netpol-sensitive-exposure': 'deny',
      'service-external-ips': 'deny',
    });
  });

  it('a field the policy gives replaces the default whole (an empty catalog stays empty)', () => {
    const p = policy({ sensitivePorts: [], reservedPorts: [{ name: 'x', ports: '7000', component: 'x' }] });
    expect(p.sensitivePorts).toEqual([]);
    expect(p.reservedPorts.map((e) => e.name)).toEqual(['x', 'nodeport-range']);
  });

  it('tenants and exemptions are never inherited from the defaults', () => {
    const defaults: PortPolicySpec = {
      ...defaultSpec,
      tenants: [{ name: 'inherited', namespaces: ['team-a'], allowedHostPorts: [] }],
      exemptions: [{ namespaces: ['*'], reason: 'inherited' }],
    };
    const r = loadPolicy(doc({}), defaults);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.policy.tenants).toEqual([]);
    expect(r.policy.exemptions).toEqual([]);
    // No exemption: a kube-system pod that owns no catalog entry is flagged there too.
    const e = evaluate(resource(hostPort(10250), 'kube-system'), [r.policy], cluster());
    expect(e.findings.map((f) => f.rule)).toEqual(['hostport-reserved']);
  });

  it.each([
    {
      name: 'slice outside the inherited range',
      spec: { tenants: [{ name: 'a', namespaces: ['a'], nodePortRange: '32700-32800' }] },
      path: 'spec.tenants[0].nodePortRange',
    },
    {
      name: "slice outside the policy's own range",
      spec: { nodePortRange: '20000-22767', tenants: [{ name: 'a', namespaces: ['a'], nodePortRange: '31000-31099' }] },
      path: 'spec.tenants[0].nodePortRange',
    },
    {
      name: 'slices sharing one port',
      spec: {
        tenants: [
          { name: 'a', namespaces: ['a'], nodePortRange: '31000-31099' },
          { name: 'b', namespaces: ['b'], nodePortRange: '31099-31199' },
        ],
      },
      path: 'spec.tenants[1].nodePortRange',
    },
    {
      name: 'a slice inside another',
      spec: {
        tenants: [
          { name: 'a', namespaces: ['a'], nodePortRange: '31000-31999' },
          { name: 'b', namespaces: ['b'], nodePortRange: '31500' },
        ],
      },
      path: 'spec.tenants[1].nodePortRange',
    },
    {
      name: 'one namespace name in two tenants',
      spec: {
        tenants: [
          { name: 'a', namespaces: ['shared', 'a'] },
          { name: 'b', namespaceSelector: {}, namespaces: ['shared'] },
        ],
      },
      path: 'spec.tenants[1].namespaces[0]',
    },
  ])('load error naming the field: $name', ({ spec, path }) => {
    const r = loadPolicy(doc(spec), defaultSpec);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.path)).toContain(path);
  });

  it.each([
    {
      name: 'adjacent slices',
      spec: {
        tenants: [
          { name: 'a', namespaces: ['a'], nodePortRange: '31000-31099' },
          { name: 'b', namespaces: ['b'], nodePortRange: '31100-31199' },
        ],
      },
    },
    {
      name: 'slices at both ends of the range',
      spec: {
        tenants: [
          { name: 'a', namespaces: ['a'], nodePortRange: '30000-30099' },
          { name: 'b', namespaces: ['b'], nodePortRange: '32700-32767' },
        ],
      },
    },
    { name: 'a namespace listed twice by one tenant', spec: { tenants: [{ name: 'a', namespaces: ['a', 'a'] }] } },
    {
      name: 'a name and a glob that matches it in two tenants',
      spec: {
        tenants: [
          { name: 'a', namespaces: ['team-a'] },
          { name: 'b', namespaces: ['team-*'] },
        ],
      },
    },
    { name: 'a slice inside a moved range', spec: { nodePortRange: '20000-22767', tenants: [{ name: 'a', namespaces: ['a'], nodePortRange: '21000-21099' }] } },
  ])('valid: $name', ({ spec }) => {
    const r = loadPolicy(doc(spec), defaultSpec);
    expect(r.ok ? [] : r.problems).toEqual([]);
  });
});

describe('nodeport-range and nodeport-not-allowed', () => {
  const tenants = policy({
    tenants: [
      { name: 'a', namespaces: ['a'], nodePortRange: '31000-31099' },
      { name: 'b', namespaces: ['b'], allowNodePorts: false },
    ],
  });
  const svc = (spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec });
  it.each([
    {
      name: 'healthCheckNodePort outside the slice',
      ns: 'a',
      object: svc({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 30500, ports: [{ port: 80, nodePort: 31001 }] }),
      want: [['spec.healthCheckNodePort', 30500]],
    },
    {
      name: 'node port given as a string',
      ns: 'default',
      object: svc({ type: 'NodePort', ports: [{ port: 80, nodePort: '8080' }] }),
      want: [['spec.ports[0].nodePort', 8080]],
    },
    { name: 'nodePort 0 is unset', ns: 'default', object: svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 0 }] }), want: [] },
    {
      name: 'slice edges',
      ns: 'a',
      object: svc({
        type: 'NodePort',
        ports: [
          { port: 80, nodePort: 31000 },
          { port: 81, nodePort: 31099 },
          { port: 82, nodePort: 31100 },
        ],
      }),
      want: [['spec.ports[2].nodePort', 31100]],
    },
    {
      name: 'LoadBalancer node ports',
      ns: 'default',
      object: svc({ type: 'LoadBalancer', ports: [{ port: 80, nodePort: 1000 }] }),
      want: [['spec.ports[0].nodePort', 1000]],
    },
    { name: 'a tenant without a slice: the policy range', ns: 'b', object: svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 30000 }] }), want: [] },
  ])('nodeport-range: $name', ({ ns, object, want }) => {
    expect(hits('nodeport-range', object, { policy: tenants, namespace: ns })).toEqual(want);
  });

  it.each([
    { name: 'NodePort Service', object: svc({ type: 'NodePort', ports: [{ port: 80 }] }), want: [['spec.type', null]] },
    { name: 'LoadBalancer allocating node ports by default', object: svc({ type: 'LoadBalancer', ports: [{ port: 80 }] }), want: [['spec.type', null]] },
    { name: 'LoadBalancer that allocates none', object: svc({ type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80 }] }), want: [] },
    { name: 'ClusterIP with a stray nodePort', object: svc({ type: 'ClusterIP', ports: [{ port: 80, nodePort: 30000 }] }), want: [] },
  ])('nodeport-not-allowed: $name', ({ object, want }) => {
    expect(hits('nodeport-not-allowed', object, { policy: tenants, namespace: 'b' })).toEqual(want);
  });
});

describe('hostport-reserved: the effective host port', () => {
  it.each([
    { name: 'hostPort given as a string', object: hostPort('10250'), want: [['spec.containers[0].ports[0].hostPort', 10250]] },
    { name: 'hostPort "0" is none', object: hostPort('0'), want: [] },
    {
      name: 'hostPort 0 on the host network: the containerPort',
      object: pod({ hostNetwork: true, containers: [container('c', [{ containerPort: 10250, hostPort: 0 }])] }),
      want: [['spec.containers[0].ports[0].containerPort', 10250]],
    },
    {
      name: 'containerPort as a string on the host network',
      object: pod({ hostNetwork: true, containers: [container('c', [{ containerPort: '10259' }])] }),
      want: [['spec.containers[0].ports[0].containerPort', 10259]],
    },
    {
      name: 'protocol written in lower case is that protocol (udp)',
      object: hostPort(8472, { protocol: 'udp' }),
      want: [['spec.containers[0].ports[0].hostPort', 8472]],
    },
    { name: 'protocol written in lower case is that protocol (not TCP)', object: hostPort(10250, { protocol: 'udp' }), want: [] },
    { name: 'SCTP on a TCP entry', object: hostPort(6443, { protocol: 'SCTP' }), want: [] },
    {
      name: 'SCTP in the NodePort range (every protocol)',
      object: hostPort(30000, { protocol: 'SCTP' }),
      want: [['spec.containers[0].ports[0].hostPort', 30000]],
    },
    { name: 'NodePort range upper edge', object: hostPort(32767), want: [['spec.containers[0].ports[0].hostPort', 32767]] },
    { name: 'just above the NodePort range', object: hostPort(32768), want: [] },
    { name: 'etcd range, upper port', object: hostPort(2380), want: [['spec.containers[0].ports[0].hostPort', 2380]] },
    { name: 'etcd metrics 2381 is in the kubernetes profile', object: hostPort(2381), want: [['spec.containers[0].ports[0].hostPort', 2381]] },
    {
      name: 'the same hostPort twice: one finding per path',
      object: pod({
        containers: [
          container('c', [
            { containerPort: 1, hostPort: 10250 },
            { containerPort: 2, hostPort: 10250 },
          ]),
        ],
      }),
      want: [
        ['spec.containers[0].ports[0].hostPort', 10250],
        ['spec.containers[0].ports[1].hostPort', 10250],
      ],
    },
    { name: 'hostNetwork without ports', object: pod({ hostNetwork: true, containers: [container('c', [])] }), want: [] },
    {
      name: 'hostNetwork initContainer port',
      object: pod({ hostNetwork: true, initContainers: [container('i', [{ containerPort: 10248 }])], containers: [container('c', [])] }),
      want: [['spec.initContainers[0].ports[0].containerPort', 10248]],
    },
  ])('$name', ({ object, want }) => {
    expect(hits('hostport-reserved', object)).toEqual(want);
  });
});

describe('hostport-not-allowed', () => {
  const p = policy({ tenants: [{ name: 't', namespaces: ['t'], allowedHostPorts: ['8080-8090'], allowHostNetwork: false }] });
  it.each([
    {
      name: 'hostNetwork: the field itself and each container port outside the list',
      object: pod({ hostNetwork: true, containers: [container('c', [{ containerPort: 8080 }, { containerPort: 9000 }])] }),
      want: [
        ['spec.hostNetwork', null],
        ['spec.containers[0].ports[1].containerPort', 9000],
      ],
    },
    {
      name: 'range edges',
      object: pod({
        containers: [
          container('c', [
            { containerPort: 1, hostPort: 8080 },
            { containerPort: 2, hostPort: 8090 },
            { containerPort: 3, hostPort: 8091 },
          ]),
        ],
      }),
      want: [['spec.containers[0].ports[2].hostPort', 8091]],
    },
  ])('$name', ({ object, want }) => {
    expect(hits('hostport-not-allowed', object, { policy: p, namespace: 't' })).toEqual(want);
  });
});

describe('netpol-sensitive-exposure: NetworkPolicy, assumed node addresses', () => {
  it.each([
    { name: 'IPv4 /16 inside private space: broad', object: egress({ to: [ip('192.168.0.0/16')], ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    { name: 'IPv4 /17: narrow', object: egress({ to: [ip('192.168.0.0/17')], ports: kubelet }), want: [] },
    { name: 'IPv4 /12 of 172.16: broad', object: egress({ to: [ip('172.16.0.0/12')], ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    { name: 'a /16 of public space does not overlap N', object: egress({ to: [ip('100.64.0.0/16')], ports: kubelet }), want: [] },
    { name: 'a wide block whose except removes all private space', object: egress({ to: [ip('10.0.0.0/8', ['10.0.0.0/8'])], ports: kubelet }), want: [] },
    {
      name: 'a /16 whose except leaves part of it: still /16',
      object: egress({ to: [ip('10.1.0.0/16', ['10.1.0.0/17'])], ports: kubelet }),
      want: [['spec.egress[0]', 10250]],
    },
    { name: 'IPv6 /48: broad', object: egress({ to: [ip('fd12:3456:789a::/48')], ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    { name: 'IPv6 /49: narrow', object: egress({ to: [ip('fd12:3456:789a::/49')], ports: kubelet }), want: [] },
    { name: 'IPv6 /47 outside fc00::/7', object: egress({ to: [ip('2001:db8::/47')], ports: kubelet }), want: [] },
    { name: 'host bits 10.1.2.3/8', object: egress({ to: [ip('10.1.2.3/8')], ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    { name: 'leading zeros 010.0.0.0/8', object: egress({ to: [ip('010.0.0.0/8')], ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    {
      name: 'IPv4-mapped ::ffff:10.0.0.0/104 is 10.0.0.0/8',
      object: egress({ to: [ip('::ffff:10.0.0.0/104')], ports: kubelet }),
      want: [['spec.egress[0]', 10250]],
    },
    {
      name: 'IPv4-mapped ::ffff:0.0.0.0/96 is 0.0.0.0/0',
      object: egress({ to: [ip('::ffff:0.0.0.0/96')], ports: kubelet }),
      want: [['spec.egress[0]', 10250]],
    },
    { name: 'IPv4-mapped in full form', object: egress({ to: [ip('0:0:0:0:0:ffff:10.0.0.0/104')], ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    { name: 'IPv4-mapped in hex form', object: egress({ to: [ip('::ffff:a00:0/104')], ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    { name: 'IPv4-mapped /112 is a /16', object: egress({ to: [ip('::ffff:192.168.0.0/112')], ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    { name: 'IPv4-mapped /113 is a /17', object: egress({ to: [ip('::ffff:192.168.0.0/113')], ports: kubelet }), want: [] },
    { name: 'IPv4-mapped except carves the IPv4 block', object: egress({ to: [ip('10.0.0.0/8', ['::ffff:10.0.0.0/104'])], ports: kubelet }), want: [] },
    {
      name: 'podSelector and a broad ipBlock',
      object: egress({ to: [{ podSelector: { matchLabels: { app: 'x' } } }, ip('10.0.0.0/8')], ports: kubelet }),
      want: [['spec.egress[0]', 10250]],
    },
    { name: 'podSelector and a narrow ipBlock', object: egress({ to: [{ podSelector: {} }, ip('10.0.0.0/24')], ports: kubelet }), want: [] },
    { name: 'namespaceSelector {} (all pods) is never nodes', object: egress({ to: [{ namespaceSelector: {} }], ports: kubelet }), want: [] },
    { name: 'namespaceSelector with podSelector', object: egress({ to: [{ namespaceSelector: {}, podSelector: {} }], ports: kubelet }), want: [] },
    { name: 'port entry with protocol omitted is TCP', object: egress({ ports: [{ port: 10255 }] }), want: [['spec.egress[0]', 10255]] },
    { name: 'SCTP 10250', object: egress({ ports: [{ port: 10250, protocol: 'SCTP' }] }), want: [] },
    { name: 'port = n exactly at endPort', object: egress({ ports: [{ port: 10200, endPort: 10250 }] }), want: [['spec.egress[0]', 10250]] },
    { name: 'port range starting at n', object: egress({ ports: [{ port: 10250, endPort: 10254 }] }), want: [['spec.egress[0]', 10250]] },
    { name: 'port range between the two', object: egress({ ports: [{ port: 10251, endPort: 10254 }] }), want: [] },
    {
      name: 'duplicate port entries: one finding',
      object: egress({ ports: [{ port: 10250 }, { port: 10250, protocol: 'TCP' }] }),
      want: [['spec.egress[0]', 10250]],
    },
    { name: 'named port next to an all-UDP entry', object: egress({ ports: [{ port: 'https' }, { protocol: 'UDP' }] }), want: [] },
    { name: 'all TCP ports to everywhere is not this finding', object: egress({ ports: [{ protocol: 'TCP' }] }), want: [] },
    { name: 'empty ports list to everywhere is not this finding', object: egress({ ports: [], to: [] }), want: [] },
    {
      name: 'a port range covering everything to everywhere names S',
      object: egress({ ports: [{ port: 1, endPort: 65535 }] }),
      want: [
        ['spec.egress[0]', 10250],
        ['spec.egress[0]', 10255],
      ],
    },
    {
      name: 'policyTypes [Ingress, Egress] with egress rules',
      object: np({ policyTypes: ['Ingress', 'Egress'], egress: [{ ports: kubelet }] }),
      want: [['spec.egress[0]', 10250]],
    },
    { name: 'policyTypes [Ingress, Egress] without egress rules opens nothing', object: np({ policyTypes: ['Ingress', 'Egress'] }), want: [] },
    { name: 'no policyTypes, ingress only', object: np({ ingress: [{ ports: kubelet }] }), want: [] },
    {
      name: 'the second rule is judged on its own',
      object: egress({ to: [ip('10.0.0.0/24')], ports: kubelet }, { to: [ip('10.0.0.0/8')], ports: [{ port: 10255 }] }),
      want: [['spec.egress[1]', 10255]],
    },
  ])('$name', ({ object, want }) => {
    expect(hits('netpol-sensitive-exposure', object)).toEqual(want);
  });
});

describe('netpol-sensitive-exposure: NetworkPolicy, known node addresses', () => {
  const three = policy({ nodeCIDRs: ['10.0.0.1/32', '10.0.0.2/32', '10.0.0.3/32'] });
  const one = policy({ nodeCIDRs: ['10.0.0.9'] });
  const v6 = policy({ nodeCIDRs: ['2001:db8:0:1::10/127'] });
  it.each([
    { name: 'a /32 to one of three nodes: not broad', p: three, object: egress({ to: [ip('10.0.0.1/32')], ports: kubelet }), want: [] },
    { name: 'a /31 holding two of three nodes', p: three, object: egress({ to: [ip('10.0.0.2/31')], ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    {
      name: 'two /32 peers hold two nodes together: the rule opens the port to both',
      p: three,
      object: egress({ to: [ip('10.0.0.1/32'), ip('10.0.0.3/32')], ports: kubelet }),
      want: [['spec.egress[0]', 10250]],
    },
    { name: 'except leaving one node of three', p: three, object: egress({ to: [ip('10.0.0.0/24', ['10.0.0.2/31'])], ports: kubelet }), want: [] },
    { name: 'a /32 holding all of a one-address N', p: one, object: egress({ to: [ip('10.0.0.9/32')], ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    {
      name: 'every port to the only node: targets nodes',
      p: one,
      object: egress({ to: [ip('10.0.0.9/32')] }),
      want: [
        ['spec.egress[0]', 10250],
        ['spec.egress[0]', 10255],
      ],
    },
    { name: 'every port to one of three nodes: not targeted', p: three, object: egress({ to: [ip('10.0.0.3/32')] }), want: [] },
    {
      name: 'every port to two /32 node peers: targets nodes',
      p: three,
      object: egress({ to: [ip('10.0.0.1/32'), ip('10.0.0.3/32')] }),
      want: [
        ['spec.egress[0]', 10250],
        ['spec.egress[0]', 10255],
      ],
    },
    { name: 'every port to node addresses and one more address', p: three, object: egress({ to: [ip('10.0.0.0/30')] }), want: [] },
    { name: 'every port to nodes and a podSelector', p: three, object: egress({ to: [ip('10.0.0.2/31'), { podSelector: {} }] }), want: [] },
    { name: 'every port (no to) with known N is still everywhere', p: three, object: egress({}), want: [] },
    {
      name: 'every TCP port to the nodes',
      p: three,
      object: egress({ to: [ip('10.0.0.2/31')], ports: [{ protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] }),
      want: [
        ['spec.egress[0]', 10250],
        ['spec.egress[0]', 10255],
      ],
    },
    { name: 'a named port to the nodes', p: three, object: egress({ to: [ip('10.0.0.2/31')], ports: [{ port: 'kubelet' }] }), want: [] },
    { name: 'a wide block missing N entirely', p: three, object: egress({ to: [ip('192.168.0.0/16')], ports: kubelet }), want: [] },
    { name: 'IPv6 node addresses reached by ::/0', p: v6, object: egress({ to: [ip('::/0')], ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    { name: 'IPv6 node addresses, IPv4 block', p: v6, object: egress({ to: [ip('0.0.0.0/0')], ports: kubelet }), want: [] },
  ])('$name', ({ p, object, want }) => {
    expect(hits('netpol-sensitive-exposure', object, { policy: p })).toEqual(want);
  });

  it('N is nodeCIDRs together with the cluster node addresses', () => {
    const p = policy({ nodeCIDRs: ['10.0.0.1/32'] });
    const object = egress({ to: [ip('10.0.0.0/30', ['10.0.0.1/32'])], ports: kubelet });
    expect(hits('netpol-sensitive-exposure', object, { policy: p })).toEqual([]);
    expect(hits('netpol-sensitive-exposure', object, { policy: p, cluster: cluster({}, ['10.0.0.2', '10.0.0.3']) })).toEqual([['spec.egress[0]', 10250]]);
  });
});

describe('netpol-sensitive-exposure: Cilium', () => {
  const known = policy({ nodeCIDRs: ['10.0.0.0/29'] });
  it.each([
    { name: 'toPorts with ports: [] opens no port', object: cnp({ egress: [{ toEntities: ['host'], toPorts: [{ ports: [] }] }] }), want: [] },
    { name: 'toPorts entry without ports opens no port', object: cnp({ egress: [{ toEntities: ['host'], toPorts: [{}] }] }), want: [] },
    {
      name: 'toPorts: [] is no port restriction',
      object: cnp({ egress: [{ toEntities: ['host'], toPorts: [] }] }),
      want: [
        ['spec.egress[0]', 10250],
        ['spec.egress[0]', 10255],
      ],
    },
    {
      name: 'toEndpoints and toEntities host: host reaches nodes',
      object: cnp({ egress: [{ toEndpoints: [{}], toEntities: ['host'], toPorts: kubeletTCP }] }),
      want: [['spec.egress[0]', 10250]],
    },
    { name: 'toEndpoints and toEntities host, every port: not only nodes', object: cnp({ egress: [{ toEndpoints: [{}], toEntities: ['host'] }] }), want: [] },
    {
      name: 'toEntities: [] next to a wildcard-free rule selects nothing',
      object: cnp({ egress: [{ toEntities: [], toPorts: [{ ports: [{ port: '0' }] }] }] }),
      want: [],
    },
    {
      name: 'toEntities world and cluster',
      object: cnp({ egress: [{ toEntities: ['world', 'cluster'], toPorts: kubeletTCP }] }),
      want: [['spec.egress[0]', 10250]],
    },
    {
      name: 'remote-node, every port: targets nodes',
      object: cnp({ egress: [{ toEntities: ['remote-node'] }] }),
      want: [
        ['spec.egress[0]', 10250],
        ['spec.egress[0]', 10255],
      ],
    },
    {
      name: 'host, every TCP port via port "0"',
      object: cnp({ egress: [{ toEntities: ['host'], toPorts: [{ ports: [{ port: '0', protocol: 'TCP' }] }] }] }),
      want: [
        ['spec.egress[0]', 10250],
        ['spec.egress[0]', 10255],
      ],
    },
    {
      name: 'host, every UDP port via port "0"',
      object: cnp({ egress: [{ toEntities: ['host'], toPorts: [{ ports: [{ port: '0', protocol: 'UDP' }] }] }] }),
      want: [],
    },
    {
      name: 'host, port "0" without protocol: every protocol',
      object: cnp({ egress: [{ toEntities: ['host'], toPorts: [{ ports: [{ port: '0' }] }] }] }),
      want: [
        ['spec.egress[0]', 10250],
        ['spec.egress[0]', 10255],
      ],
    },
    { name: 'world, every port: not nodes', object: cnp({ egress: [{ toEntities: ['world'] }] }), want: [] },
    { name: 'kube-apiserver, every port: not only host/remote-node', object: cnp({ egress: [{ toEntities: ['kube-apiserver'] }] }), want: [] },
    {
      name: 'toPorts protocol lower case',
      object: cnp({ egress: [{ toEntities: ['host'], toPorts: [{ ports: [{ port: '10250', protocol: 'tcp' }] }] }] }),
      want: [['spec.egress[0]', 10250]],
    },
    {
      name: 'toPorts endPort across 10250 only',
      object: cnp({ egress: [{ toPorts: [{ ports: [{ port: '10240', endPort: 10252, protocol: 'TCP' }] }] }] }),
      want: [['spec.egress[0]', 10250]],
    },
    {
      name: 'toCIDRSet except carves private space',
      object: cnp({ egress: [{ toCIDRSet: [{ cidr: '10.0.0.0/8', except: ['10.0.0.0/8'] }], toPorts: kubeletTCP }] }),
      want: [],
    },
    { name: 'toCIDR /17 (assumed N): narrow', object: cnp({ egress: [{ toCIDR: ['10.0.0.0/17'], toPorts: kubeletTCP }] }), want: [] },
    {
      name: 'egressDeny alongside a harmless egress',
      object: cnp({ egress: [{ toEndpoints: [{}] }], egressDeny: [{ toEntities: ['all'], toPorts: kubeletTCP }] }),
      want: [],
    },
    {
      name: 'specs: each spec, each rule, its own path',
      object: {
        apiVersion: 'cilium.io/v2',
        kind: 'CiliumNetworkPolicy',
        metadata: { name: 'c' },
        specs: [
          {
            endpointSelector: {},
            egress: [
              { toEntities: ['world'], toPorts: kubeletTCP },
              { toNodes: [{}], toPorts: kubeletTCP },
            ],
          },
        ],
      },
      want: [['specs[0].egress[1]', 10250]],
    },
  ])('CiliumNetworkPolicy: $name', ({ object, want }) => {
    expect(hits('netpol-sensitive-exposure', object)).toEqual(want);
  });

  it.each([
    {
      name: 'toCIDR of two node addresses, every port: targets nodes',
      object: cnp({ egress: [{ toCIDR: ['10.0.0.1/32', '10.0.0.2/32'] }] }),
      want: [
        ['spec.egress[0]', 10250],
        ['spec.egress[0]', 10255],
      ],
    },
    {
      name: 'toCIDRSet holding one node, kubelet port',
      object: cnp({ egress: [{ toCIDRSet: [{ cidr: '10.0.0.0/29', except: ['10.0.0.0/30', '10.0.0.4/31', '10.0.0.7/32'] }], toPorts: kubeletTCP }] }),
      want: [],
    },
  ])('CiliumNetworkPolicy with known N: $name', ({ object, want }) => {
    expect(hits('netpol-sensitive-exposure', object, { policy: known })).toEqual(want);
  });

  const host = (ingress: Record<string, unknown>[], extra: Record<string, unknown> = {}) => ccnp({ spec: { nodeSelector: {}, ingress, ...extra } });
  it.each([
    {
      name: 'allow-all ingress to the nodes from everywhere',
      object: host([{}]),
      want: [
        ['spec.ingress[0]', 10250],
        ['spec.ingress[0]', 10255],
      ],
    },
    { name: 'from world, named port', object: host([{ fromEntities: ['world'], toPorts: kubeletTCP }]), want: [['spec.ingress[0]', 10250]] },
    {
      name: 'from cluster, endPort over both ports',
      object: host([{ fromEntities: ['cluster'], toPorts: [{ ports: [{ port: '10000', endPort: 11000 }] }] }]),
      want: [
        ['spec.ingress[0]', 10250],
        ['spec.ingress[0]', 10255],
      ],
    },
    { name: 'from world, UDP only', object: host([{ fromEntities: ['world'], toPorts: [{ ports: [{ port: '10250', protocol: 'UDP' }] }] }]), want: [] },
    { name: 'from world, toPorts ports: []', object: host([{ fromEntities: ['world'], toPorts: [{ ports: [] }] }]), want: [] },
    { name: 'from host, remote-node and kube-apiserver', object: host([{ fromEntities: ['host', 'remote-node', 'kube-apiserver'] }]), want: [] },
    { name: 'from a /16 CIDR', object: host([{ fromCIDRSet: [{ cidr: '10.1.0.0/16' }], toPorts: kubeletTCP }]), want: [['spec.ingress[0]', 10250]] },
    { name: 'from a /17 CIDR', object: host([{ fromCIDR: ['10.1.0.0/17'], toPorts: kubeletTCP }]), want: [] },
    { name: 'from a public /16 CIDR is broad too', object: host([{ fromCIDR: ['203.0.0.0/16'], toPorts: kubeletTCP }]), want: [['spec.ingress[0]', 10250]] },
    { name: 'from an IPv6 /48', object: host([{ fromCIDR: ['2001:db8:1::/48'], toPorts: kubeletTCP }]), want: [['spec.ingress[0]', 10250]] },
    { name: 'fromEntities: [] selects nothing', object: host([{ fromEntities: [] }]), want: [] },
    { name: 'ingressDeny never counts', object: host([], { ingressDeny: [{ fromEntities: ['world'], toPorts: kubeletTCP }] }), want: [] },
    {
      name: 'specs: a host policy next to an endpoint policy',
      object: ccnp({
        specs: [
          { endpointSelector: {}, ingress: [{ fromEntities: ['world'], toPorts: kubeletTCP }] },
          { nodeSelector: { matchLabels: { role: 'worker' } }, ingress: [{ fromEntities: ['world'], toPorts: kubeletTCP }] },
        ],
      }),
      want: [['specs[1].ingress[0]', 10250]],
    },
    { name: 'a namespaced CNP with ingress from world is pod-level', object: cnp({ ingress: [{ fromEntities: ['world'], toPorts: kubeletTCP }] }), want: [] },
  ])('host policy: $name', ({ object, want }) => {
    expect(hits('netpol-sensitive-exposure', object, { namespace: null })).toEqual(want);
  });
});

describe('finding fields', () => {
  it('a clusterwide policy finding has no namespace and no tenant, even when handed one', () => {
    const p = policy({ tenants: [{ name: 't', namespaces: ['*'] }] });
    const object = ccnp({ spec: { nodeSelector: {}, ingress: [{ fromEntities: ['world'], toPorts: kubeletTCP }] } });
    const e = evaluate(resource(object, 'default'), [p], cluster());
    expect(e.resource).toEqual({ apiVersion: 'cilium.io/v2', kind: 'CiliumClusterwideNetworkPolicy', namespace: null, name: 'cc' });
    expect(e.findings).toMatchObject([
      { rule: 'netpol-sensitive-exposure', tenant: null, resource: { namespace: null }, path: 'spec.ingress[0]', value: 10250 },
    ]);
  });

  it('one finding per policy, rule, object, path and catalog entry', () => {
    const twoEntries = policy({
      sensitivePorts: [
        { name: 'kubelet-api', ports: '10250' },
        { name: 'kubelet-any', ports: '10250', protocol: 'ANY' },
      ],
    });
    const e = evaluate(resource(egress({ ports: [{ port: 10250 }, { port: 10249, endPort: 10251 }] })), [twoEntries, defaultPolicy()], cluster());
    expect(e.findings.map((f) => [f.policy, f.path, f.value, f.key.split('|').at(-1)])).toEqual([
      ['p', 'spec.egress[0]', 10250, 'kubelet-api'],
      ['p', 'spec.egress[0]', 10250, 'kubelet-any'],
      ['default', 'spec.egress[0]', 10250, 'kubelet-api'],
    ]);
  });

  it.each([
    { name: 'hostPort', object: hostPort(10250), message: 'hostPort 10250/TCP clashes with kubelet-api (kubelet); pick a port outside the reserved ports' },
    {
      name: 'hostNetwork containerPort in the NodePort range',
      object: pod({ hostNetwork: true, containers: [container('c', [{ containerPort: 30100, protocol: 'UDP' }])] }),
      message:
        'containerPort 30100/UDP on the host network clashes with nodeport-range (NodePort Services, ports 30000-32767); pick a port outside the reserved ports',
    },
  ])('message: $name', ({ object, message }) => {
    expect(evaluate(resource(object), [defaultPolicy()], cluster()).findings.map((f) => f.message)).toEqual([message]);
  });
});

describe('the shipped default', () => {
  // Every port of issue 2's catalog that the default still reserves, and those issue 10 adds to
  // it; k8sd 6400 and k8s-dqlite 9000 left it for the opt-in canonical-k8s profile.
  const ISSUE_PORTS: [number, string][] = [
    [6443, 'TCP'],
    [2379, 'TCP'],
    [2380, 'TCP'],
    [10250, 'TCP'],
    [10255, 'TCP'],
    [10248, 'TCP'],
    [10249, 'TCP'],
    [10256, 'TCP'],
    [10257, 'TCP'],
    [10259, 'TCP'],
    [4240, 'TCP'],
    [4244, 'TCP'],
    [9234, 'TCP'],
    [9879, 'TCP'],
    [9890, 'TCP'],
    [9891, 'TCP'],
    [9963, 'TCP'],
    [8472, 'UDP'],
    [6081, 'UDP'],
    [51871, 'UDP'],
    [30000, 'TCP'],
    [32767, 'UDP'],
    [2381, 'TCP'],
    [10258, 'TCP'],
    [4789, 'UDP'],
    [51820, 'UDP'],
    [51821, 'UDP'],
    [179, 'TCP'],
    [4245, 'TCP'],
    [4250, 'TCP'],
    [9962, 'TCP'],
    [9964, 'TCP'],
    [9965, 'TCP'],
  ];
  it('lists every port of the issue, each entry with a component and a source', () => {
    for (const e of PROFILES.flatMap((x) => x.entries)) expect([e.name, typeof e.component, typeof e.source]).toEqual([e.name, 'string', 'string']);
    const found = ISSUE_PORTS.filter(([port, protocol]) => hits('hostport-reserved', hostPort(port, { protocol }), { namespace: 'apps' }).length > 0);
    expect(found).toEqual(ISSUE_PORTS);
  });
  it('does not reserve 9000 and 6400, which only Canonical Kubernetes uses', () => {
    expect([9000, 6400].map((port) => hits('hostport-reserved', hostPort(port), { namespace: 'apps' }))).toEqual([[], []]);
  });

  // A standard kube-system: kube-proxy, the Cilium DaemonSet and operator, control-plane static
  // pods (mirror pods as the API server lists them), each passing as the owner of its ports.
  const ds = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name }, spec: { template: { spec } } });
  const staticPod = (name: string, ports: Record<string, unknown>[]) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, annotations: { 'kubernetes.io/config.mirror': 'c0ffee' } },
    spec: { hostNetwork: true, containers: [container(name, ports)] },
  });
  const kubeSystem = [
    ds('kube-proxy', {
      hostNetwork: true,
      containers: [
        container('kube-proxy', [
          { containerPort: 10249, name: 'metrics' },
          { containerPort: 10256, name: 'healthz' },
        ]),
      ],
    }),
    ds('cilium', {
      hostNetwork: true,
      containers: [
        container('cilium-agent', [
          { containerPort: 4244, name: 'peer-service' },
          { containerPort: 9962, name: 'prometheus' },
          { containerPort: 4240 },
          { containerPort: 9879 },
          { containerPort: 9890 },
        ]),
      ],
      initContainers: [container('config', [])],
    }),
    ds('cilium-envoy', { hostNetwork: true, containers: [container('envoy', [{ containerPort: 9964 }])] }),
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'cilium-operator' },
      spec: {
        template: {
          spec: {
            hostNetwork: true,
            containers: [container('operator', [{ containerPort: 9963, name: 'prometheus' }, { containerPort: 9234 }, { containerPort: 9891 }])],
          },
        },
      },
    },
    staticPod('kube-apiserver-cp1', [{ containerPort: 6443, name: 'probe-port' }]),
    staticPod('etcd-cp1', [{ containerPort: 2379 }, { containerPort: 2380 }, { containerPort: 2381 }]),
    staticPod('kube-controller-manager-cp1', [{ containerPort: 10257 }]),
    staticPod('kube-scheduler-cp1', [{ containerPort: 10259 }]),
  ];
  it('does not flag a standard kube-system', () => {
    for (const object of kubeSystem) expect(evaluate(resource(object, 'kube-system'), [defaultPolicy()], cluster()).findings).toEqual([]);
  });
  it('flags the same objects anywhere else', () => {
    const flagged = kubeSystem.map((object) => evaluate(resource(object, 'platform'), [defaultPolicy()], cluster()).findings.map((f) => f.value));
    expect(flagged).toEqual([[10249, 10256], [4244, 9962, 4240, 9879, 9890], [9964], [9963, 9234, 9891], [6443], [2379, 2380, 2381], [10257], [10259]]);
  });

  it('the NodePort entry follows the effective range, for every protocol', () => {
    const moved = policy({ nodePortRange: '40000-42767' });
    expect(hits('hostport-reserved', hostPort(40000, { protocol: 'UDP' }), { policy: moved })).toEqual([['spec.containers[0].ports[0].hostPort', 40000]]);
    expect(hits('hostport-reserved', hostPort(30000), { policy: moved })).toEqual([]);
  });
});

describe('CIDR reading', () => {
  it.each([
    { text: '0:0:0:0:0:ffff:10.0.0.0/104', want: { version: 4, prefix: 8 } },
    { text: '::ffff:a00:0/104', want: { version: 4, prefix: 8 } },
    { text: '::ffff:10.1.2.3/120', want: { version: 4, prefix: 24 } },
    { text: '::ffff:0:0/96', want: { version: 4, prefix: 0 } },
    { text: '::ffff:0:0/95', want: { version: 6, prefix: 95 } },
    { text: '::1:10.0.0.0/104', want: { version: 6, prefix: 104 } },
  ])('$text', ({ text, want }) => {
    expect(parseBlock(text)).toMatchObject(want);
  });
});
