// service-external-ips (CVE-2020-8554): addresses only inside the allowed CIDRs, never a node's.
import { evaluate } from '../../src/engine/evaluate.js';
import type { PortPolicySpec } from '../../src/engine/policy/model.js';
import type { KubeObject } from '../../src/engine/types.js';
import { cluster, defaultPolicy, policy } from './helpers.js';

const svc = (externalIPs: unknown[], type?: string) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 's' },
  spec: { ...(type ? { type } : {}), ports: [{ port: 443 }], externalIPs },
});
const TENANT = { name: 'team-a', namespaces: ['team-a'], allowedExternalIPs: ['198.51.100.0/24'] };

function found(object: unknown, spec: PortPolicySpec | null, ns: string, nodeAddresses: string[] = []) {
  const p = spec === null ? defaultPolicy() : policy(spec);
  return evaluate({ object: object as KubeObject, namespace: ns, source: null }, [p], cluster({}, nodeAddresses))
    .findings.filter((f) => f.rule === 'service-external-ips')
    .map((f) => `${f.action} ${f.path} ${f.key}`);
}

describe('service-external-ips', () => {
  it.each([
    {
      name: 'the default denies any address, on a ClusterIP Service',
      object: svc(['203.0.113.10']),
      spec: null,
      ns: 'apps',
      want: ['deny spec.externalIPs[0] service-external-ips|203.0.113.10'],
    },
    { name: 'a Service without externalIPs', object: svc([]), spec: null, ns: 'apps', want: [] },
    { name: "inside the tenant's allowedExternalIPs", object: svc(['198.51.100.7'], 'LoadBalancer'), spec: { tenants: [TENANT] }, ns: 'team-a', want: [] },
    {
      name: 'one finding per address outside the list',
      object: svc(['198.51.100.7', '203.0.113.10', '203.0.113.11']),
      spec: { tenants: [TENANT] },
      ns: 'team-a',
      want: ['deny spec.externalIPs[1] service-external-ips|203.0.113.10', 'deny spec.externalIPs[2] service-external-ips|203.0.113.11'],
    },
    {
      name: "a tenant is not allowed the policy's list",
      object: svc(['203.0.113.10']),
      spec: { tenants: [TENANT], allowedExternalIPs: ['203.0.113.0/24'] },
      ns: 'team-a',
      want: ['deny spec.externalIPs[0] service-external-ips|203.0.113.10'],
    },
    {
      name: "outside tenants, the policy's list",
      object: svc(['203.0.113.10']),
      spec: { tenants: [TENANT], allowedExternalIPs: ['203.0.113.0/24'] },
      ns: 'apps',
      want: [],
    },
    {
      name: 'a node address is never allowed, even inside the list',
      object: svc(['10.0.0.11']),
      spec: { allowedExternalIPs: ['10.0.0.0/8'] },
      ns: 'apps',
      nodes: ['10.0.0.11', '10.0.0.12'],
      want: ['deny spec.externalIPs[0] service-external-ips|10.0.0.11'],
    },
    {
      name: 'nodeCIDRs are node addresses',
      object: svc(['10.0.0.99']),
      spec: { allowedExternalIPs: ['10.0.0.0/8'], nodeCIDRs: ['10.0.0.0/24'] },
      ns: 'apps',
      want: ['deny spec.externalIPs[0] service-external-ips|10.0.0.99'],
    },
    { name: 'the assumed private ranges do not count as nodes', object: svc(['10.1.2.3']), spec: { allowedExternalIPs: ['10.0.0.0/8'] }, ns: 'apps', want: [] },
    { name: 'IPv6', object: svc(['2001:db8::10']), spec: { allowedExternalIPs: ['2001:db8::/64'] }, ns: 'apps', want: [] },
    {
      name: 'not an address',
      object: svc(['10.0.0.0/24', 'example.com']),
      spec: { allowedExternalIPs: ['10.0.0.0/8'] },
      ns: 'apps',
      want: ['deny spec.externalIPs[0] service-external-ips|10.0.0.0/24', 'deny spec.externalIPs[1] service-external-ips|example.com'],
    },
  ])('$name', ({ object, spec, ns, nodes, want }) => {
    expect(found(object, spec as PortPolicySpec | null, ns, nodes)).toEqual(want);
  });

  it('says why, naming the list', () => {
    const e = evaluate({ object: svc(['203.0.113.10']), namespace: 'team-a', source: null }, [policy({ tenants: [TENANT] })], cluster());
    expect(e.findings.map((f) => f.message)).toEqual([
      "externalIP 203.0.113.10 would take this address on every node (it lies outside tenant team-a's allowedExternalIPs); remove it, or use a LoadBalancer Service",
    ]);
  });

  it('refuses allowedExternalIPs that are no CIDRs, naming the field', () => {
    expect(() => policy({ tenants: [{ ...TENANT, allowedExternalIPs: ['nope'] }] })).toThrow(/spec\.tenants\[0\]\.allowedExternalIPs\[0\]/);
    expect(() => policy({ allowedExternalIPs: ['10.0.0.0/33'] })).toThrow(/spec\.allowedExternalIPs\[0\]/);
  });
});
