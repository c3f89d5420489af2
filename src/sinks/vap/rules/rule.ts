// What a rule compiles to: the CEL that finds what the engine's rule finds, as records
// (cel.ts, "finding records"), with the kinds it reads and what it leaves to the webhook.
import type { CompiledPolicy } from '../../../engine/policy/model.js';
import type { RuleId } from '../../../engine/types.js';
import type { ResourceType } from '../../../k8s/resources.js';
import type { Variable } from '../scope.js';

export interface RuleCel {
  readonly rule: RuleId;
  readonly resources: readonly ResourceType[];
  /** Variables the records read, in the order they may refer to each other. */
  readonly variables: readonly Variable[];
  /** A list of lists of `{'count', 'carried', 'message'}` records; `'warnOnly': true` marks one capped at warn. */
  readonly records: string;
  /** True when some record may carry warnOnly (the export then adds a Warn VAP under a deny rule). */
  readonly warnOnly?: boolean;
  /** True when the object is left to the webhook (too large to check within the cost budget). */
  readonly skip: string;
  /** What this rule's VAP does not enforce, each said once; the webhook enforces it. */
  readonly limitations: readonly string[];
  /** How a carried-over finding is said in the warning of an UPDATE (decide.ts words it the same way). */
  readonly carriedMeaning: string;
}

export type RuleCompiler = (policy: CompiledPolicy) => RuleCel;
