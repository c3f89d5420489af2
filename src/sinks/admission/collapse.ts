// Identical findings collapsed for the admission answer. A Pod with 100,000 containers on
// hostPort 10250, or a NetworkPolicy repeating one rule thousands of times, has as many
// findings as repetitions; the person reading the denial needs the first of each with a count.
// Only the answer and the decision line collapse: the engine's findings (their keys, the
// scan's reports) keep every one.
import type { Finding } from '../../engine/types.js';

export interface FindingGroup {
  /** The first finding of the group, in the engine's order: its path is the one shown. */
  first: Finding;
  /** Findings in the group, the first included. */
  count: number;
}

/**
 * Longer than any message the answer shows (decide clips them to a few hundred characters):
 * a network-policy message lists the rule's peers, which a caller can make megabytes long,
 * and hashing all of it for every finding would cost more than the rest of the answer.
 */
const MESSAGE_KEY_CHARS = 1024;

/**
 * Findings that differ only in list indexes of their path (which container, which port,
 * which rule of the policy) are the same finding repeated. The key leaves out the indexes
 * and keeps everything the answer shows besides the path: rule, policy, value, message.
 */
const groupKey = (f: Finding): string =>
  `${f.rule}\0${f.policy}\0${f.value}\0${f.message.length > MESSAGE_KEY_CHARS ? f.message.slice(0, MESSAGE_KEY_CHARS) : f.message}\0${f.path.replace(/\[\d+\]/g, '[]')}`;

/** Groups in order of their first finding; one pass, one map entry per distinct finding. */
export function collapse(findings: readonly Finding[]): FindingGroup[] {
  if (findings.length === 1) return [{ first: findings[0], count: 1 }];
  const groups = new Map<string, FindingGroup>();
  for (const f of findings) {
    const key = groupKey(f);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, { first: f, count: 1 });
    else group.count++;
  }
  return [...groups.values()];
}
