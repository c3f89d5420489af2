// How a finding reads in every report.
import type { Finding, ResourceRef } from '../../engine/types.js';

export const RULE_ERROR_PREFIX = 'rule error: ';

/**
 * A rule that could not be evaluated (status 'error') stays a finding of its rule's action,
 * so that a broken rule fails closed like a violation; its message says so, since the JSON
 * contract has no status field.
 */
export function findingMessage(f: Finding): string {
  return f.status === 'error' && !f.message.startsWith(RULE_ERROR_PREFIX) ? RULE_ERROR_PREFIX + f.message : f.message;
}

/** `Deployment team-a/web`; cluster-scoped objects without a namespace: `Namespace team-a`. */
export const resourceLabel = (r: ResourceRef): string => `${r.kind} ${r.namespace === null ? '' : `${r.namespace}/`}${r.name}`;
