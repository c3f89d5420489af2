import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { loadPolicy } from '../src/engine/policy/load.js';
import type { PortPolicySpec } from '../src/engine/policy/model.js';

const defaultDoc = load(readFileSync(new URL('../policies/default.yaml', import.meta.url), 'utf8')) as { spec: PortPolicySpec };

describe('loadPolicy', () => {
  it('loads the shipped default with the NodePort range in its catalog', () => {
    const r = loadPolicy(defaultDoc);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.policy.reservedPorts.find((e) => e.name === 'nodeport-range')).toMatchObject({ range: { lo: 30000, hi: 32767 }, protocol: 'ANY' });
    expect(r.policy.rules['hostport-reserved']).toBe('deny');
  });

  const base = (spec: unknown) => ({ apiVersion: 'portcullis.dev/v1alpha1', kind: 'PortPolicy', metadata: { name: 'p' }, spec });
  it.each([
    { name: 'unknown field', spec: { nodePortRang: '1-2' }, path: 'spec.nodePortRang' },
    { name: 'bad action', spec: { rules: { 'hostport-reserved': 'block' } }, path: 'spec.rules.hostport-reserved' },
    { name: 'reversed range', spec: { nodePortRange: '32767-30000' }, path: 'spec.nodePortRange' },
    { name: 'slice outside range', spec: { tenants: [{ name: 'a', namespaces: ['a'], nodePortRange: '29000-30010' }] }, path: 'spec.tenants[0].nodePortRange' },
    {
      name: 'overlapping slices',
      spec: {
        tenants: [
          { name: 'a', namespaces: ['a'], nodePortRange: '31000-31099' },
          { name: 'b', namespaces: ['b'], nodePortRange: '31050-31150' },
        ],
      },
      path: 'spec.tenants[1].nodePortRange',
    },
    {
      name: 'namespace twice',
      spec: {
        tenants: [
          { name: 'a', namespaces: ['x'] },
          { name: 'b', namespaces: ['y', 'x'] },
        ],
      },
      path: 'spec.tenants[1].namespaces[1]',
    },
    { name: 'bad CIDR', spec: { nodeCIDRs: ['10.0.0.0/33'] }, path: 'spec.nodeCIDRs[0]' },
    { name: 'exemption without reason', spec: { exemptions: [{ namespaces: ['a'] }] }, path: 'spec.exemptions[0].reason' },
  ])('rejects $name at $path', ({ spec, path }) => {
    const r = loadPolicy(base(spec), defaultDoc.spec);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.path)).toContain(path);
  });
});
