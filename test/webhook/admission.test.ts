// The webhook end to end, as the API server uses it: AdmissionReviews built from manifests,
// posted over HTTPS to the real server, /mutate's patch applied with the JSON Patch library
// and the result sent to /validate.
import fastJsonPatch from 'fast-json-patch';
import { NamespaceLookupError, type ClusterView } from '../../src/cluster/view.js';
import type { Labels } from '../../src/engine/types.js';
import { GENEROUS_MS, waitFor } from '../support/wait.js';
import { patchOf, startHarness, TEST_POLICY, type Harness } from './harness.js';
import { backupCronJob, DNS_EGRESS, egressPolicy, logAgent, webPod, webService } from './objects.js';
import { admissionReview, type Obj } from './reviews.js';

const V1 = 'admission.k8s.io/v1';
const kubeSystemPod = () => ({ ...webPod({ hostPorts: { metrics: 10250 } }), metadata: { ...webPod().metadata, namespace: 'kube-system' } });
const manyHostPorts = () => {
  const pod = webPod();
  pod.spec.containers[2].ports = Array.from({ length: 15 }, (_, i) => ({ name: `p${i}`, containerPort: 5000 + i, hostPort: 20000 + i, protocol: 'TCP' }));
  return pod;
};

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

/** `- rule (policy test-ports) at path = value: ` — the part of a denial line portcullis writes; the rest is the engine's message. */
const line = (rule: string, path: string, value: number) => `- ${rule} (policy test-ports) at ${path} = ${value}: `;

describe('CREATE', () => {
  it.each([
    { name: 'a clean three-container pod', object: webPod(), allowed: true, denial: null, warnings: [], audit: [] },
    {
      name: 'a pod taking the kubelet and etcd-metrics ports',
      object: webPod({ hostPorts: { metrics: 10250, https: 2381 } }),
      allowed: false,
      denial: {
        head: 'portcullis denied this Pod: 2 violations',
        lines: [
          line('hostport-reserved', 'spec.containers[0].ports[1].hostPort', 2381),
          line('hostport-reserved', 'spec.containers[1].ports[0].hostPort', 10250),
        ],
      },
      warnings: ['hostport-not-allowed', 'hostport-not-allowed'],
      audit: [],
    },
    { name: 'a pod with a host port the tenant may use', object: webPod({ hostPorts: { http: 8080 } }), allowed: true, denial: null, warnings: [], audit: [] },
    {
      name: 'a pod with a host port outside the tenant list (warn)',
      object: webPod({ hostPorts: { 'fb-http': 20000 } }),
      allowed: true,
      denial: null,
      warnings: ['hostport-not-allowed'],
      audit: [],
    },
    { name: 'a kube-system pod on 10250 (exempt)', object: kubeSystemPod(), allowed: true, denial: null, warnings: [], audit: [] },
    { name: 'a multi-port NodePort Service inside the slice', object: webService(), allowed: true, denial: null, warnings: [], audit: [] },
    {
      name: 'a Service outside the slice',
      object: webService({ nodePorts: [30010, 31500, 30012] }),
      allowed: false,
      denial: { head: 'portcullis denied this Service: 1 violation', lines: [line('nodeport-range', 'spec.ports[1].nodePort', 31500)] },
      warnings: [],
      audit: [],
    },
    {
      name: 'a NodePort Service of a tenant without node ports (audit)',
      object: webService({ namespace: 'team-c' }),
      allowed: true,
      denial: null,
      warnings: [],
      audit: ['nodeport-not-allowed'],
    },
    {
      name: 'a NetworkPolicy opening the kubelet to 0.0.0.0/0',
      object: egressPolicy(),
      allowed: false,
      denial: { head: 'portcullis denied this NetworkPolicy: 1 violation', lines: [line('netpol-sensitive-exposure', 'spec.egress[0]', 10250)] },
      warnings: [],
      audit: [],
    },
    { name: 'a DNS-only NetworkPolicy', object: egressPolicy({ name: 'allow-dns', egress: DNS_EGRESS }), allowed: true, denial: null, warnings: [], audit: [] },
  ])('$name', async ({ object, allowed, denial, warnings, audit }) => {
    const res = await h.post('/validate', admissionReview({ object, uid: 'uid-create' }));
    expect(res.status).toBe(200);
    expect(res.json.apiVersion).toBe(V1);
    expect(res.json.kind).toBe('AdmissionReview');
    const r = res.json.response;
    expect(r.uid).toBe('uid-create');
    expect(r.allowed).toBe(allowed);
    expect(r.patch).toBeUndefined();
    expect(r.patchType).toBeUndefined();
    if (denial) {
      expect(r.status.code).toBe(403);
      const [head, ...rest] = r.status.message.split('\n');
      expect(head).toBe(denial.head);
      expect(rest).toHaveLength(denial.lines.length);
      denial.lines.forEach((l, i) => expect(rest[i].startsWith(l)).toBe(true));
      // Every line says what to do, not just what is wrong.
      for (const l of rest) expect(l).toMatch(/; [a-z].+$/);
    } else {
      expect(r.status).toBeUndefined();
    }
    expect((r.warnings ?? []).map((w: string) => w.split(/[ :]/)[0])).toEqual(warnings);
    for (const w of r.warnings ?? []) expect(w.length).toBeLessThan(120);
    expect(Object.keys(r.auditAnnotations ?? {})).toEqual(audit);
  });

  it('records audit findings as annotations the API server accepts: keys without "/", at most 63 characters', async () => {
    const res = await h.post('/validate', admissionReview({ object: webService({ namespace: 'team-c' }) }));
    const annotations = res.json.response.auditAnnotations;
    for (const key of Object.keys(annotations)) expect(key).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    const value = JSON.parse(annotations['nodeport-not-allowed']);
    expect(value.map((v: Obj) => [v.policy, v.path, v.value])).toEqual([['test-ports', 'spec.type', null]]);
    expect(value[0].message).toMatch(/team-c/);
    expect(res.json.response.allowed).toBe(true);
    expect(res.json.response.warnings).toBeUndefined();
  });

  it('keeps warnings few and short: 15 findings give 10 warnings, the last counting the rest', async () => {
    const res = await h.post('/validate', admissionReview({ object: manyHostPorts() }));
    const warnings: string[] = res.json.response.warnings;
    expect(res.json.response.allowed).toBe(true);
    expect(warnings).toHaveLength(10);
    expect(warnings[9]).toBe('portcullis: 6 more findings; run portcullis scan on this object to see them all');
    for (const w of warnings) expect(w.length).toBeLessThan(120);
  });
});

describe('UPDATE', () => {
  // The full path does not fit in 119 characters: the path inside the pod spec does.
  const carried = (i: number) => `hostport-reserved 10250 at containers[${i}].ports[0] predates this update; new Pods from this template will be denied`;
  it.each([
    {
      name: 'a new image on a template that already had hostPort 10250',
      object: logAgent({ image: 'fluent/fluent-bit:4.1' }),
      oldObject: logAgent(),
      allowed: true,
      denied: [],
      carried: [carried(0)],
    },
    {
      name: 'a container inserted before the offending one (indexes shift, the finding is the same)',
      object: logAgent({ extraContainer: true }),
      oldObject: logAgent(),
      allowed: true,
      denied: [],
      carried: [carried(1)],
    },
    {
      name: 'a second reserved host port added',
      object: logAgent({ hostPorts: [10250, 10255] }),
      oldObject: logAgent(),
      allowed: false,
      denied: ['spec.template.spec.containers[0].ports[1].hostPort = 10255'],
      carried: [carried(0)],
    },
    {
      name: 'an UPDATE without oldObject is judged as new',
      object: logAgent(),
      oldObject: null,
      allowed: false,
      denied: ['spec.template.spec.containers[0].ports[0].hostPort = 10250'],
      carried: [],
    },
    {
      name: 'the offending port moved to another number',
      object: logAgent({ hostPorts: [10255] }),
      oldObject: logAgent(),
      allowed: false,
      denied: ['spec.template.spec.containers[0].ports[0].hostPort = 10255'],
      carried: [],
    },
  ])('$name', async ({ object, oldObject, allowed, denied, carried: carriedWarnings }) => {
    const res = await h.post('/validate', admissionReview({ operation: 'UPDATE', object, oldObject, uid: 'uid-update' }));
    const r = res.json.response;
    expect(r.uid).toBe('uid-update');
    expect(r.allowed).toBe(allowed);
    const lines = r.status ? r.status.message.split('\n').slice(1) : [];
    expect(lines.map((l: string) => l.replace(/^- hostport-reserved \(policy test-ports\) at (\S+ = \d+):.*$/, '$1'))).toEqual(denied);
    expect((r.warnings ?? []).filter((w: string) => w.includes('predates this update'))).toEqual(carriedWarnings);
  });
});

/** The denial lines of a response as `rule path = value`, and its warnings. */
function verdictOf(r: Obj): { allowed: boolean; denied: string[]; warnings: string[] } {
  const denied = (r.status?.message?.split('\n').slice(1) ?? []).map((l: string) => l.replace(/^- (\S+) \(policy \S+\) at (\S+) = (\d+): .*$/, '$1 $2 = $3'));
  return { allowed: r.allowed, denied, warnings: r.warnings ?? [] };
}

describe('UPDATE of other kinds: carried over by identity, never by index', () => {
  const pod = (hostPorts: Record<string, number>, labels: Obj = {}) => {
    const p = webPod({ hostPorts });
    p.metadata = { ...p.metadata, name: 'web-7d4b9c8f6-x2x9k', labels: { ...p.metadata.labels, ...labels } };
    return p;
  };
  const sidecar = (hostPort: number) => {
    const d = logAgent();
    d.spec.template.spec.containers.push({
      ...structuredClone(d.spec.template.spec.containers[0]),
      name: 'sidecar',
      ports: [{ name: 's', containerPort: 3000, hostPort, protocol: 'TCP' }],
    });
    return d;
  };
  const kubelet = egressPolicy().spec.egress[0];
  const twoRules = (egress: Obj[]) => egressPolicy({ egress });

  it.each([
    {
      name: 'a CronJob whose schedule alone changed keeps its hostPort 10250: allowed, with a warning',
      object: backupCronJob({ schedule: '30 4 * * *' }),
      oldObject: backupCronJob(),
      allowed: true,
      denied: [],
      warnings: [
        'hostport-reserved 10250 at containers[0].ports[0] predates this update; new Pods from this template will be denied',
        expect.stringMatching(/^hostport-not-allowed/),
      ],
    },
    {
      name: 'a CronJob UPDATE that moves the host port to another reserved port: denied',
      object: backupCronJob({ hostPort: 10255 }),
      oldObject: backupCronJob(),
      allowed: false,
      denied: ['hostport-reserved spec.jobTemplate.spec.template.spec.containers[0].ports[0].hostPort = 10255'],
      warnings: [expect.stringMatching(/^hostport-not-allowed/)],
    },
    {
      name: 'a DaemonSet UPDATE that adds a second container on the same reserved port: denied for the new one, the old one a warning',
      object: sidecar(10250),
      oldObject: logAgent(),
      allowed: false,
      denied: ['hostport-reserved spec.template.spec.containers[1].ports[0].hostPort = 10250'],
      // Both containers' hostport-not-allowed findings differ only in the container's index:
      // one warning with a count (its path does not fit beside the message).
      warnings: [
        'hostport-reserved 10250 at containers[0].ports[0] predates this update; new Pods from this template will be denied',
        expect.stringMatching(/^hostport-not-allowed and 1 more: hostPort 10250\/TCP/),
      ],
    },
    {
      name: 'a Pod relabelled with hostPort 10250 already there: allowed, worded for a Pod',
      object: pod({ metrics: 10250 }, { release: 'canary' }),
      oldObject: pod({ metrics: 10250 }),
      allowed: true,
      denied: [],
      warnings: [
        'hostport-reserved 10250 at spec.containers[1].ports[0].hostPort predates this update; new Pods like this will be denied',
        expect.stringMatching(/^hostport-not-allowed/),
      ],
    },
    {
      name: 'a NetworkPolicy whose rules are reordered, the exposing one unchanged: allowed, with a warning',
      object: twoRules([...DNS_EGRESS, kubelet]),
      oldObject: twoRules([kubelet, ...DNS_EGRESS]),
      allowed: true,
      denied: [],
      warnings: ['netpol-sensitive-exposure 10250 at spec.egress[1] predates this update; a new NetworkPolicy like this will be denied'],
    },
    {
      name: 'a NetworkPolicy that gains a second exposing rule: denied for the new rule only',
      object: twoRules([kubelet, { to: [{ ipBlock: { cidr: '172.16.0.0/12' } }], ports: [{ protocol: 'TCP', port: 10250 }] }]),
      oldObject: twoRules([kubelet]),
      allowed: false,
      denied: ['netpol-sensitive-exposure spec.egress[1] = 10250'],
      warnings: ['netpol-sensitive-exposure 10250 at spec.egress[0] predates this update; a new NetworkPolicy like this will be denied'],
    },
    {
      name: 'a Service whose ports are reordered, one node port outside the slice all along: allowed',
      object: (() => {
        const s = webService({ nodePorts: [30010, 31500, 30012] });
        s.spec.ports.reverse();
        return s;
      })(),
      oldObject: webService({ nodePorts: [30010, 31500, 30012] }),
      allowed: true,
      denied: [],
      warnings: ['nodeport-range 31500 at spec.ports[1].nodePort predates this update; a new Service like this will be denied'],
    },
    {
      name: 'a Service whose out-of-slice node port changes number: denied',
      object: webService({ nodePorts: [30010, 31501, 30012] }),
      oldObject: webService({ nodePorts: [30010, 31500, 30012] }),
      allowed: false,
      denied: ['nodeport-range spec.ports[1].nodePort = 31501'],
      warnings: [],
    },
  ])('$name', async ({ object, oldObject, allowed, denied, warnings }) => {
    const res = await h.post('/validate', admissionReview({ operation: 'UPDATE', object, oldObject, uid: 'uid-upd' }));
    expect(res.status).toBe(200);
    expect(res.json.response.uid).toBe('uid-upd');
    expect(verdictOf(res.json.response)).toEqual({ allowed, denied, warnings });
    for (const w of res.json.response.warnings ?? []) expect(w.length).toBeLessThan(120);
  });
});

describe('CREATE of objects at the edges', () => {
  const noPorts = () => {
    const p = webPod();
    for (const c of p.spec.containers) delete c.ports;
    return p;
  };
  const hostNetworkNoPorts = () => ({ ...noPorts(), spec: { ...noPorts().spec, hostNetwork: true } });
  const externalName = () => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'db', namespace: 'team-a' },
    spec: {
      type: 'ExternalName',
      externalName: 'db.example.com',
      ports: [{ name: 'pg', port: 5432, protocol: 'TCP', targetPort: 5432 }],
      sessionAffinity: 'None',
    },
  });
  const hugeEnv = (hostPorts: Record<string, number> = {}) => {
    const p = webPod({ hostPorts });
    p.spec.containers[0].env = Array.from({ length: 5000 }, (_, i) => ({ name: `VAR_${i}`, value: `value-${i}-${'x'.repeat(100)}` }));
    p.spec.containers[0].env.push({ name: 'API_TOKEN', value: 's3cr3t-api-token-do-not-log' });
    return p;
  };
  const deployment = () => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'team-a' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: webPod({ hostPorts: { https: 6443 } }).spec },
    },
  });

  it.each([
    { name: 'a Pod whose containers have no ports', object: noPorts(), allowed: true, denied: [] },
    { name: 'a hostNetwork Pod whose containers declare no ports', object: hostNetworkNoPorts(), allowed: true, denied: [] },
    { name: 'a Service of type ExternalName', object: externalName(), allowed: true, denied: [] },
    { name: 'a Pod with 5,000 env vars (about 600 kB)', object: hugeEnv(), allowed: true, denied: [] },
    {
      name: 'a Pod with 5,000 env vars and hostPort 10250',
      object: hugeEnv({ metrics: 10250 }),
      allowed: false,
      denied: ['hostport-reserved spec.containers[1].ports[0].hostPort = 10250'],
    },
    {
      name: 'a Deployment whose template takes 6443',
      object: deployment(),
      allowed: false,
      denied: ['hostport-reserved spec.template.spec.containers[0].ports[1].hostPort = 6443'],
    },
  ])('$name', async ({ object, allowed, denied }) => {
    const res = await h.post('/validate', admissionReview({ object, uid: 'uid-edge' }));
    expect(res.status).toBe(200);
    expect(res.json.response.uid).toBe('uid-edge');
    const v = verdictOf(res.json.response);
    expect({ allowed: v.allowed, denied: v.denied }).toEqual({ allowed, denied });
  });

  // The API server sets request.namespace for every namespaced object; the object itself may
  // come without metadata.namespace (kubectl create -n, client-go with the namespace in the URL).
  it.each([
    { name: 'request.namespace alone puts the object in team-a (slice 30000-30039)', requestNamespace: 'team-a', objectNamespace: undefined, allowed: false },
    { name: 'request.namespace wins over a stray metadata.namespace', requestNamespace: 'team-a', objectNamespace: 'elsewhere', allowed: false },
    { name: 'metadata.namespace is used when request.namespace is absent', requestNamespace: undefined, objectNamespace: 'team-a', allowed: false },
    { name: 'request.namespace of a namespace in no tenant', requestNamespace: 'shared', objectNamespace: undefined, allowed: true },
  ])('$name', async ({ requestNamespace, objectNamespace, allowed }) => {
    const object = webService({ nodePorts: [30010, 31500, 30012] });
    if (objectNamespace === undefined) delete object.metadata.namespace;
    else object.metadata.namespace = objectNamespace;
    const review = admissionReview({ object, uid: 'uid-ns' });
    if (requestNamespace === undefined) delete review.request.namespace;
    else review.request.namespace = requestNamespace;
    const res = await h.post('/validate', review);
    expect(res.json.response.allowed).toBe(allowed);
    if (!allowed) expect(res.json.response.status.message).toContain("tenant team-a's NodePort slice 30000-30039");
  });

  it('answers concurrent requests each with its own uid and verdict', async () => {
    const bodies = Array.from({ length: 60 }, (_, i) => ({
      i,
      object: i % 3 === 0 ? webPod({ hostPorts: { metrics: 10250 } }) : i % 3 === 1 ? webService() : egressPolicy(),
    }));
    const answers = await Promise.all(bodies.map(({ i, object }) => h.post('/validate', admissionReview({ object, uid: `uid-c-${i}` }))));
    expect(answers.map((a) => [a.json.response.uid, a.json.response.allowed])).toEqual(bodies.map(({ i }) => [`uid-c-${i}`, i % 3 === 1]));
  });
});

describe('requests that are allowed untouched', () => {
  const violating = logAgent({ hostPorts: [10250, 10255] });
  it.each([
    { name: 'DELETE of a violating object', review: admissionReview({ operation: 'DELETE', object: violating, uid: 'u' }) },
    {
      name: 'the status subresource',
      review: admissionReview({ operation: 'UPDATE', object: violating, oldObject: violating, subResource: 'status', uid: 'u' }),
    },
    {
      name: 'the scale subresource',
      review: admissionReview({
        operation: 'UPDATE',
        object: { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'team-a' }, spec: { replicas: 5 } },
        subResource: 'scale',
        uid: 'u',
      }),
    },
    {
      name: 'CONNECT (exec, port-forward)',
      review: admissionReview({ operation: 'CONNECT', object: { apiVersion: 'v1', kind: 'PodExecOptions', command: ['sh'] }, uid: 'u' }),
    },
  ])('$name', async ({ review }) => {
    for (const endpoint of ['/validate', '/mutate']) {
      const res = await h.post(endpoint, review);
      expect({ status: res.status, json: res.json }).toEqual({
        status: 200,
        json: { apiVersion: V1, kind: 'AdmissionReview', response: { uid: 'u', allowed: true } },
      });
    }
  });
});

describe('dryRun', () => {
  it.each([
    { name: 'violating pod', object: webPod({ hostPorts: { metrics: 10250 } }) },
    { name: 'clean service', object: webService() },
    { name: 'exposing network policy', object: egressPolicy() },
  ])('$name: the same answer as a real request', async ({ object }) => {
    const real = await h.post('/validate', admissionReview({ object, uid: 'same' }));
    const dry = await h.post('/validate', admissionReview({ object, uid: 'same', dryRun: true }));
    expect(dry.json).toEqual(real.json);
  });
});

describe('/mutate then /validate', () => {
  const wide = egressPolicy({
    egress: [
      {
        to: [{ ipBlock: { cidr: '10.0.0.0/8' } }],
        ports: [
          { protocol: 'TCP', port: 10000, endPort: 10999 },
          { protocol: 'UDP', port: 10250 },
        ],
      },
    ],
  });
  it.each([
    { name: 'an endPort range spanning the kubelet ports is carved', object: wide, patched: true },
    {
      name: 'a rule for 10250 only is removed, Egress stays in effect',
      object: egressPolicy({ policyTypes: undefined as unknown as string[] }),
      patched: true,
    },
    {
      // Any two of the /17s still add up to a /16: each of the three rules must be carved.
      name: 'three /17s in three rules, which reach the nodes only together, are carved from each',
      object: egressPolicy({
        egress: [
          {
            to: [{ ipBlock: { cidr: '10.0.0.0/17' } }],
            ports: [
              { protocol: 'TCP', port: 10250 },
              { protocol: 'TCP', port: 443 },
            ],
          },
          { to: [{ ipBlock: { cidr: '10.0.128.0/17' } }], ports: [{ protocol: 'TCP', port: 10000, endPort: 10999 }] },
          { to: [{ ipBlock: { cidr: '10.1.0.0/17' } }], ports: [{ protocol: 'TCP', port: 10250 }] },
        ],
      }),
      patched: true,
    },
    { name: 'a node port outside the cluster range is dropped', object: webService({ nodePorts: [30010, 40000, 30012] }), patched: true },
    { name: 'a clean pod is left alone', object: webPod(), patched: false },
    { name: 'a DNS policy is left alone', object: egressPolicy({ name: 'allow-dns', egress: DNS_EGRESS }), patched: false },
  ])('$name', async ({ object, patched }) => {
    const first = await h.post('/mutate', admissionReview({ object, uid: 'uid-mutate' }));
    expect(first.status).toBe(200);
    expect(first.json.response.uid).toBe('uid-mutate');
    expect(first.json.response.allowed).toBe(true);
    const patch = patchOf(first.json.response);
    expect(patch !== null).toBe(patched);
    const result = patch ? fastJsonPatch.applyPatch(structuredClone(object), patch, true, false).newDocument : object;
    if (patched) expect(first.json.response.warnings.length).toBeGreaterThan(0);

    const validated = await h.post('/validate', admissionReview({ object: result, uid: 'uid-after' }));
    expect(validated.json.response).toEqual({ uid: 'uid-after', allowed: true });

    const second = await h.post('/mutate', admissionReview({ object: result, uid: 'uid-again' }));
    expect(second.json.response).toEqual({ uid: 'uid-again', allowed: true });
  });

  it('keeps every protocol and every port but the sensitive ones in a carved range', async () => {
    const res = await h.post('/mutate', admissionReview({ object: wide }));
    const out = fastJsonPatch.applyPatch(structuredClone(wide), patchOf(res.json.response)!, true, false).newDocument;
    const ports = out.spec.egress.flatMap((r: Obj) => r.ports);
    const opens = (proto: string, n: number) => ports.some((p: Obj) => p.protocol === proto && (p.port === n || (p.port <= n && n <= (p.endPort ?? p.port))));
    expect([10000, 10249, 10251, 10254, 10256, 10999].every((n) => opens('TCP', n))).toBe(true);
    expect(opens('TCP', 10250) || opens('TCP', 10255)).toBe(false);
    expect(opens('UDP', 10250)).toBe(true);
  });
});

/** A ClusterView made by hand: the webhook's contract with the in-cluster caches. */
function fakeView(
  opts: { labels?: Record<string, Labels>; lookup?: (ns: string) => Promise<Labels | undefined>; inUse?: number[]; synced?: boolean } = {},
): ClusterView {
  return {
    synced: () => opts.synced ?? true,
    policies: () => null,
    namespaceLabels: opts.lookup ?? (async (ns) => opts.labels?.[ns]),
    nodeAddresses: () => [],
    nodePortsInUse: () => new Set(opts.inUse ?? []),
    stop: async () => {},
  };
}

describe('in a cluster (ClusterView)', () => {
  const inGames = () => webService({ namespace: 'games', nodePorts: [30010, 30011, 30012] });

  it.each([
    { name: 'without a cluster, games is in no tenant', view: null, allowed: true, message: null },
    {
      name: 'with the cluster, its label puts games in team-b, whose slice is 30040-30079',
      view: fakeView({ labels: { games: { tenant: 'team-b' } } }),
      allowed: false,
      message: /^portcullis denied this Service: 3 violations\n- nodeport-range/,
    },
    {
      name: 'a failed Namespace read denies, saying so',
      view: fakeView({ lookup: async () => Promise.reject(new NamespaceLookupError('cannot read Namespace "games": connection refused')) }),
      allowed: false,
      message:
        'portcullis cannot tell the tenant of namespace "games": cannot read Namespace "games": connection refused. Tenants are chosen by namespace labels, so the request is denied rather than judged without them; retry, and ask an admin if it persists.',
    },
  ])('$name', async ({ view, allowed, message }) => {
    const c = await startHarness({ view });
    try {
      const res = await c.post('/validate', admissionReview({ object: inGames(), uid: 'g' }));
      expect(res.status).toBe(200);
      expect(res.json.response.allowed).toBe(allowed);
      if (typeof message === 'string') expect(res.json.response.status).toEqual({ code: 403, message });
      else if (message) expect(res.json.response.status.message).toMatch(message);
    } finally {
      await c.close();
    }
  });

  it('answers a hanging Namespace read with a denial by the deadline its timeout parameter sets', async () => {
    // A clock that stands still: the time left is exactly 80 % of the 1 s the request gives
    // (timeoutBudgetShare), whatever this machine's load. The answer only arrives if the
    // deadline fires, since the read never ends; that it comes within the API server's 1 s is
    // timed by test/hostile/timeouts.hostile.ts. The signal only bounds a failing run.
    const c = await startHarness({ view: fakeView({ lookup: () => new Promise(() => {}) }), clock: () => 0 });
    try {
      const res = await c.post('/validate', admissionReview({ object: inGames(), uid: 'slow' }), {
        query: 'timeout=1s',
        signal: AbortSignal.timeout(GENEROUS_MS),
      });
      expect(res.json.response.allowed).toBe(false);
      expect(res.json.response.status.message).toMatch(
        /^portcullis cannot tell the tenant of namespace "games": reading the Namespace took longer than the 800 ms left\. /,
      );
    } finally {
      await c.close();
    }
  });

  it('counts a review parked on a Namespace read against the bodies budget until it is answered', async () => {
    // 100 KiB of bodies at once; each review below is over 60 KiB, so two cannot be held.
    let reads = 0;
    let answerFirstRead: (labels: Labels) => void = () => {};
    const lookup = () => (reads++ === 0 ? new Promise<Labels>((resolve) => (answerFirstRead = resolve)) : Promise.resolve({ tenant: 'team-b' }));
    const c = await startHarness({ view: fakeView({ lookup }), config: { bodyBytesInFlight: 100 * 1024 } });
    const padded = (uid: string) => {
      const svc = inGames();
      svc.metadata.annotations = { padding: 'x'.repeat(60 * 1024) };
      return admissionReview({ object: svc, uid });
    };
    try {
      // timeout=30s: the parked review's own deadline (24 s) is far off; the test answers it.
      const parked = c.post('/validate', padded('parked'), { query: 'timeout=30s', signal: AbortSignal.timeout(GENEROUS_MS) });
      await waitFor('the first review waits on its Namespace read', () => reads === 1);
      const second = await c.post('/validate', padded('second'), { signal: AbortSignal.timeout(GENEROUS_MS) });
      expect([second.status, second.json.response?.status?.message]).toEqual([
        503,
        'the webhook holds 102400 bytes of request bodies it has not answered yet, its limit; retry',
      ]);
      answerFirstRead({ tenant: 'team-b' });
      expect((await parked).json.response).toMatchObject({ uid: 'parked', allowed: false });
      // Answered, its body no longer counts.
      const third = await c.post('/validate', padded('third'), { signal: AbortSignal.timeout(GENEROUS_MS) });
      expect(third.json.response).toMatchObject({ uid: 'third', allowed: false });
    } finally {
      await c.close();
    }
  });

  it('/readyz waits for the caches', async () => {
    let synced = false;
    const view = { ...fakeView(), synced: () => synced };
    const c = await startHarness({ view });
    try {
      expect(await c.ops('/readyz').then((r) => [r.status, r.json])).toEqual([
        503,
        { ready: false, checks: { policy: true, tls: true, cluster: false, draining: false } },
      ]);
      synced = true;
      expect(await c.ops('/readyz').then((r) => [r.status, r.json])).toEqual([
        200,
        { ready: true, checks: { policy: true, tls: true, cluster: true, draining: false } },
      ]);
      expect(await c.ops('/healthz').then((r) => [r.status, r.json])).toEqual([200, { status: 'ok' }]);
    } finally {
      await c.close();
    }
  });

  describe('nodePortAllocation from the tenant slice', () => {
    const policy = TEST_POLICY.replace('dropOutOfRangeNodePort: true', 'dropOutOfRangeNodePort: true\n    nodePortAllocation: true').replace(
      'nodePortRange: "30000-30039"',
      'nodePortRange: "30000-30003"',
    );
    const oneUnnamed = () => {
      const s = webService({ nodePorts: [undefined, undefined, undefined] });
      s.spec.ports = s.spec.ports.slice(0, 1);
      return s;
    };
    const allocated = async (c: Harness, dryRun: boolean) => {
      const res = await c.post('/mutate', admissionReview({ object: oneUnnamed(), dryRun }));
      if (!res.json.response.allowed) return res.json.response.status.message as string;
      return patchOf(res.json.response)!
        .map((op: Obj) => `${op.op} ${op.path} ${op.value}`)
        .join(', ');
    };

    it('reserves ports for real requests, never for dryRun, and denies when the slice is full', async () => {
      const c = await startHarness({ policy, view: fakeView({ inUse: [30000] }) });
      try {
        // random() is 0: the lowest free port is chosen.
        expect(await allocated(c, true)).toBe('add /spec/ports/0/nodePort 30001');
        expect(await allocated(c, true)).toBe('add /spec/ports/0/nodePort 30001');
        expect(await allocated(c, false)).toBe('add /spec/ports/0/nodePort 30001');
        expect(await allocated(c, false)).toBe('add /spec/ports/0/nodePort 30002');
        expect(await allocated(c, true)).toBe('add /spec/ports/0/nodePort 30003');
        expect(await allocated(c, false)).toBe('add /spec/ports/0/nodePort 30003');
        expect(await allocated(c, false)).toMatch(/30000-30003/);
      } finally {
        await c.close();
      }
    });
  });
});

describe('telling: logs and metrics', () => {
  it('logs one line per decision with the request identity, never the object at info', async () => {
    const c = await startHarness();
    try {
      await c.post('/validate', admissionReview({ object: webPod({ hostPorts: { metrics: 10250 } }), uid: 'uid-log' }));
      const lines = c.logs.filter((l) => l.uid === 'uid-log');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        level: 'info',
        msg: 'admission decision',
        uid: 'uid-log',
        endpoint: 'validate',
        kind: 'Pod',
        namespace: 'team-a',
        name: 'web-7d4b9c8f6-*',
        operation: 'CREATE',
        dryRun: false,
        user: 'alice@example.com',
        groups: 2,
        verdict: 'denied',
        rules: ['hostport-not-allowed', 'hostport-reserved'],
        findings: 2,
        status: 200,
      });
      expect(typeof lines[0].latencyMs).toBe('number');
      // ISO-8601 in UTC, as the controller writes it.
      expect(lines[0].time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(JSON.stringify(c.logs)).not.toContain('s3cr3t-api-token-do-not-log');
    } finally {
      await c.close();
    }
  });

  it('logs the object at debug level only', async () => {
    const c = await startHarness({ logLevel: 'debug' });
    try {
      await c.post('/validate', admissionReview({ object: webPod(), uid: 'uid-debug' }));
      const debug = c.logs.filter((l) => l.uid === 'uid-debug' && l.level === 'debug');
      expect(debug).toHaveLength(1);
      expect(debug[0].object.spec.containers[0].env[1].value).toBe('s3cr3t-api-token-do-not-log');
    } finally {
      await c.close();
    }
  });

  it('counts requests, findings and latency', async () => {
    const c = await startHarness();
    try {
      await c.post('/validate', admissionReview({ object: webPod({ hostPorts: { metrics: 10250 } }) }));
      await c.post('/validate', admissionReview({ object: webService({ namespace: 'team-c' }) }));
      await c.post('/mutate', admissionReview({ object: egressPolicy() }));
      await c.post('/validate', '{', { raw: true });
      const text = (await c.ops('/metrics')).text;
      for (const sample of [
        'portcullis_admission_requests_total{endpoint="validate",kind="Pod",operation="CREATE",verdict="denied"} 1',
        'portcullis_admission_requests_total{endpoint="validate",kind="Service",operation="CREATE",verdict="audited"} 1',
        'portcullis_admission_requests_total{endpoint="mutate",kind="NetworkPolicy",operation="CREATE",verdict="patched"} 1',
        'portcullis_admission_requests_total{endpoint="validate",kind="none",operation="none",verdict="invalid"} 1',
        'portcullis_findings_total{rule="hostport-reserved",action="deny"} 1',
        'portcullis_findings_total{rule="hostport-not-allowed",action="warn"} 1',
        'portcullis_findings_total{rule="nodeport-not-allowed",action="audit"} 1',
        'portcullis_admission_duration_seconds_count{endpoint="validate"} 3',
        'process_resident_memory_bytes',
        // Exported at 0 before the first reload, so the first failure is an increase.
        'portcullis_policy_reloads_total{result="failure"} 0',
        'portcullis_certificate_reloads_total{result="failure"} 0',
      ]) {
        expect(text).toContain(sample);
      }
    } finally {
      await c.close();
    }
  });
});
