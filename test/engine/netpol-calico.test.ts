// netpol-sensitive-exposure on Calico's policies, written from the shapes in projectcalico/calico
// api/pkg/apis/projectcalico/v3 (policy_common.go: Rule with action Allow|Deny|Log|Pass,
// protocol/notProtocol, source/destination EntityRule with nets/notNets, selector/notSelector,
// namespaceSelector, ports/notPorts as numbers or "lo:hi"; GlobalNetworkPolicySpec with
// selector, types, preDNAT) and the crd.projectcalico.org/v1 CRDs that store the same spec.
// Host endpoints are selected the way Calico's host-protection guides and automatic host
// endpoints label them: `kubernetes-host`, `projectcalico.org/created-by`, node labels.
import { evaluate } from '../../src/engine/evaluate.js';
import { cluster, hits, policy, resource } from './helpers.js';

type Obj = Record<string, unknown>;

const GROUPS = ['projectcalico.org/v3', 'crd.projectcalico.org/v1'] as const;

const gnp = (apiVersion: string, spec: Obj) => ({ apiVersion, kind: 'GlobalNetworkPolicy', metadata: { name: 'g' }, spec });
const np = (apiVersion: string, spec: Obj) => ({ apiVersion, kind: 'NetworkPolicy', metadata: { name: 'n', namespace: 'team-a' }, spec });

const kubelet = { protocol: 'TCP', destination: { ports: [10250] } };
const toHosts = (extra: Obj = {}) => ({ protocol: 'TCP', destination: { selector: 'has(kubernetes-host)', ports: [10250], ...extra } });
const both: [string, number][] = [
  ['spec.egress[0]', 10250],
  ['spec.egress[0]', 10255],
];

// Egress of a GlobalNetworkPolicy that applies to pods.
const EGRESS: { name: string; egress: Obj[]; spec?: Obj; want: [string, number][] }[] = [
  // The case: every pod may reach the kubelet on any address.
  { name: 'Allow 10250 to every destination', egress: [{ action: 'Allow', ...kubelet }], want: [['spec.egress[0]', 10250]] },
  { name: 'Allow 10250 to host endpoints (kubernetes-host)', egress: [{ action: 'Allow', ...toHosts() }], want: [['spec.egress[0]', 10250]] },
  {
    name: 'Allow to automatic host endpoints, every port',
    egress: [{ action: 'Allow', destination: { selector: "projectcalico.org/created-by == 'calico-kube-controllers'" } }],
    want: both,
  },
  {
    name: 'Allow 10250 to control-plane nodes by node label',
    egress: [{ action: 'Allow', protocol: 'TCP', destination: { selector: 'has(node-role.kubernetes.io/control-plane)', ports: [10250] } }],
    want: [['spec.egress[0]', 10250]],
  },
  {
    name: 'Allow 10250 to global() (host endpoints and network sets)',
    egress: [{ action: 'Allow', protocol: 'TCP', destination: { namespaceSelector: 'global()', ports: [10250] } }],
    want: [['spec.egress[0]', 10250]],
  },
  {
    name: 'Allow 10250 to global() with a host selector',
    egress: [{ action: 'Allow', protocol: 'TCP', destination: { namespaceSelector: 'global()', selector: 'has(kubernetes-host)', ports: [10250] } }],
    want: [['spec.egress[0]', 10250]],
  },
  {
    name: 'global() with another selector: a network set',
    egress: [{ action: 'Allow', protocol: 'TCP', destination: { namespaceSelector: 'global()', selector: "role == 'db'", ports: [10250] } }],
    want: [],
  },
  {
    name: 'Allow 10250 to all() endpoints',
    egress: [{ action: 'Allow', protocol: 'TCP', destination: { selector: 'all()', ports: [10250] } }],
    want: [['spec.egress[0]', 10250]],
  },
  { name: 'all() endpoints, every port: not only nodes', egress: [{ action: 'Allow', destination: { selector: 'all()' } }], want: [] },
  {
    name: 'a negated host selector picks no host',
    egress: [{ action: 'Allow', protocol: 'TCP', destination: { selector: '!has(kubernetes-host)', ports: [10250] } }],
    want: [],
  },
  { name: 'pods by selector', egress: [{ action: 'Allow', protocol: 'TCP', destination: { selector: "app == 'web'", ports: [10250] } }], want: [] },
  { name: 'pods by namespaceSelector', egress: [{ action: 'Allow', protocol: 'TCP', destination: { namespaceSelector: 'all()', ports: [10250] } }], want: [] },
  { name: 'services are pods behind them', egress: [{ action: 'Allow', destination: { services: { name: 'kubernetes', namespace: 'default' } } }], want: [] },
  {
    name: 'nets 10.0.0.0/8 on 10250',
    egress: [{ action: 'Allow', protocol: 'TCP', destination: { nets: ['10.0.0.0/8'], ports: [10250] } }],
    want: [['spec.egress[0]', 10250]],
  },
  {
    name: 'nets minus notNets of the private ranges',
    egress: [
      { action: 'Allow', protocol: 'TCP', destination: { nets: ['0.0.0.0/0'], notNets: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'], ports: [10250] } },
    ],
    want: [],
  },
  {
    name: 'notNets alone: everything else',
    egress: [{ action: 'Allow', protocol: 'TCP', destination: { notNets: ['203.0.113.0/24'], ports: [10250] } }],
    want: [['spec.egress[0]', 10250]],
  },
  {
    name: 'notSelector takes host endpoints out',
    egress: [{ action: 'Allow', protocol: 'TCP', destination: { notSelector: 'has(kubernetes-host)', ports: [10250] } }],
    want: [],
  },
  {
    name: 'nets narrow to pods by selector',
    egress: [{ action: 'Allow', protocol: 'TCP', destination: { nets: ['10.0.0.0/8'], selector: "app == 'web'", ports: [10250] } }],
    want: [],
  },
  {
    name: 'nets split into two /17s',
    egress: [{ action: 'Allow', protocol: 'TCP', destination: { nets: ['10.0.0.0/17', '10.0.128.0/17'], ports: [10250] } }],
    want: [['spec.egress[0]', 10250]],
  },
  {
    name: 'Deny one /17, then Allow both /17s',
    egress: [
      { action: 'Deny', protocol: 'TCP', destination: { nets: ['10.0.128.0/17'], ports: [10250] } },
      { action: 'Allow', protocol: 'TCP', destination: { nets: ['10.0.0.0/17', '10.0.128.0/17'], ports: [10250] } },
    ],
    want: [],
  },
  // --- ports and protocols ---
  {
    name: 'a port range "10000:11000"',
    egress: [{ action: 'Allow', protocol: 'TCP', destination: { selector: 'has(kubernetes-host)', ports: ['10000:11000'] } }],
    want: both,
  },
  { name: 'a port as a string', egress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['10255'] } }], want: [['spec.egress[0]', 10255]] },
  {
    name: 'notPorts cut 10250 out of a range',
    egress: [{ action: 'Allow', protocol: 'TCP', destination: { selector: 'has(kubernetes-host)', ports: ['10000:11000'], notPorts: [10250] } }],
    want: [['spec.egress[0]', 10255]],
  },
  {
    name: 'every port but 10250 and 10255',
    egress: [{ action: 'Allow', protocol: 'TCP', destination: { selector: 'has(kubernetes-host)', notPorts: [10250, 10255] } }],
    want: [],
  },
  {
    name: 'every TCP port but 22 to host endpoints',
    egress: [{ action: 'Allow', protocol: 'TCP', destination: { selector: 'has(kubernetes-host)', notPorts: [22] } }],
    want: both,
  },
  { name: 'protocol 6 is TCP', egress: [{ action: 'Allow', protocol: 6, destination: { ports: [10250] } }], want: [['spec.egress[0]', 10250]] },
  { name: 'UDP only', egress: [{ action: 'Allow', protocol: 'UDP', destination: { ports: [10250] } }], want: [] },
  { name: 'notProtocol TCP', egress: [{ action: 'Allow', notProtocol: 'TCP', destination: { selector: 'has(kubernetes-host)' } }], want: [] },
  { name: 'ICMP opens no port', egress: [{ action: 'Allow', protocol: 'ICMP', destination: { selector: 'has(kubernetes-host)' } }], want: [] },
  { name: 'named port never judged', egress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['kubelet'] } }], want: [] },
  // --- actions and first match ---
  { name: 'Deny never counts', egress: [{ action: 'Deny', ...toHosts() }], want: [] },
  { name: 'Pass never counts', egress: [{ action: 'Pass', ...toHosts() }], want: [] },
  {
    name: 'Log is not terminal: the Allow after it counts',
    egress: [
      { action: 'Log', ...toHosts() },
      { action: 'Allow', ...toHosts() },
    ],
    want: [['spec.egress[1]', 10250]],
  },
  {
    name: 'Deny host endpoints, then Allow them',
    egress: [
      { action: 'Deny', ...toHosts() },
      { action: 'Allow', ...toHosts() },
    ],
    want: [],
  },
  {
    name: 'Pass host endpoints, then Allow them',
    egress: [
      { action: 'Pass', ...toHosts() },
      { action: 'Allow', ...toHosts() },
    ],
    want: [],
  },
  {
    name: 'Deny all() endpoints, then Allow every destination',
    egress: [
      { action: 'Deny', protocol: 'TCP', destination: { selector: 'all()', ports: [10250] } },
      { action: 'Allow', ...kubelet },
    ],
    want: [],
  },
  {
    name: 'Deny every destination on TCP, then Allow',
    egress: [
      { action: 'Deny', protocol: 'TCP' },
      { action: 'Allow', ...toHosts() },
    ],
    want: [],
  },
  {
    name: 'Deny from some pods only hides nothing',
    egress: [
      { action: 'Deny', ...toHosts(), source: { selector: "app == 'a'" } },
      { action: 'Allow', ...toHosts() },
    ],
    want: [['spec.egress[1]', 10250]],
  },
  {
    name: 'Deny another host selector hides nothing',
    egress: [
      { action: 'Deny', protocol: 'TCP', destination: { selector: 'has(node-role.kubernetes.io/control-plane)', ports: [10250] } },
      { action: 'Allow', ...toHosts() },
    ],
    want: [['spec.egress[1]', 10250]],
  },
  {
    name: 'Allow then Deny: the Allow decides',
    egress: [
      { action: 'Allow', ...toHosts() },
      { action: 'Deny', ...toHosts() },
    ],
    want: [['spec.egress[0]', 10250]],
  },
  // --- which endpoints the policy applies to ---
  {
    name: 'a policy for host endpoints: its egress is the host, not pods',
    spec: { selector: 'has(kubernetes-host)' },
    egress: [{ action: 'Allow', ...kubelet }],
    want: [],
  },
  {
    name: 'a preDNAT policy applies to host endpoints only',
    spec: { preDNAT: true, applyOnForward: true },
    egress: [{ action: 'Allow', ...kubelet }],
    want: [],
  },
  { name: 'types: [Ingress] leaves egress out', spec: { types: ['Ingress'] }, egress: [{ action: 'Allow', ...kubelet }], want: [] },
];

// Ingress of a GlobalNetworkPolicy that applies to host endpoints.
const HOST_INGRESS: { name: string; spec: Obj; want: [string, number][] }[] = [
  {
    name: 'from everywhere to host endpoints',
    spec: { selector: 'has(kubernetes-host)', ingress: [{ action: 'Allow', ...kubelet }] },
    want: [['spec.ingress[0]', 10250]],
  },
  {
    name: 'from 0.0.0.0/0 to automatic host endpoints',
    spec: {
      selector: "projectcalico.org/created-by == 'calico-kube-controllers'",
      ingress: [{ action: 'Allow', protocol: 'TCP', source: { nets: ['0.0.0.0/0'] }, destination: { ports: [10250] } }],
    },
    want: [['spec.ingress[0]', 10250]],
  },
  { name: 'all() applies to host endpoints too', spec: { selector: 'all()', ingress: [{ action: 'Allow', ...kubelet }] }, want: [['spec.ingress[0]', 10250]] },
  {
    name: 'from all() endpoints (every pod and host)',
    spec: { selector: 'has(kubernetes-host)', ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: 'all()' }, destination: { ports: [10250] } }] },
    want: [['spec.ingress[0]', 10250]],
  },
  {
    name: 'from a /24: not broad',
    spec: {
      selector: 'has(kubernetes-host)',
      ingress: [{ action: 'Allow', protocol: 'TCP', source: { nets: ['10.0.1.0/24'] }, destination: { ports: [10250] } }],
    },
    want: [],
  },
  {
    name: 'from other host endpoints: not broad',
    spec: {
      selector: 'has(kubernetes-host)',
      ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: 'has(node-role.kubernetes.io/control-plane)' }, destination: { ports: [10250] } }],
    },
    want: [],
  },
  {
    name: 'Deny from everywhere, then Allow',
    spec: {
      selector: 'has(kubernetes-host)',
      ingress: [
        { action: 'Deny', ...kubelet },
        { action: 'Allow', ...kubelet },
      ],
    },
    want: [],
  },
  {
    name: 'Deny from 0.0.0.0/0, then Allow from 0.0.0.0/0',
    spec: {
      selector: 'has(kubernetes-host)',
      ingress: [
        { action: 'Deny', protocol: 'TCP', source: { nets: ['0.0.0.0/0'] }, destination: { ports: [10250] } },
        { action: 'Allow', protocol: 'TCP', source: { nets: ['0.0.0.0/0'] }, destination: { ports: [10250] } },
      ],
    },
    want: [],
  },
  {
    name: 'a namespaceSelector policy applies to pods only',
    spec: { selector: 'all()', namespaceSelector: "team == 'a'", ingress: [{ action: 'Allow', ...kubelet }] },
    want: [],
  },
  { name: 'a pod selector applies to pods only', spec: { selector: "app == 'web'", ingress: [{ action: 'Allow', ...kubelet }] }, want: [] },
  {
    name: 'types: [Egress] leaves ingress out',
    spec: { selector: 'has(kubernetes-host)', types: ['Egress'], ingress: [{ action: 'Allow', ...kubelet }] },
    want: [],
  },
];

describe.each(GROUPS)('netpol-sensitive-exposure: Calico %s', (apiVersion) => {
  it.each(EGRESS)('GlobalNetworkPolicy egress: $name', ({ egress, spec, want }) => {
    expect(hits('netpol-sensitive-exposure', gnp(apiVersion, { selector: 'all()', ...spec, egress }), { namespace: null })).toEqual(want);
  });

  it.each(HOST_INGRESS)('GlobalNetworkPolicy host ingress: $name', ({ spec, want }) => {
    expect(hits('netpol-sensitive-exposure', gnp(apiVersion, spec), { namespace: null })).toEqual(want);
  });

  it.each([
    { name: 'Allow 10250 to every destination', spec: { selector: 'all()', egress: [{ action: 'Allow', ...kubelet }] }, want: [['spec.egress[0]', 10250]] },
    {
      name: 'Allow 10250 to global() host endpoints',
      spec: {
        egress: [{ action: 'Allow', protocol: 'TCP', destination: { namespaceSelector: 'global()', selector: 'has(kubernetes-host)', ports: [10250] } }],
      },
      want: [['spec.egress[0]', 10250]],
    },
    // A namespaced policy's selector alone picks pods of its namespace, whatever the labels.
    { name: 'a host label without global(): pods of the namespace', spec: { egress: [{ action: 'Allow', ...toHosts() }] }, want: [] },
    { name: 'ingress applies to pods of the namespace, never hosts', spec: { selector: 'all()', ingress: [{ action: 'Allow', ...kubelet }] }, want: [] },
  ])('NetworkPolicy: $name', ({ spec, want }) => {
    expect(hits('netpol-sensitive-exposure', np(apiVersion, spec))).toEqual(want);
  });
});

describe('Calico kinds', () => {
  it.each([
    { name: 'projectcalico.org/v1 is no Calico API', apiVersion: 'projectcalico.org/v1' },
    { name: 'crd.projectcalico.org/v3 is no Calico API', apiVersion: 'crd.projectcalico.org/v3' },
  ])('$name: not checked', ({ apiVersion }) => {
    expect(hits('netpol-sensitive-exposure', gnp(apiVersion, { egress: [{ action: 'Allow', ...kubelet }] }), { namespace: null })).toEqual([]);
  });

  it('a GlobalNetworkPolicy is cluster-scoped; a NetworkPolicy keeps its namespace and tenant', () => {
    const tenants = policy({ tenants: [{ name: 'team-a', namespaces: ['team-a'] }] });
    const spec = { selector: 'all()', egress: [{ action: 'Allow', ...kubelet }] };
    const where = (o: Obj) => evaluate(resource(o, 'team-a'), [tenants], cluster()).findings.map((f) => [f.resource.namespace, f.tenant]);
    expect(where({ ...gnp('projectcalico.org/v3', spec), metadata: { name: 'g', namespace: 'team-a' } })).toEqual([[null, null]]);
    expect(where(np('projectcalico.org/v3', spec))).toEqual([['team-a', 'team-a']]);
  });

  it('nets are judged against known node addresses', () => {
    const nodes = cluster({}, ['192.168.10.1', '192.168.10.2']);
    const object = (nets: string[]) =>
      gnp('projectcalico.org/v3', { selector: 'all()', egress: [{ action: 'Allow', protocol: 'TCP', destination: { nets, ports: [10250] } }] });
    expect(hits('netpol-sensitive-exposure', object(['192.168.10.0/30']), { namespace: null, cluster: nodes })).toEqual([['spec.egress[0]', 10250]]);
    expect(hits('netpol-sensitive-exposure', object(['192.168.10.2/32']), { namespace: null, cluster: nodes })).toEqual([]);
  });

  it('a bad net is an error finding, not a crash', () => {
    const e = evaluate(
      resource(gnp('projectcalico.org/v3', { egress: [{ action: 'Allow', destination: { nets: ['10.0.0.0/33'] } }] }), null),
      [policy()],
      cluster(),
    );
    expect(e.findings.map((f) => [f.rule, f.status])).toEqual([['netpol-sensitive-exposure', 'error']]);
  });
});
