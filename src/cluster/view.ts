// What the webhook needs from the cluster when it runs in one: small caches kept by watches
// (src/cluster/live-view.ts). Without a cluster the webhook uses file policies,
// name-based tenancy and the assumed node addresses.
import type { CompiledPolicy } from '../engine/policy/model.js';
import type { Labels } from '../engine/types.js';

/** Reading a namespace failed and the policy needs its labels: the webhook denies, saying so. */
export class NamespaceLookupError extends Error {}

export interface ClusterView {
  /** True once every cache has synced; /readyz waits for it. */
  synced(): boolean;
  /** The valid PortPolicy objects, or null while none exists (then --policy files apply). */
  policies(): readonly CompiledPolicy[] | null;
  /** From the cache; on a miss, a direct read. Rejects with NamespaceLookupError when it cannot tell. */
  namespaceLabels(namespace: string): Promise<Labels | undefined>;
  /** InternalIP/ExternalIP of every Node. */
  nodeAddresses(): readonly string[];
  /** Node ports (nodePort and healthCheckNodePort) held by Services, for the allocator. */
  nodePortsInUse(): ReadonlySet<number>;
  stop(): Promise<void>;
}
