import { evaluate } from '../../src/engine/evaluate.js';
import { cluster, defaultPolicy, hits, policy } from './helpers.js';

const np = (spec: Record<string, unknown>) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'n' },
  spec: { podSelector: {}, ...spec },
});
const egress = (...rules: Record<string, unknown>[]) => np({ policyTypes: ['Egress'], egress: rules });
const ip = (cidr: string, except?: string[]) => ({ ipBlock: except ? { cidr, except } : { cidr } });
const kubelet = [{ port: 10250 }];

const known = policy({ nodeCIDRs: ['10.0.0.0/24'] });
const knownV6 = policy({ nodeCIDRs: ['fd00:1::/120'] });
const oneNode = policy({ nodeCIDRs: ['10.0.0.5/32'] });

describe('netpol-sensitive-exposure: NetworkPolicy', () => {
  it.each([
    // --- naming the port, destinations by default (assumed node addresses) ---
    { name: 'port 10250 to everywhere (no to)', object: egress({ ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    { name: 'port 10250 with empty to', object: egress({ to: [], ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    { name: 'port 10250 to 0.0.0.0/0', object: egress({ to: [ip('0.0.0.0/0')], ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    { name: 'port 10250 to a /16 inside private space', object: egress({ to: [ip('10.1.0.0/16')], ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    { name: 'port 10250 to a /24 (narrower than /16, assumed N)', object: egress({ to: [ip('10.1.2.0/24')], ports: kubelet }), want: [] },
    { name: 'port 10250 to public space only', object: egress({ to: [ip('8.0.0.0/8')], ports: kubelet }), want: [] },
    {
      name: 'except that carves out all private ranges',
      object: egress({ to: [ip('0.0.0.0/0', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'])], ports: kubelet }),
      want: [],
    },
    { name: 'except that carves out only part', object: egress({ to: [ip('0.0.0.0/0', ['10.0.0.0/8'])], ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    { name: 'port 10250 to pods only', object: egress({ to: [{ podSelector: {} }, { namespaceSelector: {} }], ports: kubelet }), want: [] },
    { name: 'pods and a broad ipBlock', object: egress({ to: [{ podSelector: {} }, ip('0.0.0.0/0')], ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    // --- ports ---
    { name: 'UDP 10250 is not the TCP kubelet port', object: egress({ ports: [{ port: 10250, protocol: 'UDP' }] }), want: [] },
    { name: 'explicit TCP', object: egress({ ports: [{ port: 10250, protocol: 'TCP' }] }), want: [['spec.egress[0]', 10250]] },
    { name: 'endPort range spanning 10250', object: egress({ ports: [{ port: 10000, endPort: 10252 }] }), want: [['spec.egress[0]', 10250]] },
    {
      name: 'endPort range spanning 10250 and 10255: two findings',
      object: egress({ ports: [{ port: 10240, endPort: 10260 }] }),
      want: [
        ['spec.egress[0]', 10250],
        ['spec.egress[0]', 10255],
      ],
    },
    { name: 'endPort range stopping below 10250', object: egress({ ports: [{ port: 10000, endPort: 10249 }] }), want: [] },
    {
      name: 'two entries naming 10250: one finding',
      object: egress({ ports: [{ port: 10250 }, { port: 10200, endPort: 10300, protocol: 'TCP' }] }),
      want: [
        ['spec.egress[0]', 10250],
        ['spec.egress[0]', 10255],
      ],
    },
    { name: 'named port never matches a node listener', object: egress({ ports: [{ port: 'kubelet' }] }), want: [] },
    { name: 'numeric-looking string port is a name', object: egress({ ports: [{ port: '10250' }] }), want: [] },
    // --- allowing all ports ---
    { name: 'all ports to everywhere is not this finding', object: egress({}), want: [] },
    { name: 'all TCP ports to 0.0.0.0/0 is not this finding', object: egress({ to: [ip('0.0.0.0/0')], ports: [{ protocol: 'TCP' }] }), want: [] },
    { name: 'all ports to private space, assumed N: not targeted', object: egress({ to: [ip('10.0.0.0/8')] }), want: [] },
    // --- policyTypes ---
    { name: 'policyTypes Egress without rules opens nothing', object: np({ policyTypes: ['Egress'] }), want: [] },
    { name: 'policyTypes Ingress only: egress rules are not in effect', object: np({ policyTypes: ['Ingress'], egress: [{ ports: kubelet }] }), want: [] },
    { name: 'no policyTypes, egress rules present: egress in effect', object: np({ egress: [{ ports: kubelet }] }), want: [['spec.egress[0]', 10250]] },
    { name: 'no policyTypes, empty egress: not in effect', object: np({ egress: [] }), want: [] },
    {
      name: 'policyTypes [] is defaulted like a missing one',
      object: np({ policyTypes: [], egress: [{ ports: kubelet }] }),
      want: [['spec.egress[0]', 10250]],
    },
    { name: 'ingress rule on 10250 (metrics-server) is never this finding', object: np({ policyTypes: ['Ingress'], ingress: [{ ports: kubelet }] }), want: [] },
    { name: 'second rule path', object: egress({ to: [{ podSelector: {} }] }, { ports: [{ port: 10255 }] }), want: [['spec.egress[1]', 10255]] },
    // --- IPv6 and lenient CIDRs (assumed N includes fc00::/7) ---
    { name: 'IPv6 ::/0', object: egress({ to: [ip('::/0')], ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    { name: 'IPv6 /48 inside fc00::/7', object: egress({ to: [ip('fd00:1:2::/48')], ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    { name: 'IPv6 /64 is narrower than /48', object: egress({ to: [ip('fd00:1:2:3::/64')], ports: kubelet }), want: [] },
    { name: 'IPv6 global space only', object: egress({ to: [ip('2001:db8::/32')], ports: kubelet }), want: [] },
    { name: 'IPv6 ::/0 except fc00::/7', object: egress({ to: [ip('::/0', ['fc00::/7'])], ports: kubelet }), want: [] },
    { name: 'host bits masked', object: egress({ to: [ip('10.1.2.3/16')], ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    { name: 'leading zeros read as decimal', object: egress({ to: [ip('010.001.0.0/16')], ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    { name: 'IPv4-mapped IPv6 block is IPv4', object: egress({ to: [ip('::ffff:10.0.0.0/104')], ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    { name: 'IPv4-mapped /120 is an IPv4 /24 (too narrow)', object: egress({ to: [ip('::ffff:10.0.0.0/120')], ports: kubelet }), want: [] },
  ])('assumed node addresses: $name', ({ object, want }) => {
    expect(hits('netpol-sensitive-exposure', object)).toEqual(want);
  });

  it.each([
    {
      name: 'narrow block holding two node addresses',
      p: known,
      object: egress({ to: [ip('10.0.0.0/30')], ports: kubelet }),
      want: [['spec.egress[0]', 10250]],
    },
    { name: 'block holding one of many node addresses', p: known, object: egress({ to: [ip('10.0.0.7/32')], ports: kubelet }), want: [] },
    {
      name: 'block holding all of a one-address N',
      p: oneNode,
      object: egress({ to: [ip('10.0.0.5/32')], ports: kubelet }),
      want: [['spec.egress[0]', 10250]],
    },
    { name: 'wide block missing the nodes', p: known, object: egress({ to: [ip('172.16.0.0/12')], ports: kubelet }), want: [] },
    { name: 'except that carves out the node CIDR', p: known, object: egress({ to: [ip('10.0.0.0/8', ['10.0.0.0/24'])], ports: kubelet }), want: [] },
    {
      name: 'except leaving one node address',
      p: known,
      object: egress({
        to: [
          ip('10.0.0.0/8', [
            '10.0.0.0/25',
            '10.0.0.128/26',
            '10.0.0.192/27',
            '10.0.0.224/28',
            '10.0.0.240/29',
            '10.0.0.248/30',
            '10.0.0.252/31',
            '10.0.0.255/32',
          ]),
        ],
        ports: kubelet,
      }),
      want: [],
    },
    {
      name: 'except leaving two node addresses',
      p: known,
      object: egress({
        to: [ip('10.0.0.0/8', ['10.0.0.0/25', '10.0.0.128/26', '10.0.0.192/27', '10.0.0.224/28', '10.0.0.240/29', '10.0.0.248/30', '10.0.0.252/31'])],
        ports: kubelet,
      }),
      want: [['spec.egress[0]', 10250]],
    },
    {
      name: 'all ports to node addresses only: targets nodes',
      p: known,
      object: egress({ to: [ip('10.0.0.0/28')] }),
      want: [
        ['spec.egress[0]', 10250],
        ['spec.egress[0]', 10255],
      ],
    },
    {
      name: 'all TCP ports to node addresses only',
      p: known,
      object: egress({ to: [ip('10.0.0.0/28')], ports: [{ protocol: 'TCP' }] }),
      want: [
        ['spec.egress[0]', 10250],
        ['spec.egress[0]', 10255],
      ],
    },
    { name: 'all UDP ports to node addresses only', p: known, object: egress({ to: [ip('10.0.0.0/28')], ports: [{ protocol: 'UDP' }] }), want: [] },
    { name: 'all ports to one node address of many', p: known, object: egress({ to: [ip('10.0.0.1/32')] }), want: [] },
    { name: 'all ports to node addresses and pods: not only nodes', p: known, object: egress({ to: [ip('10.0.0.0/28'), { podSelector: {} }] }), want: [] },
    { name: 'all ports to a block larger than N: not targeted', p: known, object: egress({ to: [ip('10.0.0.0/16')] }), want: [] },
    {
      name: 'all ports to two /32 node addresses',
      p: known,
      object: egress({ to: [ip('10.0.0.1/32'), ip('10.0.0.2/32')] }),
      want: [
        ['spec.egress[0]', 10250],
        ['spec.egress[0]', 10255],
      ],
    },
    {
      name: 'IPv6 node CIDR reached by a narrow block',
      p: knownV6,
      object: egress({ to: [ip('fd00:1::/124')], ports: kubelet }),
      want: [['spec.egress[0]', 10250]],
    },
    { name: 'IPv6 node CIDR, block elsewhere', p: knownV6, object: egress({ to: [ip('fd00:2::/32')], ports: kubelet }), want: [] },
    { name: 'known N: 0.0.0.0/0 still reaches nodes', p: known, object: egress({ to: [ip('0.0.0.0/0')], ports: kubelet }), want: [['spec.egress[0]', 10250]] },
    { name: 'known N: leniently parsed except', p: known, object: egress({ to: [ip('10.0.0.0/8', ['010.0.0.1/24'])], ports: kubelet }), want: [] },
  ])('known node addresses: $name', ({ p, object, want }) => {
    expect(hits('netpol-sensitive-exposure', object, { policy: p })).toEqual(want);
  });

  it.each([
    {
      name: 'cluster node addresses make N known',
      nodes: ['10.0.0.1', '10.0.0.2'],
      object: egress({ to: [ip('10.0.0.0/30')], ports: kubelet }),
      want: [['spec.egress[0]', 10250]],
    },
    { name: 'without them a /30 is narrow', nodes: [], object: egress({ to: [ip('10.0.0.0/30')], ports: kubelet }), want: [] },
    {
      name: 'public node addresses are reached by 0.0.0.0/0 except private',
      nodes: ['203.0.113.5', '203.0.113.6'],
      object: egress({ to: [ip('0.0.0.0/0', ['10.0.0.0/8'])], ports: kubelet }),
      want: [['spec.egress[0]', 10250]],
    },
    {
      name: 'all ports to exactly the node addresses',
      nodes: ['203.0.113.5', '203.0.113.6'],
      object: egress({ to: [ip('203.0.113.5/32'), ip('203.0.113.6/32')] }),
      want: [
        ['spec.egress[0]', 10250],
        ['spec.egress[0]', 10255],
      ],
    },
  ])('cluster node addresses: $name', ({ nodes, object, want }) => {
    expect(hits('netpol-sensitive-exposure', object, { cluster: cluster({}, nodes) })).toEqual(want);
  });

  // Blocks judged together: what all the rules of one object open to the port.
  const threeNodes = policy({ nodeCIDRs: ['10.0.0.1/32', '10.0.0.2/32', '10.0.0.3/32'] });
  const union = (path: string, port = 10250): [string, number][] => [[path, port]];
  it.each([
    {
      name: 'a /16 split into two /17s in one rule',
      p: undefined,
      object: egress({ to: [ip('10.0.0.0/17'), ip('10.0.128.0/17')], ports: kubelet }),
      want: union('spec.egress[0]'),
    },
    {
      name: 'a /16 split into two /17s over two rules',
      p: undefined,
      object: egress({ to: [ip('10.0.0.0/17')], ports: kubelet }, { to: [ip('10.0.128.0/17')], ports: kubelet }),
      want: union('spec.egress[0]'),
    },
    {
      name: 'the rule that contributes first is named, not a rule to pods',
      p: undefined,
      object: egress(
        { to: [{ podSelector: {} }], ports: kubelet },
        { to: [ip('10.0.0.0/17')], ports: kubelet },
        { to: [ip('10.0.128.0/17')], ports: [{ port: 10000, endPort: 10260 }] },
      ),
      // 10255 is opened to one /17 only.
      want: union('spec.egress[1]'),
    },
    {
      name: 'four /18s of three private ranges',
      p: undefined,
      object: egress({ to: [ip('10.0.0.0/18'), ip('172.16.0.0/18'), ip('192.168.0.0/18'), ip('192.168.64.0/18')], ports: kubelet }),
      want: union('spec.egress[0]'),
    },
    {
      name: 'three /18s are less than a /16',
      p: undefined,
      object: egress({ to: [ip('10.0.0.0/18'), ip('172.16.0.0/18'), ip('192.168.0.0/18')], ports: kubelet }),
      want: [],
    },
    {
      name: 'the same /17 twice is one /17',
      p: undefined,
      object: egress({ to: [ip('10.0.0.0/17'), ip('10.0.0.0/17')], ports: kubelet }, { to: [ip('10.0.0.0/17')], ports: kubelet }),
      want: [],
    },
    { name: 'a /17 and a /18 inside it', p: undefined, object: egress({ to: [ip('10.0.0.0/17'), ip('10.0.64.0/18')], ports: kubelet }), want: [] },
    { name: 'two /17s outside the private ranges', p: undefined, object: egress({ to: [ip('8.0.0.0/17'), ip('8.0.128.0/17')], ports: kubelet }), want: [] },
    { name: 'a public /8 and one private address', p: undefined, object: egress({ to: [ip('8.0.0.0/8'), ip('10.0.0.5/32')], ports: kubelet }), want: [] },
    {
      name: 'two /17s, one on another port',
      p: undefined,
      object: egress({ to: [ip('10.0.0.0/17')], ports: kubelet }, { to: [ip('10.0.128.0/17')], ports: [{ port: 443 }] }),
      want: [],
    },
    {
      name: 'two /17s, one on UDP',
      p: undefined,
      object: egress({ to: [ip('10.0.0.0/17')], ports: kubelet }, { to: [ip('10.0.128.0/17')], ports: [{ port: 10250, protocol: 'UDP' }] }),
      want: [],
    },
    {
      name: 'two /17s, one allowing every port: not counted',
      p: undefined,
      object: egress({ to: [ip('10.0.0.0/17')], ports: kubelet }, { to: [ip('10.0.128.0/17')] }),
      want: [],
    },
    {
      name: 'two /49s inside fc00::/7',
      p: undefined,
      object: egress({ to: [ip('fd00:1:2::/49'), ip('fd00:1:2:8000::/49')], ports: kubelet }),
      want: union('spec.egress[0]'),
    },
    {
      name: 'a /17 of IPv4 and a /49 of IPv6 do not add up',
      p: undefined,
      object: egress({ to: [ip('10.0.0.0/17'), ip('fd00:1:2::/49')], ports: kubelet }),
      want: [],
    },
    {
      name: 'a rule that is a finding alone: no second finding for the union',
      p: undefined,
      object: egress({ to: [ip('10.0.0.0/16')], ports: kubelet }, { to: [ip('10.1.0.0/17'), ip('10.1.128.0/17')], ports: kubelet }),
      want: union('spec.egress[0]'),
    },
    {
      name: 'one /32 per node in one rule',
      p: threeNodes,
      object: egress({ to: [ip('10.0.0.1/32'), ip('10.0.0.2/32'), ip('10.0.0.3/32')], ports: kubelet }),
      want: union('spec.egress[0]'),
    },
    {
      name: 'one /32 per node over three rules',
      p: threeNodes,
      object: egress({ to: [ip('10.0.0.1/32')], ports: kubelet }, { to: [ip('10.0.0.2/32')], ports: kubelet }, { to: [ip('10.0.0.3/32')], ports: kubelet }),
      want: union('spec.egress[0]'),
    },
    { name: 'two /32s, one a node', p: threeNodes, object: egress({ to: [ip('10.0.0.1/32'), ip('10.0.0.9/32')], ports: kubelet }), want: [] },
    { name: 'a single /32 to one node', p: threeNodes, object: egress({ to: [ip('10.0.0.2/32')], ports: kubelet }), want: [] },
    {
      name: 'the same node twice',
      p: threeNodes,
      object: egress(
        { to: [ip('10.0.0.2/32')], ports: kubelet },
        { to: [ip('10.0.0.2/32'), ip('10.0.0.0/30', ['10.0.0.0/31', '10.0.0.3/32'])], ports: kubelet },
      ),
      want: [],
    },
    {
      name: 'blocks that cover no node',
      p: threeNodes,
      object: egress({ to: [ip('10.0.1.0/24'), ip('10.0.2.0/24')], ports: kubelet }, { to: [ip('192.168.0.0/16')], ports: kubelet }),
      want: [],
    },
    {
      name: 'a /32 named on the port and one allowing every port to another node',
      p: threeNodes,
      object: egress({ to: [ip('10.0.0.1/32')], ports: kubelet }, { to: [ip('10.0.0.2/32')] }),
      want: union('spec.egress[0]'),
    },
    {
      name: 'every port to one node, in each of two rules',
      p: threeNodes,
      object: egress({ to: [ip('10.0.0.1/32')] }, { to: [ip('10.0.0.2/32')] }),
      want: [
        ['spec.egress[0]', 10250],
        ['spec.egress[0]', 10255],
      ],
    },
    {
      name: 'every port to a node and to pods: not only nodes, not counted',
      p: threeNodes,
      object: egress({ to: [ip('10.0.0.1/32')], ports: kubelet }, { to: [ip('10.0.0.2/32'), { podSelector: {} }] }),
      want: [],
    },
    {
      name: 'excepts taken out before the union',
      p: threeNodes,
      object: egress({ to: [ip('10.0.0.0/30', ['10.0.0.2/31'])], ports: kubelet }, { to: [ip('10.0.0.2/31', ['10.0.0.2/32', '10.0.0.3/32'])], ports: kubelet }),
      want: [],
    },
  ])('union of blocks: $name', ({ p, object, want }) => {
    expect(hits('netpol-sensitive-exposure', object, p ? { policy: p } : {})).toEqual(want);
  });

  it('names at most five blocks of the union and counts the rest, from the first rule that contributes', () => {
    const blocks = Array.from({ length: 8 }, (_, i) => ip(`10.0.${i * 32}.0/19`));
    const e = evaluate(
      {
        object: egress({ to: [{ podSelector: {} }], ports: kubelet }, { to: blocks.slice(0, 4), ports: kubelet }, { to: blocks.slice(4), ports: kubelet }),
        namespace: 'a',
        source: null,
      },
      [defaultPolicy()],
      cluster(),
    );
    expect(e.findings.map((f) => [f.path, f.key, f.message])).toEqual([
      [
        'spec.egress[1]',
        'netpol-sensitive-exposure|egress|union|kubelet-api',
        'egress rules spec.egress[1], spec.egress[2] let pods reach kubelet-api 10250/TCP on likely node addresses (private ranges; set nodeCIDRs to be exact): ' +
          'their ipBlocks together hold as many of them as a /16 (/48) (to: 10.0.0.0/19, 10.0.32.0/19, 10.0.64.0/19, 10.0.96.0/19, 10.0.128.0/19 and 3 more); ' +
          'allow the port only to pod selectors, or except the node addresses from the ipBlocks',
      ],
    ]);
  });

  it('reports an ipBlock the API server would reject as an error finding', () => {
    const e = evaluate({ object: egress({ to: [ip('10.0.0.0/33')], ports: kubelet }), namespace: 'default', source: null }, [defaultPolicy()], cluster());
    expect(e.findings).toMatchObject([{ rule: 'netpol-sensitive-exposure', status: 'error', value: null, message: expect.stringContaining('10.0.0.0/33') }]);
  });

  it('keys a finding by rule content, not by its index', () => {
    const rule = { to: [ip('0.0.0.0/0')], ports: kubelet };
    const key = (o: Record<string, unknown>) =>
      evaluate({ object: o as never, namespace: 'a', source: null }, [defaultPolicy()], cluster()).findings.map((f) => f.key);
    const first = key(egress(rule));
    expect(first).toHaveLength(1);
    expect(first[0]).toMatch(/^netpol-sensitive-exposure\|egress\|[0-9a-f]{8}\|kubelet-api$/);
    expect(key(egress({ to: [{ podSelector: {} }] }, { ports: kubelet, to: [ip('0.0.0.0/0')] }))).toEqual(first);
    expect(key(egress({ to: [ip('0.0.0.0/1')], ports: kubelet }))).not.toEqual(first);
  });
});
