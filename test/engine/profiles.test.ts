// The reserved catalog as profiles, and ownership of reserved ports: table tests over every
// shipped entry, the loader's choices between profiles and reservedPorts, and fixtures written
// from the documented shapes of Cilium, metrics-server, MinIO and the control-plane static pods.
import { readFileSync } from 'node:fs';
import { loadAll } from 'js-yaml';
import { evaluate } from '../../src/engine/evaluate.js';
import { loadPolicy } from '../../src/engine/policy/load.js';
import type { PortPolicySpec } from '../../src/engine/policy/model.js';
import { profileHints, profilesOfDaemonSet } from '../../src/engine/policy/profile-hints.js';
import { PROFILES } from '../../src/engine/policy/profiles.js';
import type { KubeObject } from '../../src/engine/types.js';
import { cluster, container, defaultPolicy, defaultSpec, pod, policy, resource } from './helpers.js';

const fixture = (file: string) => loadAll(readFileSync(new URL(`./fixtures/${file}`, import.meta.url), 'utf8')) as KubeObject[];
const doc = (spec: unknown) => ({ apiVersion: 'portcullis.dev/v1alpha1', kind: 'PortPolicy', metadata: { name: 'p' }, spec });
const hostPort = (port: number, protocol = 'TCP') => pod({ containers: [container('c', [{ containerPort: port, hostPort: port, protocol }])] });
const reservedBy = (spec: PortPolicySpec, object: Record<string, unknown>, namespace = 'apps') =>
  evaluate(resource(object, namespace), [policy(spec)], cluster())
    .findings.filter((f) => f.rule === 'hostport-reserved')
    .map((f) => f.key.split('|')[3]);
const findingsOf = (object: KubeObject, p = defaultPolicy()) =>
  evaluate({ object, namespace: object.metadata.namespace ?? 'default', source: null }, [p], cluster()).findings.map((f) => `${f.rule} ${f.value}`);

describe('catalog profiles', () => {
  const rows = PROFILES.flatMap((profile) =>
    profile.entries.map((e) => ({
      name: `${profile.name}: ${e.name} ${e.ports}/${e.protocol}`,
      profile: profile.name,
      entry: e.name,
      port: Number(e.ports!.split('-')[0]),
      protocol: e.protocol!,
    })),
  );
  it.each(rows)('$name is reserved when its profile is chosen, for a pod no owner runs', ({ profile, entry, port, protocol }) => {
    expect(reservedBy({ profiles: [profile] }, hostPort(port, protocol))).toContain(entry);
  });

  it.each(PROFILES.flatMap((p) => p.entries.map((e) => ({ name: `${p.name}: ${e.name}`, e }))))(
    '$name names its component, protocol and source document',
    ({ e }) => {
      expect([typeof e.component, typeof e.protocol, typeof e.source, Array.isArray(e.owners)]).toEqual(['string', 'string', 'string', true]);
    },
  );

  it('entry names are unique across profiles, so reservedPorts can name any of them', () => {
    const names = PROFILES.flatMap((p) => p.entries.map((e) => e.name));
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });

  it('the shipped default is kubernetes, the shared CNI ports and cilium', () => {
    expect(defaultSpec.profiles).toEqual(['kubernetes', 'cni-shared', 'cilium']);
    expect(defaultPolicy().spec.profiles).toEqual(['kubernetes', 'cni-shared', 'cilium']);
  });

  it.each([
    { name: 'neither profiles nor reservedPorts: the default profiles', spec: {}, port: 9962, want: ['cilium-agent-metrics'] },
    { name: 'neither: 9000 is free (canonical-k8s is opt-in)', spec: {}, port: 9000, want: [] },
    { name: 'profiles without kubernetes: kubernetes is always in effect', spec: { profiles: ['calico'] }, port: 10250, want: ['kubelet-api'] },
    { name: 'profiles [calico]: Typha 5473', spec: { profiles: ['calico'] }, port: 5473, want: ['calico-typha'] },
    { name: 'profiles [calico]: cilium ports are not reserved', spec: { profiles: ['calico'] }, port: 9962, want: [] },
    { name: 'canonical-k8s: k8s-dqlite 9000', spec: { profiles: ['canonical-k8s'] }, port: 9000, want: ['k8s-dqlite'] },
    {
      name: 'reservedPorts alone replace the catalog (the meaning before profiles)',
      spec: { reservedPorts: [{ name: 'x', ports: '7000', component: 'x' }] },
      port: 10250,
      want: [],
    },
    { name: 'reservedPorts alone: their own entry', spec: { reservedPorts: [{ name: 'x', ports: '7000', component: 'x' }] }, port: 7000, want: ['x'] },
    {
      name: 'profiles and reservedPorts: an entry added',
      spec: { profiles: ['cilium'], reservedPorts: [{ name: 'x', ports: '7000', component: 'x' }] },
      port: 7000,
      want: ['x'],
    },
    {
      name: 'profiles and reservedPorts: the catalog stays',
      spec: { profiles: ['cilium'], reservedPorts: [{ name: 'x', ports: '7000', component: 'x' }] },
      port: 4240,
      want: ['cilium-health'],
    },
    {
      name: 'an override by name moves the port',
      spec: { profiles: ['cilium'], reservedPorts: [{ name: 'cilium-health', ports: '14240' }] },
      port: 14240,
      want: ['cilium-health'],
    },
    {
      name: 'an override by name frees the old port',
      spec: { profiles: ['cilium'], reservedPorts: [{ name: 'cilium-health', ports: '14240' }] },
      port: 4240,
      want: [],
    },
    { name: 'disabled: true switches an entry off', spec: { profiles: ['cni-shared'], reservedPorts: [{ name: 'bgp', disabled: true }] }, port: 179, want: [] },
    { name: 'disabled kubelet entry', spec: { profiles: [], reservedPorts: [{ name: 'kubelet-read-only', disabled: true }] }, port: 10255, want: [] },
  ])('$name', ({ spec, port, want }) => {
    expect(reservedBy(spec as PortPolicySpec, hostPort(port))).toEqual(want);
  });

  it.each([
    { name: 'an unknown profile', spec: { profiles: ['weavenet'] }, path: 'spec.profiles[0]' },
    {
      name: 'switching off a name no profile has',
      spec: { profiles: ['cilium'], reservedPorts: [{ name: 'nope', disabled: true }] },
      path: 'spec.reservedPorts[0].name',
    },
    { name: 'disabled without profiles', spec: { reservedPorts: [{ name: 'bgp', disabled: true }] }, path: 'spec.reservedPorts[0].disabled' },
    { name: 'a new entry without ports', spec: { profiles: [], reservedPorts: [{ name: 'mine', component: 'x' }] }, path: 'spec.reservedPorts[0].ports' },
    {
      name: 'a new entry without component',
      spec: { profiles: [], reservedPorts: [{ name: 'mine', ports: '7000' }] },
      path: 'spec.reservedPorts[0].component',
    },
    {
      name: 'an owner of an unknown kind',
      spec: { profiles: [], reservedPorts: [{ name: 'm', ports: '7000', component: 'm', owners: [{ namespaces: ['a'], kind: 'Daemonset', name: 'm' }] }] },
      path: 'spec.reservedPorts[0].owners[0].kind',
    },
  ])('refuses $name, naming $path', ({ spec, path }) => {
    const r = loadPolicy(doc(spec), defaultSpec);
    expect(r.ok ? [] : r.problems.map((p) => p.path)).toContain(path);
  });

  const blanket = { namespaces: ['kube-system'], rules: ['hostport-reserved'], reason: 'system' };
  it.each([
    { name: 'the blanket kube-system exemption under profiles', spec: { exemptions: [blanket] }, warned: ['spec.exemptions[0]'] },
    { name: 'the same with kinds and names "*"', spec: { exemptions: [{ ...blanket, kinds: ['*'], names: ['*'] }] }, warned: ['spec.exemptions[0]'] },
    { name: 'an exemption of one kube-system DaemonSet', spec: { exemptions: [{ ...blanket, kinds: ['DaemonSet'], names: ['node-agent'] }] }, warned: [] },
    { name: 'a kube-system exemption of another rule', spec: { exemptions: [{ ...blanket, rules: ['nodeport-range'] }] }, warned: [] },
    {
      name: 'a policy with its own reservedPorts and no profiles (no owners to rely on)',
      spec: { reservedPorts: [{ name: 'x', ports: '7000', component: 'x' }], exemptions: [blanket] },
      warned: [],
    },
  ])('warns on load for $name', ({ spec, warned }) => {
    const r = loadPolicy(doc(spec), defaultSpec);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.warnings.map((w) => w.path)).toEqual(warned);
  });
});

describe('port ownership', () => {
  const daemonSet = (name: string, ports: number[], extra: Record<string, unknown> = {}) => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, ...extra },
    spec: {
      template: {
        spec: {
          hostNetwork: true,
          containers: [
            container(
              name,
              ports.map((containerPort) => ({ containerPort })),
            ),
          ],
        },
      },
    },
  });
  const podOf = (name: string, ownerReferences: Record<string, unknown>[], labels: Record<string, string> = {}, annotations: Record<string, string> = {}) =>
    pod(
      { hostNetwork: true, containers: [container('c', [{ containerPort: 10249 }, { containerPort: 9963 }, { containerPort: 6443 }])] },
      { metadata: { name, ownerReferences, labels, annotations } },
    );
  const tenantPolicy = () => policy({ tenants: [{ name: 'sneaky', namespaces: ['cilium'] }] });
  it.each([
    { name: 'kube-proxy DaemonSet in kube-system', object: daemonSet('kube-proxy', [10249, 10256]), ns: 'kube-system', want: [] },
    { name: 'kube-proxy DaemonSet elsewhere', object: daemonSet('kube-proxy', [10249]), ns: 'apps', want: [10249] },
    { name: 'another kube-system DaemonSet on kube-proxy ports', object: daemonSet('node-agent', [10249]), ns: 'kube-system', want: [10249] },
    { name: "the cilium DaemonSet on the operator's port", object: daemonSet('cilium', [9963]), ns: 'kube-system', want: [9963] },
    {
      name: 'the cilium DaemonSet in a namespace of a tenant named cilium',
      object: daemonSet('cilium', [4240]),
      ns: 'cilium',
      policy: tenantPolicy,
      want: [4240],
    },
    { name: 'nobody owns the kubelet port, not even in kube-system', object: daemonSet('kube-proxy', [10250]), ns: 'kube-system', want: [10250] },
    { name: 'a glob owner: aws-cloud-controller-manager', object: daemonSet('aws-cloud-controller-manager', [10258]), ns: 'kube-system', want: [] },
    {
      name: 'a pod of kube-proxy by its ownerReferences (only 10249 is its own)',
      object: podOf('kube-proxy-abcde', [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'kube-proxy', controller: true }]),
      ns: 'kube-system',
      want: [9963, 6443],
    },
    {
      name: 'a pod of the cilium-operator Deployment through its ReplicaSet and pod-template-hash',
      object: podOf('cilium-operator-5d8f7c9b4-abcde', [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'cilium-operator-5d8f7c9b4', controller: true }], {
        'pod-template-hash': '5d8f7c9b4',
      }),
      ns: 'kube-system',
      want: [10249, 6443],
    },
    {
      name: 'a ReplicaSet whose name does not end in the pod-template-hash names no Deployment',
      object: podOf('x', [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'cilium-operator-5d8f7c9b4', controller: true }], { 'pod-template-hash': 'ffff' }),
      ns: 'kube-system',
      want: [10249, 9963, 6443],
    },
    { name: 'a static pod manifest: bare name', object: podOf('kube-apiserver', []), ns: 'kube-system', want: [10249, 9963] },
    {
      name: 'a mirror pod by annotation',
      object: podOf('kube-apiserver-cp-1', [], {}, { 'kubernetes.io/config.mirror': 'h' }),
      ns: 'kube-system',
      want: [10249, 9963],
    },
    {
      name: 'a mirror pod by Node owner',
      object: podOf('kube-apiserver-cp-1', [{ apiVersion: 'v1', kind: 'Node', name: 'cp-1' }]),
      ns: 'kube-system',
      want: [10249, 9963],
    },
    { name: 'a suffixed name that is no mirror pod', object: podOf('kube-apiserver-cp-1', []), ns: 'kube-system', want: [10249, 9963, 6443] },
    {
      name: 'a mirror pod outside kube-system',
      object: podOf('kube-apiserver-cp-1', [], {}, { 'kubernetes.io/config.mirror': 'h' }),
      ns: 'apps',
      want: [10249, 9963, 6443],
    },
    {
      name: 'owners written in the policy',
      object: daemonSet('node-agent', [7000]),
      ns: 'agents',
      policy: () =>
        policy({
          profiles: [],
          reservedPorts: [{ name: 'agent', ports: '7000', component: 'agent', owners: [{ namespaces: ['agent*'], kind: 'DaemonSet', name: 'node-*' }] }],
        }),
      want: [],
    },
  ])('$name', ({ object, ns, policy: p, want }) => {
    const e = evaluate(resource(object, ns), [p ? p() : defaultPolicy()], cluster());
    expect(e.findings.filter((f) => f.rule === 'hostport-reserved').map((f) => f.value)).toEqual(want);
  });

  it('Cilium installed in namespace cilium: every object passes as the owner of its ports', () => {
    expect(fixture('cilium-namespace.yaml').map((o) => findingsOf(o))).toEqual([[], [], [], [], []]);
  });

  it('the same Cilium objects in a tenant namespace are denied on every reserved port', () => {
    const p = policy({ tenants: [{ name: 'cilium', namespaces: ['cilium'] }] });
    expect(fixture('cilium-namespace.yaml').map((o) => findingsOf(o, p))).toEqual([
      ['hostport-reserved 4244', 'hostport-reserved 9962', 'hostport-reserved 9965'],
      ['hostport-reserved 9964'],
      ['hostport-reserved 9963'],
      ['hostport-reserved 4244', 'hostport-reserved 9962'],
      ['hostport-reserved 9963'],
    ]);
  });

  it('metrics-server on the host network with its 10250 is flagged, in kube-system too', () => {
    expect(fixture('metrics-server-host-network.yaml').map((o) => findingsOf(o))).toEqual([['hostport-reserved 10250']]);
  });

  it('a MinIO DaemonSet on hostPort 9000 passes the default, and is flagged with canonical-k8s', () => {
    const [minio] = fixture('minio-daemonset.yaml');
    expect(findingsOf(minio)).toEqual([]);
    expect(findingsOf(minio, policy({ profiles: ['cilium', 'canonical-k8s'] }))).toEqual(['hostport-reserved 9000']);
  });

  it('control-plane static pods, as a manifest and as a mirror pod, own their ports', () => {
    expect(fixture('static-pods.yaml').map((o) => findingsOf(o))).toEqual([[], []]);
  });
});

describe('profile hints', () => {
  it.each([
    { name: 'calico-node in calico-system', ns: 'calico-system', ds: 'calico-node', want: ['calico'] },
    { name: 'calico-node in kube-system (manifest install)', ns: 'kube-system', ds: 'calico-node', want: ['calico'] },
    { name: 'kube-flannel-ds in kube-flannel', ns: 'kube-flannel', ds: 'kube-flannel-ds', want: ['flannel'] },
    { name: 'antrea-agent', ns: 'kube-system', ds: 'antrea-agent', want: ['antrea'] },
    { name: 'cilium in cilium', ns: 'cilium', ds: 'cilium', want: ['cilium'] },
    { name: 'a DaemonSet named calico-node in a namespace no Calico install uses', ns: 'team-a', ds: 'calico-node', want: [] },
  ])('$name', ({ ns, ds, want }) => {
    expect(profilesOfDaemonSet(ns, ds)).toEqual(want);
  });

  it('names the profiles a policy using profiles leaves out, never those of a policy with its own whole catalog', () => {
    const seen = new Map([
      ['calico', 'calico-system/calico-node'],
      ['cilium', 'kube-system/cilium'],
    ]);
    const legacy = policy({ reservedPorts: [{ name: 'x', ports: '7000', component: 'x' }] }, 'legacy');
    expect(profileHints([defaultPolicy(), legacy], seen)).toEqual([
      'the cluster runs DaemonSet calico-system/calico-node, which profile calico describes; policy default does not use it (add it to spec.profiles to reserve its ports)',
    ]);
    expect(profileHints([policy({ profiles: ['calico'] })], seen)).toEqual([
      'the cluster runs DaemonSet kube-system/cilium, which profile cilium describes; policy p does not use it (add it to spec.profiles to reserve its ports)',
    ]);
  });
});
