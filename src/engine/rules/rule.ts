// What a rule is: plain data plus a check function. Rules read facts and the policy and
// return findings as data; evaluate() adds who, where and how severe.
import type { ResourceFacts } from '../facts/resource-facts.js';
import type { CheckedKind } from '../facts/kinds.js';
import type { NodeAddresses } from '../net/node-addresses.js';
import type { CompiledPolicy, Tenant } from '../policy/model.js';
import type { Action, Finding, Resource, RuleId } from '../types.js';

export interface RuleContext {
  readonly resource: Resource;
  readonly kind: CheckedKind;
  readonly policy: CompiledPolicy;
  readonly tenant: Tenant | null;
  readonly facts: ResourceFacts;
  /** N for this policy and cluster, computed on first use. */
  readonly nodes: () => NodeAddresses;
}

/** The part of a Finding a rule decides. */
export type RuleFinding = Pick<Finding, 'path' | 'value' | 'message' | 'key'>;

export interface Rule {
  readonly id: RuleId;
  readonly title: string;
  readonly defaultAction: Action;
  /** Why the rule exists and how to fix a finding; SARIF rule help and the docs use it. */
  readonly help: string;
  /** Whether the rule looks at this kind at all (a pass outcome is recorded only then). */
  readonly appliesTo: (kind: CheckedKind) => boolean;
  readonly check: (ctx: RuleContext) => RuleFinding[];
}
