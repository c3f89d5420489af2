// PortPolicy objects read from the cluster, turned into the engine's policies by the same loader
// as policy files, so `scan --cluster` (sources/cluster.ts), the webhook and the controller
// (cluster/policies.ts) judge a cluster's PortPolicy objects alike.
import { loadPolicy, type LoadResult } from '../engine/policy/load.js';
import type { CompiledPolicy, PortPolicySpec } from '../engine/policy/model.js';
import { PORT_POLICY_API_VERSION, PORT_POLICY_KIND } from '../engine/policy/schema.js';

/** A PortPolicy as the API server serves it: a list item, or an informer's stripped copy. */
export interface PortPolicyObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string };
  spec?: unknown;
}

/**
 * Validates and compiles one PortPolicy object over `defaults` (the shipped default's spec, as
 * for files). Only its name and spec make the policy: what the server adds to metadata (uid,
 * resourceVersion, generation) and the status portcullis writes are not part of it. A list
 * item may come without apiVersion and kind; it is a PortPolicy all the same. Problems carry
 * the field path within the object (spec.tenants[0].nodePortRange).
 */
export function compilePortPolicy(object: PortPolicyObject, defaults: PortPolicySpec): LoadResult {
  const doc = {
    apiVersion: object.apiVersion ?? PORT_POLICY_API_VERSION,
    kind: object.kind ?? PORT_POLICY_KIND,
    metadata: { name: object.metadata?.name },
    spec: object.spec,
  };
  return loadPolicy(doc, defaults);
}

/**
 * The active set: the valid policies (null stands for an invalid object) sorted by name, or
 * null while there is none, and then the --policy files apply.
 */
export function activePortPolicies(policies: Iterable<CompiledPolicy | null>): CompiledPolicy[] | null {
  const sorted = [...policies].filter((p) => p !== null).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return sorted.length > 0 ? sorted : null;
}
