// The scan keeps, for the html report, the network-policy rules its findings point at: a
// finding carries only the rule's path (spec.egress[0]) and the port, while a reviewer needs
// the peers and ports as the author wrote them to judge the exposure.
import type { Finding, KubeObject } from '../../../engine/types.js';
import type { RuleExcerpt } from '../scan-result.js';

/** The value at a dotted path with `[i]` list items (spec.egress[0]); undefined when absent. */
export function valueAt(root: unknown, path: string): unknown {
  let at: unknown = root;
  for (const token of path.match(/[^.[\]]+|\[\d+\]/g) ?? []) {
    if (at === null || typeof at !== 'object') return undefined;
    const index = /^\[(\d+)\]$/.exec(token);
    if (index) {
      if (!Array.isArray(at)) return undefined;
      at = at[Number(index[1])];
    } else {
      if (!Object.hasOwn(at, token)) return undefined;
      at = (at as Record<string, unknown>)[token];
    }
  }
  return at;
}

/**
 * One excerpt per network-policy rule of `object` that has netpol-sensitive-exposure
 * findings (several sensitive ports or policies share one). The scan calls this per object
 * when the html format is asked for and appends the result to ScanResult.exposures.
 */
export function ruleExcerpts(object: KubeObject, findings: readonly Finding[]): RuleExcerpt[] {
  const seen = new Set<string>();
  const out: RuleExcerpt[] = [];
  for (const f of findings) {
    if (f.rule !== 'netpol-sensitive-exposure' || seen.has(f.path)) continue;
    seen.add(f.path);
    const rule = valueAt(object, f.path);
    if (rule !== undefined) out.push({ resource: f.resource, path: f.path, rule: structuredClone(rule) });
  }
  return out;
}
