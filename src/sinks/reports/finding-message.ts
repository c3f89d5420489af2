// How a finding's message reads in every report. A rule that could not be evaluated
// (status 'error') stays a finding of its rule's action, so that a broken rule fails closed
// like a violation; its message says so, since the JSON contract has no status field.
import type { Finding } from '../../engine/types.js';

export const RULE_ERROR_PREFIX = 'rule error: ';

export function findingMessage(f: Finding): string {
  return f.status === 'error' && !f.message.startsWith(RULE_ERROR_PREFIX) ? RULE_ERROR_PREFIX + f.message : f.message;
}
