import { evaluate } from '../../src/engine/evaluate.js';
import { cluster, hits, policy, resource } from './helpers.js';

const cnp = (spec: Record<string, unknown>) => ({
  apiVersion: 'cilium.io/v2',
  kind: 'CiliumNetworkPolicy',
  metadata: { name: 'c' },
  spec: { endpointSelector: {}, ...spec },
});
const ccnp = (body: Record<string, unknown>) => ({ apiVersion: 'cilium.io/v2', kind: 'CiliumClusterwideNetworkPolicy', metadata: { name: 'cc' }, ...body });
const eg = (...rules: Record<string, unknown>[]) => cnp({ egress: rules });
const kubeletTCP = [{ ports: [{ port: '10250', protocol: 'TCP' }] }];
const known = policy({ nodeCIDRs: ['10.0.0.0/24'] });
const withApiserver = policy({ sensitivePorts: [{ name: 'kube-apiserver', ports: '6443', protocol: 'TCP' }] });

describe('netpol-sensitive-exposure: Cilium', () => {
  it.each([
    { name: 'no L3 selector is a wildcard', object: eg({ toPorts: kubeletTCP }), want: [['spec.egress[0]', 10250]] },
    { name: 'toEntities: [] selects nothing', object: eg({ toEntities: [], toPorts: kubeletTCP }), want: [] },
    { name: 'toEndpoints selects pods, never nodes', object: eg({ toEndpoints: [{}], toPorts: kubeletTCP }), want: [] },
    ...['host', 'remote-node', 'cluster', 'all'].map((entity) => ({
      name: `entity ${entity}`,
      object: eg({ toEntities: [entity], toPorts: kubeletTCP }),
      want: [['spec.egress[0]', 10250]],
    })),
    { name: 'entity world does not reach nodes', object: eg({ toEntities: ['world'], toPorts: kubeletTCP }), want: [] },
    { name: 'entity kube-apiserver does not count for 10250', object: eg({ toEntities: ['kube-apiserver'], toPorts: kubeletTCP }), want: [] },
    { name: 'toNodes selects nodes', object: eg({ toNodes: [{}], toPorts: kubeletTCP }), want: [['spec.egress[0]', 10250]] },
    { name: 'toNodes: [] selects nothing', object: eg({ toNodes: [], toPorts: kubeletTCP }), want: [] },
    { name: 'toCIDR judged like an ipBlock', object: eg({ toCIDR: ['10.0.0.0/8'], toPorts: kubeletTCP }), want: [['spec.egress[0]', 10250]] },
    { name: 'toCIDR narrow', object: eg({ toCIDR: ['10.0.0.0/24'], toPorts: kubeletTCP }), want: [] },
    {
      name: 'toCIDRSet with except carving private space',
      object: eg({ toCIDRSet: [{ cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] }], toPorts: kubeletTCP }),
      want: [],
    },
    { name: 'toCIDRSet IPv6', object: eg({ toCIDRSet: [{ cidr: '::/0' }], toPorts: kubeletTCP }), want: [['spec.egress[0]', 10250]] },
    { name: 'toCIDRSet by group reference is not judged', object: eg({ toCIDRSet: [{ cidrGroupRef: 'nodes' }], toPorts: kubeletTCP }), want: [] },
    // --- ports ---
    {
      name: 'port "0" means every TCP port (entity host targets nodes)',
      object: eg({ toEntities: ['host'], toPorts: [{ ports: [{ port: '0', protocol: 'TCP' }] }] }),
      want: [
        ['spec.egress[0]', 10250],
        ['spec.egress[0]', 10255],
      ],
    },
    { name: 'protocol ANY names the TCP port', object: eg({ toPorts: [{ ports: [{ port: '10250', protocol: 'ANY' }] }] }), want: [['spec.egress[0]', 10250]] },
    { name: 'protocol omitted means every protocol', object: eg({ toPorts: [{ ports: [{ port: '10255' }] }] }), want: [['spec.egress[0]', 10255]] },
    { name: 'UDP only', object: eg({ toPorts: [{ ports: [{ port: '10250', protocol: 'UDP' }] }] }), want: [] },
    {
      name: 'endPort spanning both',
      object: eg({ toEntities: ['cluster'], toPorts: [{ ports: [{ port: '10000', endPort: 11000, protocol: 'TCP' }] }] }),
      want: [
        ['spec.egress[0]', 10250],
        ['spec.egress[0]', 10255],
      ],
    },
    { name: 'named port', object: eg({ toPorts: [{ ports: [{ port: 'kubelet', protocol: 'TCP' }] }] }), want: [] },
    { name: 'numeric port as a number', object: eg({ toPorts: [{ ports: [{ port: 10250 }] }] }), want: [['spec.egress[0]', 10250]] },
    // --- all ports to destinations that are only nodes ---
    {
      name: 'all ports to host and remote-node',
      object: eg({ toEntities: ['host', 'remote-node'] }),
      want: [
        ['spec.egress[0]', 10250],
        ['spec.egress[0]', 10255],
      ],
    },
    {
      name: 'all ports to toNodes',
      object: eg({ toNodes: [{ matchLabels: { role: 'worker' } }] }),
      want: [
        ['spec.egress[0]', 10250],
        ['spec.egress[0]', 10255],
      ],
    },
    { name: 'all ports to cluster: not only nodes', object: eg({ toEntities: ['cluster'] }), want: [] },
    { name: 'all ports to everything', object: eg({}), want: [] },
    { name: 'icmps only opens no port', object: eg({ toEntities: ['host'], icmps: [{ fields: [{ type: 8 }] }] }), want: [] },
    // --- deny and ingress rules ---
    { name: 'egressDeny never counts', object: cnp({ egressDeny: [{ toEntities: ['host'], toPorts: kubeletTCP }] }), want: [] },
    { name: 'pod-level ingress never counts', object: cnp({ ingress: [{ fromEntities: ['world'], toPorts: kubeletTCP }] }), want: [] },
    // --- specs ---
    {
      name: 'specs list',
      object: {
        apiVersion: 'cilium.io/v2',
        kind: 'CiliumNetworkPolicy',
        metadata: { name: 'c' },
        specs: [
          { endpointSelector: {}, egress: [{ toEndpoints: [{}] }] },
          { endpointSelector: {}, egress: [{ toEntities: ['remote-node'], toPorts: kubeletTCP }] },
        ],
      },
      want: [['specs[1].egress[0]', 10250]],
    },
    {
      name: 'spec and specs together',
      object: {
        ...eg({ toEntities: ['host'], toPorts: kubeletTCP }),
        specs: [{ endpointSelector: {}, egress: [{ toEntities: ['host'], toPorts: kubeletTCP }] }],
      },
      want: [
        ['spec.egress[0]', 10250],
        ['specs[0].egress[0]', 10250],
      ],
    },
    { name: 'other API version is not checked', object: { ...eg({ toPorts: kubeletTCP }), apiVersion: 'cilium.io/v2alpha1' }, want: [] },
  ])('CiliumNetworkPolicy egress: $name', ({ object, want }) => {
    expect(hits('netpol-sensitive-exposure', object)).toEqual(want);
  });

  it.each([
    {
      name: 'clusterwide endpoint policy egress',
      object: ccnp({ spec: { endpointSelector: {}, egress: [{ toEntities: ['host'], toPorts: kubeletTCP }] } }),
      want: [['spec.egress[0]', 10250]],
    },
    {
      name: 'host policy ingress from everywhere (no L3)',
      object: ccnp({ spec: { nodeSelector: {}, ingress: [{ toPorts: kubeletTCP }] } }),
      want: [['spec.ingress[0]', 10250]],
    },
    {
      name: 'host policy ingress from world',
      object: ccnp({ spec: { nodeSelector: {}, ingress: [{ fromEntities: ['world'], toPorts: kubeletTCP }] } }),
      want: [['spec.ingress[0]', 10250]],
    },
    {
      name: 'host policy ingress from cluster, all ports',
      object: ccnp({ spec: { nodeSelector: {}, ingress: [{ fromEntities: ['cluster'] }] } }),
      want: [
        ['spec.ingress[0]', 10250],
        ['spec.ingress[0]', 10255],
      ],
    },
    {
      name: 'host policy ingress from all, every TCP port',
      object: ccnp({ spec: { nodeSelector: {}, ingress: [{ fromEntities: ['all'], toPorts: [{ ports: [{ port: '0', protocol: 'TCP' }] }] }] } }),
      want: [
        ['spec.ingress[0]', 10250],
        ['spec.ingress[0]', 10255],
      ],
    },
    {
      name: 'host policy ingress from kube-apiserver and remote-node is not broad',
      object: ccnp({ spec: { nodeSelector: {}, ingress: [{ fromEntities: ['kube-apiserver', 'remote-node', 'host'], toPorts: kubeletTCP }] } }),
      want: [],
    },
    {
      name: 'host policy ingress from a /16',
      object: ccnp({ spec: { nodeSelector: {}, ingress: [{ fromCIDR: ['192.168.0.0/16'], toPorts: kubeletTCP }] } }),
      want: [['spec.ingress[0]', 10250]],
    },
    {
      name: 'host policy ingress from a /24',
      object: ccnp({ spec: { nodeSelector: {}, ingress: [{ fromCIDRSet: [{ cidr: '192.168.1.0/24' }], toPorts: kubeletTCP }] } }),
      want: [],
    },
    {
      name: 'host policy ingress from an IPv6 /48',
      object: ccnp({ spec: { nodeSelector: {}, ingress: [{ fromCIDR: ['2001:db8::/48'], toPorts: kubeletTCP }] } }),
      want: [['spec.ingress[0]', 10250]],
    },
    {
      name: 'host policy ingress from an IPv6 /64',
      object: ccnp({ spec: { nodeSelector: {}, ingress: [{ fromCIDR: ['2001:db8::/64'], toPorts: kubeletTCP }] } }),
      want: [],
    },
    {
      name: 'host policy ingress on another port',
      object: ccnp({ spec: { nodeSelector: {}, ingress: [{ fromEntities: ['world'], toPorts: [{ ports: [{ port: '22', protocol: 'TCP' }] }] }] } }),
      want: [],
    },
    {
      name: 'host policy ingress fromEntities: [] selects nothing',
      object: ccnp({ spec: { nodeSelector: {}, ingress: [{ fromEntities: [], toPorts: kubeletTCP }] } }),
      want: [],
    },
    {
      name: 'host policy ingressDeny never counts',
      object: ccnp({ spec: { nodeSelector: {}, ingressDeny: [{ fromEntities: ['world'], toPorts: kubeletTCP }] } }),
      want: [],
    },
    {
      name: 'host policy ingress from two /17s: together a /16',
      object: ccnp({
        spec: {
          nodeSelector: {},
          ingress: [
            { fromCIDR: ['192.168.0.0/17'], toPorts: kubeletTCP },
            { fromCIDRSet: [{ cidr: '192.168.128.0/17' }], toPorts: kubeletTCP },
          ],
        },
      }),
      want: [['spec.ingress[0]', 10250]],
    },
    {
      name: 'host policy ingress from two /18s',
      object: ccnp({ spec: { nodeSelector: {}, ingress: [{ fromCIDR: ['192.168.0.0/18', '192.168.64.0/18'], toPorts: kubeletTCP }] } }),
      want: [],
    },
    {
      name: 'host policy egress is the host, not pods',
      object: ccnp({ spec: { nodeSelector: {}, egress: [{ toEntities: ['remote-node'], toPorts: kubeletTCP }] } }),
      want: [],
    },
  ])('CiliumClusterwideNetworkPolicy: $name', ({ object, want }) => {
    expect(hits('netpol-sensitive-exposure', object, { namespace: null })).toEqual(want);
  });

  it.each([
    {
      name: 'kube-apiserver entity reaches nodes for 6443',
      p: withApiserver,
      object: eg({ toEntities: ['kube-apiserver'], toPorts: [{ ports: [{ port: '6443', protocol: 'TCP' }] }] }),
      want: [['spec.egress[0]', 6443]],
    },
    {
      name: 'toCIDR with known N: two node addresses',
      p: known,
      object: eg({ toCIDR: ['10.0.0.0/31'], toPorts: kubeletTCP }),
      want: [['spec.egress[0]', 10250]],
    },
    { name: 'toCIDR with known N: one node address', p: known, object: eg({ toCIDR: ['10.0.0.9/32'], toPorts: kubeletTCP }), want: [] },
    {
      name: 'all ports to toCIDR inside N and host',
      p: known,
      object: eg({ toCIDR: ['10.0.0.0/28'], toEntities: ['host'] }),
      want: [
        ['spec.egress[0]', 10250],
        ['spec.egress[0]', 10255],
      ],
    },
    {
      name: 'toCIDR one node address per rule, in spec and specs',
      p: known,
      object: {
        ...eg({ toCIDR: ['10.0.0.1/32'], toPorts: kubeletTCP }),
        specs: [{ endpointSelector: {}, egress: [{ toCIDRSet: [{ cidr: '10.0.0.2/32' }], toPorts: kubeletTCP }] }],
      },
      want: [['spec.egress[0]', 10250]],
    },
    {
      name: 'toCIDR split into /17s',
      p: policy(),
      object: eg(
        { toCIDR: ['172.16.0.0/17'], toPorts: kubeletTCP },
        { toCIDRSet: [{ cidr: '172.16.128.0/17' }], toPorts: [{ ports: [{ port: '10250', protocol: 'ANY' }] }] },
      ),
      want: [['spec.egress[0]', 10250]],
    },
  ])('with other policies: $name', ({ p, object, want }) => {
    expect(hits('netpol-sensitive-exposure', object, { policy: p, cluster: cluster() })).toEqual(want);
  });
});

describe('netpol-sensitive-exposure messages', () => {
  it.each([
    {
      name: 'entities',
      object: eg({ toEntities: ['host'], toPorts: kubeletTCP }),
      message: 'egress rule lets pods reach kubelet-api 10250/TCP on the nodes (to: entity host); allow the port only to pod selectors',
    },
    {
      name: 'wildcard',
      object: eg({ toPorts: kubeletTCP }),
      message: 'egress rule lets pods reach kubelet-api 10250/TCP on the nodes (the rule allows every destination); allow the port only to pod selectors',
    },
    {
      name: 'CIDR with assumed node addresses',
      object: eg({ toCIDR: ['0.0.0.0/0'], toPorts: kubeletTCP }),
      message:
        'egress rule lets pods reach kubelet-api 10250/TCP on likely node addresses (private ranges; set nodeCIDRs to be exact) (to: 0.0.0.0/0); allow the port only to pod selectors, or except the node addresses from the ipBlock',
    },
  ])('$name', ({ object, message }) => {
    const e = evaluate(resource(object), [policy()], cluster());
    expect(e.findings.map((f) => f.message)).toEqual([message]);
  });
});
