import { evaluate } from '../../src/engine/evaluate.js';
import { cluster, hits, policy, resource } from './helpers.js';

const tenants = policy({
  tenants: [
    { name: 'team-a', namespaces: ['team-a', 'team-a-*'], nodePortRange: '31000-31099' },
    { name: 'team-b', namespaces: ['team-b'], allowNodePorts: false },
    { name: 'team-c', namespaceSelector: { matchLabels: { tenant: 'c' } }, nodePortRange: '31100-31199' },
  ],
});
const svc = (spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec });
const labelled = cluster({ 'ns-c': { tenant: 'c' } });

describe('nodeport-range', () => {
  it.each([
    { name: 'inside the default range', ns: 'default', object: svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }), want: [] },
    {
      name: 'below the range',
      ns: 'default',
      object: svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 8080 }] }),
      want: [['spec.ports[0].nodePort', 8080]],
    },
    {
      name: 'above the range',
      ns: 'default',
      object: svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 32768 }] }),
      want: [['spec.ports[0].nodePort', 32768]],
    },
    {
      name: 'range edges',
      ns: 'default',
      object: svc({
        type: 'NodePort',
        ports: [
          { port: 80, nodePort: 30000 },
          { port: 81, nodePort: 32767 },
        ],
      }),
      want: [],
    },
    { name: 'nodePort omitted', ns: 'default', object: svc({ type: 'NodePort', ports: [{ port: 80 }] }), want: [] },
    {
      name: 'LoadBalancer healthCheckNodePort',
      ns: 'default',
      object: svc({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 10256, ports: [{ port: 80, nodePort: 30001 }] }),
      want: [['spec.healthCheckNodePort', 10256]],
    },
    { name: 'ClusterIP ignores stray nodePort', ns: 'default', object: svc({ ports: [{ port: 80, nodePort: 1 }] }), want: [] },
    { name: "inside the tenant's slice", ns: 'team-a', object: svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 31050 }] }), want: [] },
    {
      name: 'tenant by glob, outside its slice',
      ns: 'team-a-dev',
      object: svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }),
      want: [['spec.ports[0].nodePort', 30080]],
    },
    {
      name: 'tenant by selector, outside its slice',
      ns: 'ns-c',
      object: svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 31050 }] }),
      want: [['spec.ports[0].nodePort', 31050]],
    },
    { name: 'tenant by selector, inside its slice', ns: 'ns-c', object: svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 31150 }] }), want: [] },
    {
      name: 'tenant without a slice uses the policy range',
      ns: 'team-b',
      object: svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 29999 }] }),
      want: [['spec.ports[0].nodePort', 29999]],
    },
  ])('$name', ({ ns, object, want }) => {
    expect(hits('nodeport-range', object, { policy: tenants, namespace: ns, cluster: labelled })).toEqual(want);
  });

  it('keys a node port by the Service port name and protocol, not its index', () => {
    const e = evaluate(
      resource(
        svc({
          type: 'NodePort',
          ports: [
            { port: 1, nodePort: 30001 },
            { name: 'dns', port: 53, protocol: 'UDP', nodePort: 9053 },
          ],
        }),
      ),
      [tenants],
      cluster(),
    );
    expect(e.findings).toMatchObject([
      {
        rule: 'nodeport-range',
        path: 'spec.ports[1].nodePort',
        value: 9053,
        key: 'nodeport-range|p:dns/UDP|9053',
        message:
          'nodePort 9053 (port dns/UDP) lies outside the NodePort range 30000-32767; remove it so the API server allocates one, or pick one in 30000-32767',
      },
    ]);
  });
});

describe('nodeport-not-allowed', () => {
  it.each([
    { name: 'NodePort in a tenant without node ports', ns: 'team-b', object: svc({ type: 'NodePort', ports: [{ port: 80 }] }), want: [['spec.type', null]] },
    { name: 'LoadBalancer allocating node ports', ns: 'team-b', object: svc({ type: 'LoadBalancer', ports: [{ port: 80 }] }), want: [['spec.type', null]] },
    {
      name: 'LoadBalancer with allocateLoadBalancerNodePorts: false',
      ns: 'team-b',
      object: svc({ type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80 }] }),
      want: [],
    },
    {
      name: 'LoadBalancer without allocation but naming a node port',
      ns: 'team-b',
      object: svc({ type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80, nodePort: 30080 }] }),
      want: [['spec.type', null]],
    },
    {
      name: 'LoadBalancer without allocation but with externalTrafficPolicy Local (health-check node port)',
      ns: 'team-b',
      object: svc({ type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, externalTrafficPolicy: 'Local', ports: [{ port: 80 }] }),
      want: [['spec.type', null]],
    },
    { name: 'ClusterIP', ns: 'team-b', object: svc({ ports: [{ port: 80 }] }), want: [] },
    { name: 'NodePort in a tenant with node ports', ns: 'team-a', object: svc({ type: 'NodePort', ports: [{ port: 80 }] }), want: [] },
    { name: 'NodePort outside any tenant', ns: 'default', object: svc({ type: 'NodePort', ports: [{ port: 80 }] }), want: [] },
  ])('$name', ({ ns, object, want }) => {
    expect(hits('nodeport-not-allowed', object, { policy: tenants, namespace: ns })).toEqual(want);
  });
});
