// netpol-sensitive-exposure on the admin network policies of sig-network, written from the
// shapes in kubernetes-sigs/network-policy-api: apis/v1alpha1 (AdminNetworkPolicy,
// BaselineAdminNetworkPolicy: action, to[].namespaces|pods|nodes|networks|domainNames,
// ports[].portNumber|portRange|namedPort) and apis/v1alpha2 (ClusterNetworkPolicy: tier,
// action Accept|Deny|Pass, protocols[].tcp|udp|sctp.destinationPort.number|range).
import { evaluate } from '../../src/engine/evaluate.js';
import { cluster, hits, policy, resource } from './helpers.js';

type Obj = Record<string, unknown>;

const anp = (egress: Obj[], extra: Obj = {}) => ({
  apiVersion: 'policy.networking.k8s.io/v1alpha1',
  kind: 'AdminNetworkPolicy',
  metadata: { name: 'cluster-egress' },
  spec: { priority: 10, subject: { namespaces: {} }, egress, ...extra },
});
const banp = (egress: Obj[]) => ({
  apiVersion: 'policy.networking.k8s.io/v1alpha1',
  kind: 'BaselineAdminNetworkPolicy',
  metadata: { name: 'default' },
  spec: { subject: { namespaces: {} }, egress },
});
const cnp = (tier: 'Admin' | 'Baseline', egress: Obj[]) => ({
  apiVersion: 'policy.networking.k8s.io/v1alpha2',
  kind: 'ClusterNetworkPolicy',
  metadata: { name: `${tier.toLowerCase()}-egress` },
  spec: { tier, priority: 10, subject: { namespaces: {} }, egress },
});

const kubelet = [{ portNumber: { protocol: 'TCP', port: 10250 } }];
const allNodes = [{ nodes: {} }];
const everywhere = [{ networks: ['0.0.0.0/0'] }];
const tcp = (port: Obj) => [{ tcp: { destinationPort: port } }];
const kubeletV2 = tcp({ number: 10250 });
const both: [string, number][] = [
  ['spec.egress[0]', 10250],
  ['spec.egress[0]', 10255],
];

describe('netpol-sensitive-exposure: AdminNetworkPolicy (v1alpha1)', () => {
  it.each([
    // The case: every pod may reach the kubelet on every node.
    {
      name: 'Allow to every node on 10250',
      object: anp([{ name: 'kubelet', action: 'Allow', to: allNodes, ports: kubelet }]),
      want: [['spec.egress[0]', 10250]],
    },
    {
      name: 'Allow to labelled nodes on 10250',
      object: anp([{ action: 'Allow', to: [{ nodes: { matchLabels: { 'node-role.kubernetes.io/worker': '' } } }], ports: kubelet }]),
      want: [['spec.egress[0]', 10250]],
    },
    { name: 'Allow to every node, every port', object: anp([{ action: 'Allow', to: allNodes }]), want: both },
    { name: 'Deny to every node never counts', object: anp([{ action: 'Deny', to: allNodes, ports: kubelet }]), want: [] },
    { name: 'Pass to every node never counts', object: anp([{ action: 'Pass', to: allNodes, ports: kubelet }]), want: [] },
    {
      name: 'Allow to pods selects pods, never nodes',
      object: anp([{ action: 'Allow', to: [{ pods: { namespaceSelector: {}, podSelector: {} } }], ports: kubelet }]),
      want: [],
    },
    { name: 'Allow to namespaces selects pods', object: anp([{ action: 'Allow', to: [{ namespaces: {} }], ports: kubelet }]), want: [] },
    { name: 'Allow to networks 0.0.0.0/0 on 10250', object: anp([{ action: 'Allow', to: everywhere, ports: kubelet }]), want: [['spec.egress[0]', 10250]] },
    { name: 'Allow to a narrow network', object: anp([{ action: 'Allow', to: [{ networks: ['10.1.2.0/24'] }], ports: kubelet }]), want: [] },
    {
      name: 'networks: several CIDRs, one broad',
      object: anp([{ action: 'Allow', to: [{ networks: ['10.1.2.0/24', '172.16.0.0/12'] }], ports: kubelet }]),
      want: [['spec.egress[0]', 10250]],
    },
    { name: 'domainNames never reach nodes', object: anp([{ action: 'Allow', to: [{ domainNames: ['*.example.com'] }], ports: kubelet }]), want: [] },
    {
      name: 'portRange covering both',
      object: anp([{ action: 'Allow', to: allNodes, ports: [{ portRange: { protocol: 'TCP', start: 10000, end: 11000 } }] }]),
      want: both,
    },
    {
      name: 'portNumber without protocol is TCP',
      object: anp([{ action: 'Allow', to: allNodes, ports: [{ portNumber: { port: 10255 } }] }]),
      want: [['spec.egress[0]', 10255]],
    },
    { name: 'UDP only', object: anp([{ action: 'Allow', to: allNodes, ports: [{ portNumber: { protocol: 'UDP', port: 10250 } }] }]), want: [] },
    {
      name: 'namedPort never matches a node listener',
      object: anp([{ action: 'Allow', to: [{ pods: { namespaceSelector: {}, podSelector: {} } }], ports: [{ namedPort: 'kubelet' }] }]),
      want: [],
    },
    {
      name: 'ingress rules guard pods: never counted',
      object: anp([], { ingress: [{ action: 'Allow', from: [{ namespaces: {} }], ports: kubelet }] }),
      want: [],
    },
    { name: 'an action the CRD refuses is not read', object: anp([{ action: 'Accept', to: allNodes, ports: kubelet }]), want: [] },
    {
      name: 'other API version is not checked',
      object: { ...anp([{ action: 'Allow', to: allNodes, ports: kubelet }]), apiVersion: 'policy.networking.k8s.io/v1alpha2' },
      want: [],
    },
  ])('$name', ({ object, want }) => {
    expect(hits('netpol-sensitive-exposure', object, { namespace: null })).toEqual(want);
  });

  // First match within one object: an earlier Deny or Pass for the same traffic hides a later Allow.
  it.each([
    {
      name: 'Deny nodes on 10250, then Allow nodes on 10250',
      egress: [
        { action: 'Deny', to: allNodes, ports: kubelet },
        { action: 'Allow', to: allNodes, ports: kubelet },
      ],
      want: [],
    },
    {
      name: 'Pass nodes on 10250, then Allow nodes on 10250',
      egress: [
        { action: 'Pass', to: allNodes, ports: kubelet },
        { action: 'Allow', to: allNodes, ports: kubelet },
      ],
      want: [],
    },
    {
      name: 'Deny every port to nodes, then Allow 10250',
      egress: [
        { action: 'Deny', to: allNodes },
        { action: 'Allow', to: allNodes, ports: kubelet },
      ],
      want: [],
    },
    {
      name: 'Deny nodes, then Allow 0.0.0.0/0 on 10250',
      egress: [
        { action: 'Deny', to: allNodes, ports: kubelet },
        { action: 'Allow', to: everywhere, ports: kubelet },
      ],
      want: [],
    },
    {
      name: 'Deny private ranges, then Allow 0.0.0.0/0 on 10250',
      egress: [
        { action: 'Deny', to: [{ networks: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] }], ports: kubelet },
        { action: 'Allow', to: everywhere, ports: kubelet },
      ],
      want: [],
    },
    {
      name: 'Allow before Deny: the Allow decides',
      egress: [
        { action: 'Allow', to: allNodes, ports: kubelet },
        { action: 'Deny', to: allNodes, ports: kubelet },
      ],
      want: [['spec.egress[0]', 10250]],
    },
    {
      name: 'Deny on another port hides nothing',
      egress: [
        { action: 'Deny', to: allNodes, ports: [{ portNumber: { port: 22 } }] },
        { action: 'Allow', to: allNodes, ports: kubelet },
      ],
      want: [['spec.egress[1]', 10250]],
    },
    {
      name: 'Deny on UDP hides nothing on TCP',
      egress: [
        { action: 'Deny', to: allNodes, ports: [{ portNumber: { protocol: 'UDP', port: 10250 } }] },
        { action: 'Allow', to: allNodes, ports: kubelet },
      ],
      want: [['spec.egress[1]', 10250]],
    },
    {
      name: 'Deny some nodes hides nothing for all nodes',
      egress: [
        { action: 'Deny', to: [{ nodes: { matchLabels: { pool: 'a' } } }], ports: kubelet },
        { action: 'Allow', to: allNodes, ports: kubelet },
      ],
      want: [['spec.egress[1]', 10250]],
    },
    {
      name: 'Deny the same labelled nodes hides them',
      egress: [
        { action: 'Deny', to: [{ nodes: { matchLabels: { pool: 'a' } } }], ports: kubelet },
        { action: 'Allow', to: [{ nodes: { matchLabels: { pool: 'a' } } }], ports: kubelet },
      ],
      want: [],
    },
    {
      name: 'Deny pods hides nothing for nodes',
      egress: [
        { action: 'Deny', to: [{ namespaces: {} }], ports: kubelet },
        { action: 'Allow', to: allNodes, ports: kubelet },
      ],
      want: [['spec.egress[1]', 10250]],
    },
    {
      name: 'Deny 10250 only: the Allow of a range still opens 10255',
      egress: [
        { action: 'Deny', to: allNodes, ports: kubelet },
        { action: 'Allow', to: allNodes, ports: [{ portRange: { start: 10000, end: 11000 } }] },
      ],
      want: [['spec.egress[1]', 10255]],
    },
    // Blocks are judged together, after what earlier Deny and Pass rules take out of them.
    {
      name: 'Allow two /17 networks: together a /16',
      egress: [{ action: 'Allow', to: [{ networks: ['10.0.0.0/17', '10.0.128.0/17'] }], ports: kubelet }],
      want: [['spec.egress[0]', 10250]],
    },
    {
      name: 'Allow a /17 in each of two rules',
      egress: [
        { action: 'Allow', to: [{ networks: ['10.0.0.0/17'] }], ports: kubelet },
        { action: 'Allow', to: [{ networks: ['10.0.128.0/17'] }], ports: kubelet },
      ],
      want: [['spec.egress[0]', 10250]],
    },
    {
      name: 'Deny one /17, then Allow both: the union is one /17',
      egress: [
        { action: 'Deny', to: [{ networks: ['10.0.128.0/17'] }], ports: kubelet },
        { action: 'Allow', to: [{ networks: ['10.0.0.0/17'] }], ports: kubelet },
        { action: 'Allow', to: [{ networks: ['10.0.128.0/17'] }], ports: kubelet },
      ],
      want: [],
    },
    {
      name: 'Pass one /17 between the two Allows',
      egress: [
        { action: 'Allow', to: [{ networks: ['10.0.0.0/17'] }], ports: kubelet },
        { action: 'Pass', to: [{ networks: ['10.0.128.0/17'] }], ports: kubelet },
        { action: 'Allow', to: [{ networks: ['10.0.128.0/17'] }], ports: kubelet },
      ],
      want: [],
    },
    {
      name: 'Deny after both Allows hides nothing',
      egress: [
        { action: 'Allow', to: [{ networks: ['10.0.0.0/17'] }], ports: kubelet },
        { action: 'Allow', to: [{ networks: ['10.0.128.0/17'] }], ports: kubelet },
        { action: 'Deny', to: [{ networks: ['10.0.0.0/8'] }], ports: kubelet },
      ],
      want: [['spec.egress[0]', 10250]],
    },
  ])('first match: $name', ({ egress, want }) => {
    expect(hits('netpol-sensitive-exposure', anp(egress), { namespace: null })).toEqual(want);
  });

  it.each([
    {
      name: 'a network holding two known node addresses',
      object: anp([{ action: 'Allow', to: [{ networks: ['192.168.10.2/31'] }], ports: kubelet }]),
      want: [['spec.egress[0]', 10250]],
    },
    {
      name: 'Deny the node addresses, then Allow everywhere',
      object: anp([
        { action: 'Deny', to: [{ networks: ['192.168.10.1/32', '192.168.10.2/32'] }], ports: kubelet },
        { action: 'Allow', to: everywhere, ports: kubelet },
      ]),
      want: [],
    },
    {
      name: 'Deny one node address of two',
      object: anp([
        { action: 'Deny', to: [{ networks: ['192.168.10.2/32'] }], ports: kubelet },
        { action: 'Allow', to: [{ networks: ['192.168.10.2/31'] }], ports: kubelet },
      ]),
      want: [],
    },
    {
      name: 'Deny one node address of three',
      object: anp([
        { action: 'Deny', to: [{ networks: ['192.168.10.1/32'] }], ports: kubelet },
        { action: 'Allow', to: [{ networks: ['192.168.10.0/29'] }], ports: kubelet },
      ]),
      want: [['spec.egress[1]', 10250]],
    },
    {
      name: 'one network per node, over two rules',
      object: anp([
        { action: 'Allow', to: [{ networks: ['192.168.10.1/32'] }], ports: kubelet },
        { action: 'Allow', to: [{ networks: ['192.168.10.3/32'] }], ports: kubelet },
      ]),
      want: [['spec.egress[0]', 10250]],
    },
    { name: 'a single network to one node', object: anp([{ action: 'Allow', to: [{ networks: ['192.168.10.3/32'] }], ports: kubelet }]), want: [] },
    {
      name: 'Deny one node before the Allows of one network per node',
      object: anp([
        { action: 'Deny', to: [{ networks: ['192.168.10.3/32'] }], ports: kubelet },
        { action: 'Allow', to: [{ networks: ['192.168.10.1/32'] }], ports: kubelet },
        { action: 'Allow', to: [{ networks: ['192.168.10.3/32'] }], ports: kubelet },
      ]),
      want: [],
    },
  ])('with node addresses from the cluster: $name', ({ object, want }) => {
    const nodes = cluster({}, ['192.168.10.1', '192.168.10.2', '192.168.10.3']);
    expect(hits('netpol-sensitive-exposure', object, { namespace: null, cluster: nodes })).toEqual(want);
  });

  it('is cluster-scoped: no namespace and no tenant even with metadata.namespace', () => {
    const tenants = policy({ tenants: [{ name: 'team-a', namespaces: ['team-a'] }] });
    const object = { ...anp([{ action: 'Allow', to: allNodes, ports: kubelet }]), metadata: { name: 'x', namespace: 'team-a' } };
    const [f, ...rest] = evaluate(resource(object, 'team-a'), [tenants], cluster()).findings;
    expect(rest).toEqual([]);
    expect({ rule: f.rule, namespace: f.resource.namespace, tenant: f.tenant, path: f.path }).toEqual({
      rule: 'netpol-sensitive-exposure',
      namespace: null,
      tenant: null,
      path: 'spec.egress[0]',
    });
  });
});

describe('netpol-sensitive-exposure: BaselineAdminNetworkPolicy (v1alpha1)', () => {
  it.each([
    { name: 'Allow to every node on 10250', egress: [{ action: 'Allow', to: allNodes, ports: kubelet }], want: [['spec.egress[0]', 10250]] },
    { name: 'Deny never counts', egress: [{ action: 'Deny', to: allNodes, ports: kubelet }], want: [] },
    {
      name: 'Deny then Allow',
      egress: [
        { action: 'Deny', to: allNodes, ports: kubelet },
        { action: 'Allow', to: allNodes, ports: kubelet },
      ],
      want: [],
    },
    // Pass is not a BANP action: the API server refuses it, and it hides nothing here.
    {
      name: 'Pass is no BANP action',
      egress: [
        { action: 'Pass', to: allNodes, ports: kubelet },
        { action: 'Allow', to: allNodes, ports: kubelet },
      ],
      want: [['spec.egress[1]', 10250]],
    },
    { name: 'Allow to networks ::/0 on every port', egress: [{ action: 'Allow', to: [{ networks: ['::/0'] }] }], want: [] },
    {
      name: 'Allow to networks ::/0 on 10255',
      egress: [{ action: 'Allow', to: [{ networks: ['::/0'] }], ports: [{ portNumber: { port: 10255 } }] }],
      want: [['spec.egress[0]', 10255]],
    },
  ])('$name', ({ egress, want }) => {
    expect(hits('netpol-sensitive-exposure', banp(egress), { namespace: null })).toEqual(want);
  });
});

describe('netpol-sensitive-exposure: ClusterNetworkPolicy (v1alpha2)', () => {
  it.each(
    (['Admin', 'Baseline'] as const).flatMap((tier) => [
      {
        name: `${tier}: Accept to every node on 10250`,
        object: cnp(tier, [{ action: 'Accept', to: allNodes, protocols: kubeletV2 }]),
        want: [['spec.egress[0]', 10250]],
      },
      { name: `${tier}: Accept to every node, no protocols`, object: cnp(tier, [{ action: 'Accept', to: allNodes }]), want: both },
      {
        name: `${tier}: Accept a range`,
        object: cnp(tier, [{ action: 'Accept', to: everywhere, protocols: tcp({ range: { start: 10248, end: 10260 } }) }]),
        want: both,
      },
      {
        name: `${tier}: Accept UDP only`,
        object: cnp(tier, [{ action: 'Accept', to: allNodes, protocols: [{ udp: { destinationPort: { number: 10250 } } }] }]),
        want: [],
      },
      {
        name: `${tier}: destinationNamedPort`,
        object: cnp(tier, [{ action: 'Accept', to: [{ pods: { namespaceSelector: {}, podSelector: {} } }], protocols: [{ destinationNamedPort: 'kubelet' }] }]),
        want: [],
      },
      { name: `${tier}: Deny never counts`, object: cnp(tier, [{ action: 'Deny', to: allNodes, protocols: kubeletV2 }]), want: [] },
      {
        name: `${tier}: Pass then Accept`,
        object: cnp(tier, [
          { action: 'Pass', to: allNodes, protocols: kubeletV2 },
          { action: 'Accept', to: allNodes, protocols: kubeletV2 },
        ]),
        want: [],
      },
      {
        name: `${tier}: Deny then Accept`,
        object: cnp(tier, [
          { action: 'Deny', to: allNodes },
          { action: 'Accept', to: everywhere, protocols: kubeletV2 },
        ]),
        want: [],
      },
      {
        name: `${tier}: Accept then Deny`,
        object: cnp(tier, [
          { action: 'Accept', to: allNodes, protocols: kubeletV2 },
          { action: 'Deny', to: allNodes },
        ]),
        want: [['spec.egress[0]', 10250]],
      },
      { name: `${tier}: Allow is v1alpha1's word, not read`, object: cnp(tier, [{ action: 'Allow', to: allNodes, protocols: kubeletV2 }]), want: [] },
    ]),
  )('$name', ({ object, want }) => {
    expect(hits('netpol-sensitive-exposure', object, { namespace: null })).toEqual(want);
  });

  it('a v1alpha1 ClusterNetworkPolicy is no kind the API serves: not checked', () => {
    expect(
      hits(
        'netpol-sensitive-exposure',
        { ...cnp('Admin', [{ action: 'Accept', to: allNodes }]), apiVersion: 'policy.networking.k8s.io/v1alpha1' },
        { namespace: null },
      ),
    ).toEqual([]);
  });
});
