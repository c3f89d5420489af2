// The admin network policies and Calico's policies through both doors: each case is a
// manifest scanned by `portcullis scan` (manifest source, JSON report) and the same object
// sent to /validate (admission source, AdmissionReview answer), with the shipped default
// policy; both must give the findings the case expects. The objects are written from the
// upstream shapes: kubernetes-sigs/network-policy-api apis/v1alpha1 and v1alpha2, and
// projectcalico/calico api/pkg/apis/projectcalico/v3 (stored as crd.projectcalico.org/v1).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { runScan } from '../../src/cmd/scan.js';
import { checkScanJson } from '../reports/schemas.js';
import { startHarness, type Harness } from './harness.js';
import { admissionReview, type Obj } from './reviews.js';

const DEFAULT_POLICY = path.resolve(import.meta.dirname, '../../policies/default.yaml');

const kubeletV1 = [{ portNumber: { protocol: 'TCP', port: 10250 } }];
const calicoKubelet = { protocol: 'TCP', destination: { ports: [10250] } };
const hosts = { protocol: 'TCP', destination: { selector: 'has(kubernetes-host)', ports: [10250] } };

const anp = (name: string, egress: Obj[]) => ({
  apiVersion: 'policy.networking.k8s.io/v1alpha1',
  kind: 'AdminNetworkPolicy',
  metadata: { name },
  spec: { priority: 10, subject: { namespaces: {} }, egress },
});
const cnp = (name: string, tier: string, egress: Obj[]) => ({
  apiVersion: 'policy.networking.k8s.io/v1alpha2',
  kind: 'ClusterNetworkPolicy',
  metadata: { name },
  spec: { tier, priority: 10, subject: { namespaces: {} }, egress },
});
const gnp = (apiVersion: string, name: string, spec: Obj) => ({ apiVersion, kind: 'GlobalNetworkPolicy', metadata: { name }, spec: { order: 100, ...spec } });

const CASES: { name: string; object: Obj; want: string[] }[] = [
  // The two policies that were counted as "2 skipped".
  {
    name: 'AdminNetworkPolicy: a nodes peer opens 10250 to every pod',
    object: anp('anp-kubelet', [{ name: 'kubelet', action: 'Allow', to: [{ nodes: {} }], ports: kubeletV1 }]),
    want: ['spec.egress[0] 10250'],
  },
  {
    name: 'Calico GlobalNetworkPolicy (v3): every pod may reach 10250 anywhere',
    object: gnp('projectcalico.org/v3', 'gnp-kubelet-v3', { selector: 'all()', egress: [{ action: 'Allow', ...calicoKubelet }] }),
    want: ['spec.egress[0] 10250'],
  },
  {
    name: 'Calico GlobalNetworkPolicy (crd v1): the same, as stored',
    object: gnp('crd.projectcalico.org/v1', 'gnp-kubelet-crd', { selector: 'all()', egress: [{ action: 'Allow', ...calicoKubelet }] }),
    want: ['spec.egress[0] 10250'],
  },
  // First match within one object.
  {
    name: 'AdminNetworkPolicy: Pass for nodes before the Allow',
    object: anp('anp-pass', [
      { action: 'Pass', to: [{ nodes: {} }], ports: kubeletV1 },
      { action: 'Allow', to: [{ nodes: {} }], ports: kubeletV1 },
    ]),
    want: [],
  },
  {
    name: 'AdminNetworkPolicy: Deny for nodes before the Allow',
    object: anp('anp-deny', [
      { action: 'Deny', to: [{ nodes: {} }] },
      { action: 'Allow', to: [{ networks: ['0.0.0.0/0'] }], ports: kubeletV1 },
    ]),
    want: [],
  },
  {
    name: 'BaselineAdminNetworkPolicy: Allow to 0.0.0.0/0 on 10250',
    object: {
      apiVersion: 'policy.networking.k8s.io/v1alpha1',
      kind: 'BaselineAdminNetworkPolicy',
      metadata: { name: 'default' },
      spec: { subject: { namespaces: {} }, egress: [{ action: 'Allow', to: [{ networks: ['0.0.0.0/0'] }], ports: kubeletV1 }] },
    },
    want: ['spec.egress[0] 10250'],
  },
  {
    name: 'ClusterNetworkPolicy Admin tier: Accept to nodes',
    object: cnp('cnp-admin', 'Admin', [{ action: 'Accept', to: [{ nodes: {} }], protocols: [{ tcp: { destinationPort: { number: 10250 } } }] }]),
    want: ['spec.egress[0] 10250'],
  },
  {
    name: 'ClusterNetworkPolicy Baseline tier: Deny then Accept',
    object: cnp('cnp-baseline', 'Baseline', [
      { action: 'Deny', to: [{ nodes: {} }] },
      { action: 'Accept', to: [{ nodes: {} }] },
    ]),
    want: [],
  },
  {
    name: 'Calico: Deny host endpoints before the Allow',
    object: gnp('projectcalico.org/v3', 'gnp-shadowed', {
      selector: 'all()',
      egress: [
        { action: 'Deny', ...hosts },
        { action: 'Allow', ...hosts },
      ],
    }),
    want: [],
  },
  {
    name: 'Calico: Log is not terminal',
    object: gnp('crd.projectcalico.org/v1', 'gnp-logged', {
      selector: 'all()',
      egress: [
        { action: 'Log', ...hosts },
        { action: 'Allow', ...hosts },
      ],
    }),
    want: ['spec.egress[1] 10250'],
  },
  // Calico's host protection: a policy for host endpoints open to the world on the kubelet port.
  {
    name: 'Calico: host endpoints open to 0.0.0.0/0 on 10250',
    object: gnp('projectcalico.org/v3', 'hep-ingress', {
      selector: 'has(kubernetes-host)',
      ingress: [{ action: 'Allow', protocol: 'TCP', source: { nets: ['0.0.0.0/0'] }, destination: { ports: [10250] } }],
    }),
    want: ['spec.ingress[0] 10250'],
  },
  {
    name: 'Calico NetworkPolicy in team-a: global() host endpoints on 10250',
    object: {
      apiVersion: 'projectcalico.org/v3',
      kind: 'NetworkPolicy',
      metadata: { name: 'np-global', namespace: 'team-a' },
      spec: { selector: 'all()', egress: [{ action: 'Allow', protocol: 'TCP', destination: { namespaceSelector: 'global()', ports: [10250] } }] },
    },
    want: ['spec.egress[0] 10250'],
  },
];

let dir: string;
let h: Harness;
let scanned: Map<string, string[]>;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'portcullis-netpol-kinds-'));
  for (const { object } of CASES) await writeFile(path.join(dir, `${object.metadata.name}.yaml`), stringify(object));
  let out = '';
  await runScan(
    [dir],
    { policy: [DEFAULT_POLICY], format: 'json', failOn: 'never' },
    {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: () => true },
      stdoutColor: false,
      now: () => new Date(0),
    },
  );
  const report = JSON.parse(out);
  expect(report.summary.skipped).toBe(0);
  // The report's kind enum names every kind: the json validates against its schema.
  expect(checkScanJson(report)).toEqual([true, []]);
  scanned = new Map();
  for (const f of report.findings) scanned.set(f.resource.name, [...(scanned.get(f.resource.name) ?? []), `${f.path} ${f.value}`]);
  h = await startHarness({ policy: await readFile(DEFAULT_POLICY, 'utf8') });
});

afterAll(async () => {
  await h?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('network-policy kinds through both doors', () => {
  it.each(CASES)('$name', async ({ object, want }) => {
    expect(scanned.get(object.metadata.name) ?? []).toEqual(want);
    const res = await h.post('/validate', admissionReview({ object }));
    expect(res.status).toBe(200);
    const lines: string[] = res.json.response.status?.message?.split('\n').slice(1) ?? [];
    const denied = lines.map((l) => {
      const m = /^- netpol-sensitive-exposure \(policy default\) at (\S+) = (\d+): /.exec(l);
      if (!m) throw new Error(`unexpected denial line: ${l}`);
      return `${m[1]} ${m[2]}`;
    });
    expect({ allowed: res.json.response.allowed, denied }).toEqual({ allowed: want.length === 0, denied: want });
  });
});
