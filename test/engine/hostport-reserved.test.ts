import { evaluate } from '../../src/engine/evaluate.js';
import { cluster, container, defaultPolicy, hits, policy, resource } from './helpers.js';

const podSpec = (spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec });
const template = (apiVersion: string, kind: string, spec: Record<string, unknown>) => ({
  apiVersion,
  kind,
  metadata: { name: 'w' },
  spec: { template: { spec } },
});

describe('hostport-reserved', () => {
  it.each([
    {
      name: 'hostPort on the kubelet port',
      object: podSpec({ containers: [container('web', [{ containerPort: 8080, hostPort: 10250 }])] }),
      want: [['spec.containers[0].ports[0].hostPort', 10250]],
    },
    { name: 'hostPort on an ordinary port', object: podSpec({ containers: [container('web', [{ containerPort: 8080, hostPort: 8080 }])] }), want: [] },
    {
      name: "metrics-server's ordinary containerPort 10250 is not a host port",
      object: template('apps/v1', 'Deployment', { containers: [container('metrics-server', [{ name: 'https', containerPort: 10250, protocol: 'TCP' }])] }),
      want: [],
    },
    {
      name: 'hostNetwork without hostPort: the containerPort is the host port',
      object: template('apps/v1', 'DaemonSet', { hostNetwork: true, containers: [container('agent', [{ containerPort: 9090 }, { containerPort: 10255 }])] }),
      want: [['spec.template.spec.containers[0].ports[1].containerPort', 10255]],
    },
    {
      name: 'hostNetwork with hostPort set points at hostPort',
      object: podSpec({ hostNetwork: true, containers: [container('agent', [{ containerPort: 10249, hostPort: 10249 }])] }),
      want: [['spec.containers[0].ports[0].hostPort', 10249]],
    },
    {
      name: 'UDP hostPort on a TCP-only entry',
      object: podSpec({ containers: [container('dns', [{ containerPort: 53, hostPort: 10250, protocol: 'UDP' }])] }),
      want: [],
    },
    {
      name: 'UDP hostPort on the VXLAN entry',
      object: podSpec({ containers: [container('tun', [{ containerPort: 8472, hostPort: 8472, protocol: 'UDP' }])] }),
      want: [['spec.containers[0].ports[0].hostPort', 8472]],
    },
    {
      name: 'TCP hostPort on the UDP-only VXLAN entry',
      object: podSpec({ containers: [container('tun', [{ containerPort: 8472, hostPort: 8472 }])] }),
      want: [],
    },
    {
      name: 'UDP hostPort in the NodePort range (entry for every protocol)',
      object: podSpec({ containers: [container('u', [{ containerPort: 30053, hostPort: 30053, protocol: 'UDP' }])] }),
      want: [['spec.containers[0].ports[0].hostPort', 30053]],
    },
    {
      name: 'initContainers are checked',
      object: podSpec({ initContainers: [container('init', [{ containerPort: 1, hostPort: 2379 }])], containers: [container('web', [])] }),
      want: [['spec.initContainers[0].ports[0].hostPort', 2379]],
    },
    {
      name: 'ephemeralContainers carrying ports are checked',
      object: podSpec({ containers: [container('web', [])], ephemeralContainers: [container('debug', [{ containerPort: 6443, hostPort: 6443 }])] }),
      want: [['spec.ephemeralContainers[0].ports[0].hostPort', 6443]],
    },
    {
      name: 'CronJob template',
      object: {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'c' },
        spec: {
          schedule: '* * * * *',
          jobTemplate: { spec: { template: { spec: { containers: [container('job', [{ containerPort: 80, hostPort: 10259 }])] } } } },
        },
      },
      want: [['spec.jobTemplate.spec.template.spec.containers[0].ports[0].hostPort', 10259]],
    },
    {
      name: 'PodTemplate',
      object: {
        apiVersion: 'v1',
        kind: 'PodTemplate',
        metadata: { name: 't' },
        template: { spec: { containers: [container('a', [{ containerPort: 80, hostPort: 10258 }])] } },
      },
      want: [['template.spec.containers[0].ports[0].hostPort', 10258]],
    },
    ...['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet'].map((kind) => ({
      name: `apps/v1 ${kind} template`,
      object: template('apps/v1', kind, { containers: [container('a', [{ containerPort: 80, hostPort: 10257 }])] }),
      want: [['spec.template.spec.containers[0].ports[0].hostPort', 10257]],
    })),
    ...[
      ['batch/v1', 'Job'],
      ['v1', 'ReplicationController'],
    ].map(([apiVersion, kind]) => ({
      name: `${kind} template`,
      object: template(apiVersion, kind, { containers: [container('a', [{ containerPort: 80, hostPort: 4240 }])] }),
      want: [['spec.template.spec.containers[0].ports[0].hostPort', 4240]],
    })),
    {
      name: 'several containers and ports, each finding at its own path',
      object: podSpec({
        containers: [
          container('a', [
            { containerPort: 80, hostPort: 80 },
            { containerPort: 81, hostPort: 10248 },
          ]),
          container('b', [{ containerPort: 6443, hostPort: 6443 }]),
        ],
      }),
      want: [
        ['spec.containers[0].ports[1].hostPort', 10248],
        ['spec.containers[1].ports[0].hostPort', 6443],
      ],
    },
    { name: 'hostPort 0 means none', object: podSpec({ containers: [container('a', [{ containerPort: 10250, hostPort: 0 }])] }), want: [] },
    {
      name: 'kind the engine does not check',
      object: { apiVersion: 'example.com/v1', kind: 'Pod', metadata: { name: 'x' }, spec: { containers: [container('a', [{ hostPort: 10250 }])] } },
      want: [],
    },
  ])('$name', ({ object, want }) => {
    expect(hits('hostport-reserved', object)).toEqual(want);
  });

  it.each([
    {
      name: 'a port in a reserved entry and in the NodePort range is two findings',
      spec: { nodePortRange: '10000-12000' },
      port: 10250,
      entries: ['kubelet-api', 'nodeport-range'],
    },
    { name: 'a port only in a moved NodePort range', spec: { nodePortRange: '20000-22767' }, port: 20001, entries: ['nodeport-range'] },
    { name: 'the default range no longer applies when moved', spec: { nodePortRange: '20000-22767' }, port: 30001, entries: [] },
  ])('$name', ({ spec, port, entries }) => {
    const e = evaluate(resource(podSpec({ containers: [container('web', [{ containerPort: 1, hostPort: port }])] })), [policy(spec)], cluster());
    expect(e.findings.map((f) => f.key)).toEqual(entries.map((n) => `hostport-reserved|c:web|${port}/TCP|${n}`));
  });

  it('writes a message a tenant can act on and an index-free key', () => {
    const spec = { containers: [container('sidecar', []), container('web', [{ containerPort: 1, hostPort: 10250 }])] };
    const [f] = evaluate(resource(podSpec(spec)), [defaultPolicy()], cluster()).findings;
    expect(f).toMatchObject({
      rule: 'hostport-reserved',
      status: 'fail',
      action: 'deny',
      policy: 'default',
      tenant: null,
      resource: { apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'p' },
      path: 'spec.containers[1].ports[0].hostPort',
      value: 10250,
      message: 'hostPort 10250/TCP clashes with kubelet-api (kubelet); pick a port outside the reserved ports',
      key: 'hostport-reserved|c:web|10250/TCP|kubelet-api',
      source: { file: 'm.yaml', line: 1 },
    });
  });
});
