// What a rule is: plain data plus a check function. Rules read facts and the policy and
// return findings as data; evaluate() adds who, where and how severe.
import type { ResourceFacts } from '../facts/resource-facts.js';
import type { CheckedKind } from '../facts/kinds.js';
import type { NodeAddresses } from '../net/node-addresses.js';
import type { CompiledPolicy, Tenant } from '../policy/model.js';
import type { Action, Finding, PortUse, Resource, RuleId } from '../types.js';

export interface RuleContext {
  readonly resource: Resource;
  readonly kind: CheckedKind;
  readonly policy: CompiledPolicy;
  readonly tenant: Tenant | null;
  readonly facts: ResourceFacts;
  /** N for this policy and cluster, computed on first use. */
  readonly nodes: () => NodeAddresses;
  /**
   * The object is one about to be applied (a manifest a scan reads), not one the API server is
   * admitting or already holds: rules may judge fields the API server will fill in on create.
   */
  readonly planned: boolean;
}

/**
 * The part of a Finding a rule decides. `atMost` caps the finding's action below the rule's
 * (a new check that must not deny what was admitted before it existed).
 */
export type RuleFinding = Pick<Finding, 'path' | 'value' | 'message' | 'key' | 'relatedPaths'> & { atMost?: Action };

/**
 * Everything that makes a rule, in its own file; the registry (index.ts) lists the files and
 * every other place (types, schemas, report formats, docs links) reads from it.
 */
export interface Rule<Id extends string = RuleId> {
  /** Also the rule's key in a policy's `rules`, its docs anchor and its SARIF ruleId. */
  readonly id: Id;
  readonly title: string;
  /** The action when a policy's `rules` does not name the rule. */
  readonly defaultAction: Action;
  /** PolicyReport result category: Policy Reporter groups results by it. */
  readonly category: string;
  /** The port-map lane (hostPort or nodePort) its findings are drawn in; null when it has none. */
  readonly lane: PortUse['type'] | null;
  /** Why the rule exists and how to fix a finding; SARIF rule help and the docs use it. */
  readonly help: string;
  /** Whether the rule looks at this kind at all (a pass outcome is recorded only then). */
  readonly appliesTo: (kind: CheckedKind) => boolean;
  readonly check: (ctx: RuleContext) => RuleFinding[];
}

/** A rule as the sinks see it: the registry's data without the check, and its docs section. */
export type RuleMetadata = Pick<Rule, 'id' | 'title' | 'defaultAction' | 'category' | 'lane' | 'help'> & {
  /** The rule's section of docs/rules.md (SARIF helpUri). */
  readonly docsUrl: string;
};

/**
 * The registry (index.ts) as a door hands it to the sinks: report formats and metrics take
 * the rules they describe as an argument and never import the registry, so they can be tested
 * with any rules and the registry stays the one place a rule is listed.
 */
export interface RuleCatalog {
  /** In the registry's order: SARIF rules, JUnit suites, the HTML table by rule, metric labels. */
  readonly rules: readonly RuleMetadata[];
  readonly byId: (id: RuleId) => RuleMetadata;
  /** docs/rules.md, the page each rule's docsUrl is a section of. */
  readonly docsUrl: string;
}
