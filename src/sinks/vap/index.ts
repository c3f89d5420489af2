// The loaded policies → ValidatingAdmissionPolicies and their bindings (admissionregistration.k8s.io/v1).
// One policy and one binding per PortPolicy and rule, with the policy's catalog, tenants and
// exemptions compiled into the CEL (docs/vap.md says why: no param object to keep in step,
// costs bounded by what the export knows). The binding's validationActions is the rule's
// action; a deny rule gets a second pair that warns, on UPDATE, about findings the old
// object already had, which the webhook lets through with a warning (decide.ts).
import type { CompiledPolicy } from '../../engine/policy/model.js';
import type { Action, RuleId } from '../../engine/types.js';
import { anyRecord, countRecords, firstRecord, str } from './cel.js';
import { estimateCosts, overBudget, type CostEstimate } from './cost.js';
import { hostportNotAllowed } from './rules/hostport-not-allowed.js';
import { hostportReserved } from './rules/hostport-reserved.js';
import { nodeportNotAllowed } from './rules/nodeport-not-allowed.js';
import { netpolSensitiveExposure } from './rules/netpol-sensitive-exposure.js';
import { nodeportRange } from './rules/nodeport-range.js';
import { serviceExternalIps } from './rules/service-external-ips.js';
import type { RuleCel, RuleCompiler } from './rules/rule.js';
import { exemptVariable, type Variable } from './scope.js';

/** The rules VAP mode enforces, in the registry's order; a rule not here is the webhook's alone. */
export const VAP_RULES: Partial<Record<RuleId, RuleCompiler>> = {
  'nodeport-range': nodeportRange,
  'nodeport-not-allowed': nodeportNotAllowed,
  'hostport-reserved': hostportReserved,
  'hostport-not-allowed': hostportNotAllowed,
  'netpol-sensitive-exposure': netpolSensitiveExposure,
  'service-external-ips': serviceExternalIps,
};

/**
 * The namespaces no portcullis admission check gates, as the webhooks' namespaceSelector
 * (manifests/components/namespace-exclusions; a test keeps the two equal): the webhook's own
 * namespace, kube-system and kube-node-lease, and namespaces with the opt-out label.
 */
export const NAMESPACE_EXCLUSIONS = {
  matchExpressions: [
    { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['portcullis-system', 'kube-system', 'kube-node-lease'] },
    { key: 'portcullis.dev/ignore', operator: 'DoesNotExist' },
  ],
};

const VALIDATION_ACTION: Record<Action, string> = { deny: 'Deny', warn: 'Warn', audit: 'Audit' };

export const LABELS = { 'app.kubernetes.io/name': 'portcullis', 'app.kubernetes.io/component': 'vap' };

export interface ExportedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

/** A finding is said the way the webhook's denial says it: rule, policy, what, the fix. */
function messageExpression(policy: string, rule: RuleId, pred: string, prefix = ''): string {
  const first = firstRecord('variables.findings', pred);
  const count = countRecords('variables.findings', pred);
  return (
    `${str(`${prefix}portcullis: ${rule} (policy ${policy}): `)} + ${first}.message + ` + `(${count} > 1 ? ' (and ' + string(${count} - 1) + ' more)' : '')`
  );
}

/** `findings ~173,000; total ~210,000`: the largest expression and the whole evaluation. */
function costText(costs: readonly CostEstimate[]): string {
  const top = costs.reduce((a, c) => (c.cost > a.cost ? c : a));
  const total = costs.reduce((a, c) => a + c.cost, 0);
  return `worst case: ${top.expression} ${top.cost.toLocaleString('en-US')}, whole evaluation ${total.toLocaleString('en-US')} (limits 1,000,000 and 10,000,000; docs/vap.md)`;
}

export interface ExportOptions {
  /**
   * Write the webhooks' namespace exclusions into matchConstraints (default true). False for
   * manifests/overlays/vap, which copies them from manifests/components/namespace-exclusions
   * so that they are written once.
   */
  namespaceSelector?: boolean;
}

function vap(
  name: string,
  policy: CompiledPolicy,
  cel: RuleCel,
  costs: readonly CostEstimate[],
  operations: string[],
  variables: Variable[],
  validation: Record<string, unknown>,
  options: ExportOptions,
): ExportedObject {
  const groups = new Map<string, { versions: Set<string>; resources: Set<string> }>();
  for (const r of cel.resources) {
    const g = groups.get(r.group) ?? { versions: new Set(), resources: new Set() };
    g.versions.add(r.version);
    g.resources.add(r.resource);
    groups.set(r.group, g);
  }
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: {
      name,
      labels: { ...LABELS, 'portcullis.dev/policy': policy.name, 'portcullis.dev/rule': cel.rule },
      annotations: { 'portcullis.dev/webhook-only': cel.limitations.join('; '), 'portcullis.dev/cost-estimate': costText(costs) },
    },
    spec: {
      // An expression error (the cost budget included) refuses the request, never lets it through.
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [...groups].map(([group, g]) => ({ apiGroups: [group], apiVersions: [...g.versions], resources: [...g.resources], operations })),
        ...(options.namespaceSelector === false ? {} : { namespaceSelector: NAMESPACE_EXCLUSIONS }),
      },
      variables,
      validations: [validation],
    },
  };
}

function binding(name: string, policy: CompiledPolicy, rule: RuleId, action: string): ExportedObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name, labels: { ...LABELS, 'portcullis.dev/policy': policy.name, 'portcullis.dev/rule': rule } },
    spec: { policyName: name, validationActions: [action] },
  };
}

export interface VapExport {
  objects: ExportedObject[];
  /** Rules of a policy left to the webhook because their estimated cost goes over a limit. */
  overBudget: string[];
}

/** Every ValidatingAdmissionPolicy and binding for the active policies, in a stable order. */
export function exportVap(policies: readonly CompiledPolicy[], options: ExportOptions = {}): VapExport {
  const out: ExportedObject[] = [];
  const over: string[] = [];
  for (const policy of policies) {
    for (const [rule, compile] of Object.entries(VAP_RULES) as [RuleId, RuleCompiler][]) {
      const action = policy.rules[rule];
      if (action === 'off') continue;
      const costs = estimateCosts(policy, rule);
      const problems = overBudget(policy, rule, costs);
      if (problems.length > 0) {
        over.push(...problems);
        continue;
      }
      const cel = compile(policy);
      const exempt = exemptVariable(policy, rule);
      const variables = [...cel.variables, ...(exempt ? [exempt] : []), { name: 'findings', expression: cel.records }];
      const pass = `${exempt ? 'variables.exempt || ' : ''}${cel.skip} || `;
      // A record with warnOnly is a finding the engine caps at warn (RuleFinding.atMost): under a
      // deny rule it goes to a VAP of its own, bound to Warn.
      const notCapped = cel.warnOnly ? ' && !has(f.warnOnly)' : '';
      const fresh = action === 'deny' ? `!f.carried${notCapped}` : 'true';
      const name = `portcullis-${policy.name}-${rule}`;
      out.push(
        vap(
          name,
          policy,
          cel,
          costs,
          ['CREATE', 'UPDATE'],
          variables,
          {
            expression: `${pass}!${anyRecord('variables.findings', fresh)}`,
            messageExpression: messageExpression(policy.name, rule, fresh),
            message: `portcullis: ${rule} (policy ${policy.name})`,
            reason: 'Forbidden',
          },
          options,
        ),
        binding(name, policy, rule, VALIDATION_ACTION[action]),
      );
      if (action !== 'deny') continue;
      if (cel.warnOnly) {
        const capped = `${name}-warn-only`;
        out.push(
          vap(
            capped,
            policy,
            cel,
            costs,
            ['CREATE', 'UPDATE'],
            variables,
            {
              expression: `${pass}!${anyRecord('variables.findings', 'has(f.warnOnly)')}`,
              messageExpression: messageExpression(policy.name, rule, 'has(f.warnOnly)'),
              message: `portcullis: ${rule} (policy ${policy.name})`,
            },
            options,
          ),
          binding(capped, policy, rule, 'Warn'),
        );
      }
      // What the webhook allows on UPDATE because the old object had it, it warns about.
      const carried = `${name}-carried-over`;
      out.push(
        vap(
          carried,
          policy,
          cel,
          costs,
          ['UPDATE'],
          variables,
          {
            expression: `${pass}!${anyRecord('variables.findings', `f.carried${notCapped}`)}`,
            messageExpression: `${messageExpression(policy.name, rule, `f.carried${notCapped}`)} + '; this predates the update; ' + (${cel.carriedMeaning})`,
            message: `portcullis: ${rule} (policy ${policy.name}) predates this update`,
          },
          options,
        ),
        binding(carried, policy, rule, 'Warn'),
      );
    }
  }
  return { objects: out, overBudget: over };
}
