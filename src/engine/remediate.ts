// Remediations (mutations) as pure functions: edit a copy, the webhook diffs it into a JSON Patch.
// Each remediation lives in its own file under remediate/; this file runs the ones that an
// active policy switches on, in a fixed order, over one structuredClone of the object.
import { evaluate, tenantOf } from './evaluate.js';
import type { CompiledPolicy, RemediationSpec, Tenant } from './policy/model.js';
import { dropOutOfRangeNodePort } from './remediate/drop-out-of-range-node-port.js';
import { netpolCarveOut } from './remediate/netpol-carve-out.js';
import { nodePortAllocation } from './remediate/node-port-allocation.js';
import type { ApplyRemediation, NodePortAllocator, RemediationContext } from './remediate/types.js';
import { LimitExceeded, nestedDeeperThan, REMEDIATION_NESTING } from './limits.js';
import type { ClusterFacts, Finding, KubeObject } from './types.js';

export type { NodePortAllocator } from './remediate/types.js';

export interface RemediationInput {
  object: KubeObject;
  namespace: string | null;
  oldObject: KubeObject | null;
  policies: readonly CompiledPolicy[];
  cluster: ClusterFacts;
  /** For nodePortAllocation: ports of a tenant's slice that are free; null disables allocation. */
  allocator: NodePortAllocator | null;
}

export interface RemediationResult {
  /** The edited copy (the input is never changed). */
  object: KubeObject;
  /** What was changed, one line each, for warnings and logs. */
  changes: string[];
  /** What a switched-on remediation found but deliberately left alone (Cilium policies), one line each. */
  skipped: string[];
  /** Set when a required remediation cannot be done (a full tenant slice): the request is denied. */
  denial: string | null;
}

type RemediationId = keyof RemediationSpec;

/**
 * Run order matters: a node port dropped for being out of range is then filled from the
 * tenant's slice by the allocation that follows.
 */
export const REMEDIATIONS: readonly { id: RemediationId; title: string; apply: ApplyRemediation }[] = [
  { id: 'dropOutOfRangeNodePort', title: 'Remove node ports outside the cluster NodePort range', apply: dropOutOfRangeNodePort },
  { id: 'nodePortAllocation', title: "Fill omitted node ports from the tenant's slice", apply: nodePortAllocation },
  { id: 'netpolCarveOut', title: 'Carve sensitive node ports out of exposing NetworkPolicy rules', apply: netpolCarveOut },
];

export function remediate(input: RemediationInput): RemediationResult {
  // Returned as it is (the same object, so the diff has nothing to walk): /validate still judges it.
  if (nestedDeeperThan(input.object, REMEDIATION_NESTING.value)) {
    return { object: input.object, changes: [], skipped: [new LimitExceeded(REMEDIATION_NESTING, '').message], denial: null };
  }
  const copy = structuredClone(input.object);
  const result: RemediationResult = { object: copy, changes: [], skipped: [], denial: null };
  let findings: readonly Finding[] | undefined;
  const tenants = new Map<CompiledPolicy, Tenant | null>();
  const shared: Omit<RemediationContext, 'policies'> = {
    namespace: input.namespace,
    original: input.object,
    oldObject: input.oldObject,
    allocator: input.allocator,
    // Evaluated once and only when a remediation asks: most objects need no findings here.
    findings: () => (findings ??= evaluate({ object: input.object, namespace: input.namespace, source: null }, input.policies, input.cluster).findings),
    evaluate: (object) => evaluate({ object, namespace: input.namespace, source: null }, input.policies, input.cluster).findings,
    tenant: (policy) => {
      if (!tenants.has(policy)) tenants.set(policy, tenantOf(policy, input.namespace, input.cluster));
      return tenants.get(policy)!;
    },
  };
  for (const r of REMEDIATIONS) {
    const policies = input.policies.filter((p) => p.remediation[r.id]);
    if (policies.length === 0) continue;
    const out = r.apply(copy, { ...shared, policies });
    // Not push(...changes): a carve-out of a policy with 100,000 egress rules has as many
    // changes, more than a call's arguments can hold on the stack.
    for (const change of out.changes) result.changes.push(change);
    for (const skip of out.skipped) result.skipped.push(skip);
    result.denial ??= out.denial;
  }
  return result;
}
