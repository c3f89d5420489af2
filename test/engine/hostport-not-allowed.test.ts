import { container, hits, policy } from './helpers.js';

const tenants = policy({
  tenants: [
    { name: 'team-a', namespaces: ['team-a'], allowedHostPorts: ['8080-8090', '9100'] },
    { name: 'team-b', namespaces: ['team-b'], allowedHostPorts: [] },
    { name: 'team-c', namespaces: ['team-c'] },
    { name: 'team-d', namespaces: ['team-d'], allowHostNetwork: false },
  ],
});
const pod = (spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec });
const deployment = (spec: Record<string, unknown>) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec } } });

describe('hostport-not-allowed', () => {
  it.each([
    { name: 'allowed port', ns: 'team-a', object: pod({ containers: [container('a', [{ containerPort: 1, hostPort: 8085 }])] }), want: [] },
    { name: 'single allowed port', ns: 'team-a', object: pod({ containers: [container('a', [{ containerPort: 1, hostPort: 9100 }])] }), want: [] },
    {
      name: 'port outside the list',
      ns: 'team-a',
      object: pod({ containers: [container('a', [{ containerPort: 1, hostPort: 8091 }])] }),
      want: [['spec.containers[0].ports[0].hostPort', 8091]],
    },
    {
      name: 'UDP is judged by number too',
      ns: 'team-a',
      object: pod({ containers: [container('a', [{ containerPort: 1, hostPort: 7000, protocol: 'UDP' }])] }),
      want: [['spec.containers[0].ports[0].hostPort', 7000]],
    },
    {
      name: '[] allows no host port',
      ns: 'team-b',
      object: pod({ containers: [container('a', [{ containerPort: 1, hostPort: 8085 }])] }),
      want: [['spec.containers[0].ports[0].hostPort', 8085]],
    },
    { name: 'absent list: no restriction', ns: 'team-c', object: pod({ containers: [container('a', [{ containerPort: 1, hostPort: 1234 }])] }), want: [] },
    { name: 'no tenant: no restriction', ns: 'other', object: pod({ containers: [container('a', [{ containerPort: 1, hostPort: 1234 }])] }), want: [] },
    {
      name: 'hostNetwork containerPort counts as a host port (and hostNetwork itself, allowHostNetwork being unset)',
      ns: 'team-b',
      object: deployment({ hostNetwork: true, containers: [container('a', [{ containerPort: 8080 }])] }),
      want: [
        ['spec.template.spec.hostNetwork', null],
        ['spec.template.spec.containers[0].ports[0].containerPort', 8080],
      ],
    },
    {
      name: 'initContainer host port',
      ns: 'team-b',
      object: pod({ initContainers: [container('i', [{ containerPort: 1, hostPort: 5000 }])], containers: [] }),
      want: [['spec.initContainers[0].ports[0].hostPort', 5000]],
    },
    {
      name: 'containerPort without hostNetwork is no host port',
      ns: 'team-b',
      object: pod({ containers: [container('a', [{ containerPort: 8080 }])] }),
      want: [],
    },
    {
      name: 'allowHostNetwork: false flags spec.hostNetwork',
      ns: 'team-d',
      object: deployment({ hostNetwork: true, containers: [container('a', [])] }),
      want: [['spec.template.spec.hostNetwork', null]],
    },
    {
      name: 'allowHostNetwork: false and hostNetwork false',
      ns: 'team-d',
      object: deployment({ hostNetwork: false, containers: [container('a', [])] }),
      want: [],
    },
    { name: 'hostNetwork allowed by default', ns: 'team-c', object: deployment({ hostNetwork: true, containers: [container('a', [])] }), want: [] },
  ])('$name', ({ ns, object, want }) => {
    expect(hits('hostport-not-allowed', object, { policy: tenants, namespace: ns })).toEqual(want);
  });
});
