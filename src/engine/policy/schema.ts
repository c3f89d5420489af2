// The PortPolicy JSON Schema: the single source of truth for policy files, the CRD's
// openAPIV3Schema (generated from this by a test-checked script) and the loader's checks.
// Kept within what a CRD structural schema accepts (no $ref, no oneOf at the top of a
// property) so the CRD can be derived by dropping only `additionalProperties: false`.

import { RULES } from '../rules/index.js';
import { OWNER_KINDS } from './model.js';
import { PROFILE_NAMES } from './profiles.js';
import { MAX_PORT } from '../ports.js';

const PORT_RANGE = '^([0-9]{1,5})(-([0-9]{1,5}))?$';

/** "lo-hi" of at most five digits each. */
const PORT_RANGE_CHARS = 11;

// The API server checks these in the CRD (x-kubernetes-validations, CEL), so a reversed range
// or port 99999 is refused at write time even while the webhook is down; the loader checks
// the same in parsePortRange. Each rule passes a string the pattern refuses (the pattern's
// own error names it): CEL runs after a pattern error, and int('') would be an evaluation
// error instead of a message. find() reads the two ends without building a list.
const LO = "int(self.find('^[0-9]+'))";
const HI = "int(self.find('[0-9]+$'))";
const SHAPED = `!self.matches('${PORT_RANGE}')`;
const PORT_RANGE_RULES = [
  // With the order rule this refuses what parsePortRange does (lo below 1 or hi above the top).
  { rule: `${SHAPED} || (${LO} >= 1 && ${HI} <= ${MAX_PORT})`, message: `ports are 1-${MAX_PORT}` },
  { rule: `${SHAPED} || ${LO} <= ${HI}`, message: 'a range "lo-hi" needs lo <= hi' },
];

const portRange = (description?: string) =>
  ({
    type: 'string',
    maxLength: PORT_RANGE_CHARS,
    pattern: PORT_RANGE,
    ...(description ? { description } : {}),
    'x-kubernetes-validations': PORT_RANGE_RULES,
  }) as const;

// Upper sizes of the lists that hold port ranges. The API server estimates the cost of a
// CRD's CEL rules as (one evaluation) x (how many times the rule can run: the product of the
// maxItems above it) and refuses the CRD over 10,000,000 per rule or 100,000,000 in all;
// without a maxItems it assumes as many items as fit in a 3 MiB request. The loader enforces
// the same sizes on files. Far above real policies: the shipped catalog has under 40 entries.
const MAX_PORT_ENTRIES = 1000;
const MAX_TENANTS = 1000;
const MAX_TENANT_HOST_PORTS = 64;
// Not for CEL: each exemption compiles its globs at load, about 40 µs each, so this bounds
// the load (and the webhook's answer to a PortPolicy write) near 40 ms; 30,000 took 1.3 s.
const MAX_EXEMPTIONS = 1000;
const RULE_ACTION = { type: 'string', enum: ['deny', 'warn', 'audit', 'off'] } as const;
const STRINGS = { type: 'array', items: { type: 'string', minLength: 1 } } as const;

const labelSelector = {
  type: 'object',
  description: 'A Kubernetes label selector matched against Namespace labels.',
  additionalProperties: false,
  properties: {
    matchLabels: { type: 'object', additionalProperties: { type: 'string' } },
    matchExpressions: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'operator'],
        properties: {
          key: { type: 'string', minLength: 1 },
          operator: { type: 'string', enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
          values: STRINGS,
        },
      },
    },
  },
} as const;

const owner = {
  type: 'object',
  description: 'A workload that legitimately takes the port: pods it owns (by ownerReferences) pass.',
  additionalProperties: false,
  required: ['namespaces', 'kind', 'name'],
  properties: {
    namespaces: { ...STRINGS, minItems: 1, description: 'Namespace names or globs. A namespace of any tenant never owns a port.' },
    kind: {
      type: 'string',
      enum: [...OWNER_KINDS],
      description: 'StaticPod: a control-plane static pod in kube-system (bare name, or <name>-<node> on a mirror pod).',
    },
    name: { type: 'string', minLength: 1, description: 'The workload name or a glob.' },
  },
} as const;

const portEntry = (extra: Record<string, unknown>, required: string[]) =>
  ({
    type: 'object',
    additionalProperties: false,
    required: ['name', ...required],
    properties: {
      name: { type: 'string', minLength: 1 },
      ports: portRange('A port "n" or an inclusive range "lo-hi".'),
      protocol: { type: 'string', enum: ['TCP', 'UDP', 'SCTP', 'ANY'], default: 'TCP' },
      ...extra,
    },
  }) as const;

export const PORT_POLICY_SPEC_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    profiles: {
      type: 'array',
      description: 'Catalog profiles for reservedPorts; kubernetes is always in effect. Omitted (with reservedPorts omitted too): the shipped default.',
      items: { type: 'string', enum: [...PROFILE_NAMES] },
    },
    nodePortRange: portRange('The cluster\'s NodePort range (kube-apiserver --service-node-port-range), "lo-hi".'),
    reservedPorts: {
      type: 'array',
      maxItems: MAX_PORT_ENTRIES,
      description:
        'Without profiles: the whole reserved catalog. With profiles: entries that add to the catalog, override an entry of the same name, or switch one off (disabled: true).',
      items: portEntry(
        {
          component: { type: 'string', minLength: 1, description: 'Required for an entry that overrides no catalog entry.' },
          source: { type: 'string', description: 'The document the port comes from.' },
          description: { type: 'string' },
          owners: { type: 'array', items: owner, description: 'Workloads that may take the port; absent or []: none.' },
          disabled: { type: 'boolean', description: 'Switches the catalog entry of this name off.' },
        },
        [],
      ),
    },
    sensitivePorts: {
      type: 'array',
      maxItems: MAX_PORT_ENTRIES,
      description: 'Node ports that a network policy must not open broadly.',
      items: portEntry({ description: { type: 'string' } }, ['ports']),
    },
    nodeCIDRs: {
      type: 'array',
      description: 'Node addresses as CIDRs; with them network-policy analysis is exact.',
      items: { type: 'string', minLength: 1 },
    },
    allowedExternalIPs: {
      type: 'array',
      description: 'CIDRs a Service outside every tenant may name in spec.externalIPs; absent or []: none. Node addresses never.',
      items: { type: 'string', minLength: 1 },
    },
    rules: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(RULES.map((r) => [r.id, RULE_ACTION])),
    },
    remediation: {
      type: 'object',
      description: 'Mutations applied by the mutating webhook; all off by default.',
      additionalProperties: false,
      properties: {
        netpolCarveOut: { type: 'boolean', default: false },
        dropOutOfRangeNodePort: { type: 'boolean', default: false },
        nodePortAllocation: { type: 'boolean', default: false },
      },
    },
    tenants: {
      type: 'array',
      maxItems: MAX_TENANTS,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', minLength: 1 },
          namespaces: { ...STRINGS, description: 'Namespace names or globs (* and ?).' },
          namespaceSelector: labelSelector,
          nodePortRange: portRange(),
          allowNodePorts: { type: 'boolean', default: true },
          allowedHostPorts: {
            type: 'array',
            description: 'Absent: no tenant restriction; []: no host ports at all.',
            maxItems: MAX_TENANT_HOST_PORTS,
            items: portRange(),
          },
          allowLoadBalancers: { type: 'boolean', default: true, description: 'false: no Service of type LoadBalancer (nodeport-not-allowed).' },
          // No schema default: the API server would write it into every tenant, and an unset
          // allowHostNetwork is what makes hostNetwork a warning rather than a denial.
          allowHostNetwork: {
            type: 'boolean',
            description: 'false: no hostNetwork. Unset, in a tenant with allowedHostPorts, hostNetwork is a finding at warn; true allows it.',
          },
          allowedExternalIPs: { ...STRINGS, description: "CIDRs this tenant's Services may name in spec.externalIPs; absent or []: none." },
        },
      },
    },
    exemptions: {
      type: 'array',
      maxItems: MAX_EXEMPTIONS,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['reason'],
        properties: {
          namespaces: { ...STRINGS, description: 'Names or globs; default ["*"]. Cluster-scoped objects match "".' },
          kinds: { ...STRINGS, description: 'Kinds; default ["*"].' },
          names: { ...STRINGS, description: 'Object names or globs; default ["*"].' },
          rules: { ...STRINGS, description: 'Rule ids; default ["*"].' },
          images: {
            ...STRINGS,
            description:
              'Image references (registry and repository exact, a glob only on the tag or digest: quay.io/cilium/cilium:v1.18.*, ...@sha256:...); every container must match one.',
          },
          users: { ...STRINGS, description: "The requester's user name or a glob (admission only)." },
          groups: { ...STRINGS, description: "One of the requester's groups or a glob (admission only)." },
          serviceAccounts: { ...STRINGS, description: 'The requesting ServiceAccount as namespace/name, globs allowed (admission only).' },
          reason: { type: 'string', minLength: 1 },
        },
      },
    },
  },
} as const;

export const PORT_POLICY_SCHEMA = {
  $id: 'https://portcullis.dev/schemas/portpolicy-v1alpha1.json',
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { type: 'string', const: 'portcullis.dev/v1alpha1' },
    kind: { type: 'string', const: 'PortPolicy' },
    metadata: {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string', minLength: 1 } },
    },
    spec: PORT_POLICY_SPEC_SCHEMA,
    status: { type: 'object' },
  },
} as const;

export const PORT_POLICY_API_VERSION = 'portcullis.dev/v1alpha1';
export const PORT_POLICY_KIND = 'PortPolicy';
