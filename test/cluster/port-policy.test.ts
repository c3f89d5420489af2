// PortPolicy objects from the cluster as the engine's policies: one compiler for scan --cluster
// and the controller (the webhook's live view uses the controller's policy set).
import { describe, expect, it } from '@jest/globals';
import type { PortPolicySpec } from '../../src/engine/policy/model.js';
import { activePortPolicies, compilePortPolicy, type PortPolicyObject } from '../../src/k8s/port-policy.js';

// A range unlike the shipped default's, so that defaulting shows.
const defaults: PortPolicySpec = { nodePortRange: '31000-31999' };
const tenant = { name: 't', namespaces: ['x'], nodePortRange: '20000-20010' };

describe('compilePortPolicy', () => {
  it.each<{ name: string; object: PortPolicyObject & Record<string, unknown>; result: unknown }>([
    {
      name: 'an object as the API server serves it, over the defaults',
      object: { apiVersion: 'portcullis.dev/v1alpha1', kind: 'PortPolicy', metadata: { name: 'ports' }, spec: {} },
      result: { ok: true, name: 'ports', nodePortRange: { lo: 31000, hi: 31999 } },
    },
    {
      name: 'a list item without apiVersion and kind is a PortPolicy all the same',
      object: { metadata: { name: 'ports' }, spec: { nodePortRange: '30000-30099' } },
      result: { ok: true, name: 'ports', nodePortRange: { lo: 30000, hi: 30099 } },
    },
    {
      name: 'what the server adds to metadata, and the status portcullis wrote, are not part of the policy',
      object: {
        apiVersion: 'portcullis.dev/v1alpha1',
        kind: 'PortPolicy',
        metadata: { name: 'ports', uid: 'u-1', resourceVersion: '7', generation: 3, labels: { a: 'b' } } as PortPolicyObject['metadata'],
        spec: {},
        status: { valid: false, problems: [{ path: 'spec', message: 'old' }] },
      },
      result: { ok: true, name: 'ports', nodePortRange: { lo: 31000, hi: 31999 } },
    },
    {
      name: 'a field whose value is wrong: its path within the object',
      object: { metadata: { name: 'broken' }, spec: { tenants: [tenant] } },
      result: {
        ok: false,
        problems: [{ path: 'spec.tenants[0].nodePortRange', message: "slice 20000-20010 lies outside the policy's nodePortRange 31000-31999" }],
      },
    },
    {
      name: 'a field the schema does not know',
      object: { metadata: { name: 'broken' }, spec: { bogus: 1 } },
      result: { ok: false, problems: [{ path: 'spec.bogus', message: 'unknown field "bogus"' }] },
    },
    {
      name: 'another apiVersion is not this policy',
      object: { apiVersion: 'portcullis.dev/v2', metadata: { name: 'p' }, spec: {} },
      result: { ok: false, problems: [{ path: 'apiVersion', message: 'must be "portcullis.dev/v1alpha1"' }] },
    },
    { name: 'no spec', object: { metadata: { name: 'p' } }, result: { ok: false, problems: [{ path: 'spec', message: 'is required' }] } },
  ])('$name', ({ object, result }) => {
    const r = compilePortPolicy(object, defaults);
    expect(r.ok ? { ok: true, name: r.policy.name, nodePortRange: r.policy.nodePortRange } : r).toEqual(result);
  });
});

describe('activePortPolicies', () => {
  const policy = (name: string) => {
    const r = compilePortPolicy({ metadata: { name }, spec: {} }, defaults);
    if (!r.ok) throw new Error(`fixture ${name} does not compile`);
    return r.policy;
  };
  it.each([
    { name: 'none: the --policy files apply', policies: [], active: null },
    { name: 'only invalid objects (null): the --policy files apply', policies: [null, null], active: null },
    { name: 'the valid ones, sorted by name', policies: ['b', null, 'a-2', 'a-10'], active: ['a-10', 'a-2', 'b'] },
  ])('$name', ({ policies, active }) => {
    const got = activePortPolicies(policies.map((n) => (n === null ? null : policy(n))));
    expect(got && got.map((p) => p.name)).toEqual(active);
  });
});
