// Remediations (mutations) as pure functions: edit a copy, the webhook diffs it into a JSON Patch.
// Implemented in the webhook issue; the signature is what the webhook codes against.
import type { CompiledPolicy } from './policy/model.js';
import type { ClusterFacts, KubeObject } from './types.js';

export interface RemediationInput {
  object: KubeObject;
  namespace: string | null;
  oldObject: KubeObject | null;
  policies: readonly CompiledPolicy[];
  cluster: ClusterFacts;
  /** For nodePortAllocation: ports of a tenant's slice that are free; null disables allocation. */
  allocator: NodePortAllocator | null;
}

export interface NodePortAllocator {
  /** Picks `count` free ports of `slice`, or null when the slice is full. */
  allocate(slice: { lo: number; hi: number }, count: number): number[] | null;
}

export interface RemediationResult {
  /** The edited copy (the input is never changed). */
  object: KubeObject;
  /** What was changed, one line each, for warnings and logs. */
  changes: string[];
  /** Set when a required remediation cannot be done (a full tenant slice): the request is denied. */
  denial: string | null;
}

export declare function remediate(input: RemediationInput): RemediationResult;
