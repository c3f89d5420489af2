// The PortPolicy CRD: generated from the loader's JSON Schema, checked in, structural, and
// accepting and rejecting the same policies as the loader.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parseAllDocuments } from 'yaml';
import type { PortPolicyStatus } from '../../src/cluster/policies.js';
import { loadPolicy } from '../../src/engine/policy/load.js';
import { PORT_POLICY_API_VERSION, PORT_POLICY_SPEC_SCHEMA } from '../../src/engine/policy/schema.js';
import { portPolicyCrd, portPolicyCrdYaml, toStructural } from '../../src/k8s/crd.js';
import { kustomize, one, REPO_ROOT } from './kustomize.js';

type Obj = Record<string, any>;

const CRD_FILE = path.join(REPO_ROOT, 'manifests/crds/portpolicy.yaml');
const crd = portPolicyCrd() as Obj;
const version = crd.spec.versions[0];
const schema = version.schema.openAPIV3Schema as Obj;

describe('PortPolicy CRD', () => {
  it('manifests/crds/portpolicy.yaml is what `npm run generate:crd` writes from the schema', () => {
    const checkedIn = readFileSync(CRD_FILE, 'utf8');
    // On failure: run `npm run generate:crd` and commit the file.
    expect(checkedIn).toBe(portPolicyCrdYaml());
  });

  it.each(['manifests/crds', 'manifests/overlays/audit', 'manifests/overlays/enforce'])('%s renders the generated CRD unchanged', async (dir) => {
    expect(one(await kustomize(dir), 'CustomResourceDefinition')).toEqual(crd);
  });

  it('is cluster-scoped, v1alpha1 served and stored, with a status subresource and printer columns', () => {
    expect(crd.metadata.name).toBe(`portpolicies.${PORT_POLICY_API_VERSION.split('/')[0]}`);
    expect(crd.spec.scope).toBe('Cluster');
    expect(crd.spec.versions).toHaveLength(1);
    expect(`${crd.spec.group}/${version.name}`).toBe(PORT_POLICY_API_VERSION);
    expect([version.served, version.storage]).toEqual([true, true]);
    expect(version.subresources).toEqual({ status: {} });
    // The status fields the columns show are the ones portcullis writes (a rename breaks tsc here).
    const statusFields: (keyof PortPolicyStatus)[] = ['valid', 'problems'];
    expect(version.additionalPrinterColumns.map((c: Obj) => c.jsonPath)).toEqual(
      expect.arrayContaining(['.spec.nodePortRange', `.status.${statusFields[0]}`, `.status.${statusFields[1]}[0].message`]),
    );
    const status: PortPolicyStatus = { valid: false, problems: [{ path: 'spec.nodePortRange', message: 'bad' }], warnings: [] };
    expect(typeof status.problems[0].message).toBe('string');
    expect(schema.properties.status['x-kubernetes-preserve-unknown-fields']).toBe(true);
  });

  it('its spec schema is the loader schema, converted', () => {
    expect(schema.properties.spec).toEqual(toStructural(PORT_POLICY_SPEC_SCHEMA));
  });

  it('is structural: every node has a type, no additionalProperties beside properties, no $ref/oneOf/anyOf/allOf/not', () => {
    const problems: string[] = [];
    const walk = (s: Obj, at: string) => {
      if (s.type === undefined && s['x-kubernetes-preserve-unknown-fields'] !== true && s['x-kubernetes-int-or-string'] !== true)
        problems.push(`${at}: no type`);
      for (const k of ['$ref', '$id', 'oneOf', 'anyOf', 'allOf', 'not', 'const']) if (k in s) problems.push(`${at}: ${k}`);
      if ('additionalProperties' in s && (typeof s.additionalProperties !== 'object' || 'properties' in s)) problems.push(`${at}: additionalProperties`);
      for (const [k, v] of Object.entries((s.properties as Obj) ?? {})) walk(v, `${at}.${k}`);
      if (s.items) walk(s.items, `${at}[]`);
      if (typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${at}{}`);
    };
    walk(schema, 'openAPIV3Schema');
    expect(problems).toEqual([]);
  });

  it.each([
    {
      name: 'drops additionalProperties: false',
      input: { type: 'object', additionalProperties: false, properties: { a: { type: 'string' } } },
      output: { type: 'object', properties: { a: { type: 'string' } } },
    },
    {
      name: 'keeps a schema-valued additionalProperties',
      input: { type: 'object', additionalProperties: { type: 'string' } },
      output: { type: 'object', additionalProperties: { type: 'string' } },
    },
    { name: 'turns const into a one-value enum', input: { type: 'string', const: 'x' }, output: { type: 'string', enum: ['x'] } },
    { name: 'drops $id', input: { $id: 'https://x', type: 'object' }, output: { type: 'object' } },
    {
      name: 'converts inside items',
      input: { type: 'array', items: { type: 'object', additionalProperties: false } },
      output: { type: 'array', items: { type: 'object' } },
    },
    {
      name: 'leaves a field named like a keyword alone',
      input: { type: 'object', properties: { const: { type: 'string' } } },
      output: { type: 'object', properties: { const: { type: 'string' } } },
    },
  ])('toStructural $name', ({ input, output }) => {
    expect(toStructural(input)).toEqual(output);
  });

  describe('the API server and the loader accept and reject the same policies', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const policyFiles = [
      'policies/default.yaml',
      'examples/policies/portpolicy.yaml',
      'manifests/base/workload/policy.yaml',
      'manifests/overlays/audit/workload/policy.yaml',
      'manifests/overlays/enforce/workload/policy.yaml',
    ];
    const shipped = policyFiles.flatMap((f) =>
      parseAllDocuments(readFileSync(path.join(REPO_ROOT, f), 'utf8')).map((d, i) => ({ name: `${f} #${i}`, doc: d.toJS() as Obj, valid: true })),
    );
    const doc = (spec: Obj) => ({ apiVersion: PORT_POLICY_API_VERSION, kind: 'PortPolicy', metadata: { name: 'p' }, spec });
    // Unknown fields are left out: the API server prunes them (kubectl's strict field
    // validation rejects them) where the loader reports them.
    const broken = [
      { name: 'a rule action that does not exist', doc: doc({ rules: { 'hostport-reserved': 'block' } }), valid: false },
      { name: 'a port range that is not a range', doc: doc({ nodePortRange: '30000:32767' }), valid: false },
      { name: 'a protocol that does not exist', doc: doc({ reservedPorts: [{ name: 'x', ports: '1', component: 'c', protocol: 'ICMP' }] }), valid: false },
      { name: 'a profile that does not exist', doc: doc({ profiles: ['weavenet'] }), valid: false },
      {
        name: 'a reserved-port owner without a kind',
        doc: doc({ profiles: [], reservedPorts: [{ name: 'x', ports: '1', component: 'c', owners: [{ namespaces: ['a'], name: 'x' }] }] }),
        valid: false,
      },
      { name: 'a tenant without a name', doc: doc({ tenants: [{ namespaces: ['a'] }] }), valid: false },
      { name: 'an exemption without a reason', doc: doc({ exemptions: [{ namespaces: ['a'] }] }), valid: false },
      {
        name: 'a selector operator that does not exist',
        doc: doc({ tenants: [{ name: 't', namespaceSelector: { matchExpressions: [{ key: 'k', operator: 'Is' }] } }] }),
        valid: false,
      },
      { name: 'a boolean as a string', doc: doc({ remediation: { netpolCarveOut: 'yes' } }), valid: false },
      { name: 'no spec', doc: { apiVersion: PORT_POLICY_API_VERSION, kind: 'PortPolicy', metadata: { name: 'p' } }, valid: false },
    ];
    it.each([...shipped, ...broken])('$name: valid $valid', ({ doc: d, valid }) => {
      expect({ crd: validate(d), loader: loadPolicy(d).ok }).toEqual({ crd: valid, loader: valid });
    });
  });
});
