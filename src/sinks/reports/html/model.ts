// What the page draws, derived once from a ScanResult: the ports in use grouped into map
// markers with the findings that concern them, and each namespace's tenant.
import { ACTIONS } from '../../../engine/types.js';
import type { Action, Finding, PortUse, ResourceRef, RuleId, SourceRef } from '../../../engine/types.js';
import type { CompiledPolicy } from '../../../engine/policy/model.js';
import type { RuleCatalog } from '../../../engine/rules/rule.js';
import type { ScanResult } from '../scan-result.js';

export type Lane = PortUse['type'];

/** One object's use of a port, with the findings (of one policy) about it. */
export interface MarkUse {
  lane: Lane;
  port: number;
  /** null when the use was reconstructed from a finding (the scan kept no portUses). */
  protocol: PortUse['protocol'] | null;
  resource: ResourceRef;
  path: string;
  source: SourceRef | null;
  findings: Finding[];
}

/** A map marker: every use of one port number in one lane. */
export interface Mark {
  lane: Lane;
  port: number;
  uses: MarkUse[];
  /** The most severe action among the uses' findings; null when none violates. */
  worst: Action | null;
}

export const laneOfRule = (rules: RuleCatalog, rule: RuleId): Lane | undefined => rules.byId(rule).lane ?? undefined;

export const resourceKey = (r: ResourceRef): string => `${r.apiVersion}\u0000${r.kind}\u0000${r.namespace ?? ''}\u0000${r.name}`;

export const worse = (a: Action | null, b: Action | null): Action | null =>
  a === null ? b : b === null ? a : ACTIONS.indexOf(a) <= ACTIONS.indexOf(b) ? a : b;

/**
 * The markers for one policy. A port finding belongs to the use at its path; failing that
 * (a rule reporting at spec.type or spec.hostNetwork), to the object's uses of its value,
 * or to all the object's uses in that lane. A finding with a port and no matching use still
 * gets a marker, so the map never hides a violation.
 */
export function marks(result: ScanResult, policy: string, rules: RuleCatalog): Mark[] {
  const uses: MarkUse[] = (result.portUses ?? []).map((u) => ({
    lane: u.type,
    port: u.port,
    protocol: u.protocol,
    resource: u.resource,
    path: u.path,
    source: u.source,
    findings: [],
  }));
  const byResource = new Map<string, MarkUse[]>();
  for (const u of uses) {
    const k = resourceKey(u.resource);
    const list = byResource.get(k);
    if (list) list.push(u);
    else byResource.set(k, [u]);
  }
  for (const f of result.findings) {
    const lane = laneOfRule(rules, f.rule);
    if (f.policy !== policy || lane === undefined) continue;
    const mine = (byResource.get(resourceKey(f.resource)) ?? []).filter((u) => u.lane === lane);
    let hit = mine.filter((u) => u.path === f.path);
    if (hit.length === 0 && f.value !== null) hit = mine.filter((u) => u.port === f.value);
    if (hit.length === 0 && f.value === null) hit = mine;
    if (hit.length === 0 && f.value !== null) {
      const u: MarkUse = { lane, port: f.value, protocol: null, resource: f.resource, path: f.path, source: f.source, findings: [] };
      uses.push(u);
      const k = resourceKey(f.resource);
      byResource.set(k, [...(byResource.get(k) ?? []), u]);
      hit = [u];
    }
    for (const u of hit) u.findings.push(f);
  }
  const byPort = new Map<string, Mark>();
  for (const u of uses) {
    const k = `${u.lane}:${u.port}`;
    let m = byPort.get(k);
    if (!m) byPort.set(k, (m = { lane: u.lane, port: u.port, uses: [], worst: null }));
    m.uses.push(u);
    for (const f of u.findings) m.worst = worse(m.worst, f.action);
  }
  return [...byPort.values()].sort((a, b) => a.port - b.port || a.lane.localeCompare(b.lane));
}

/** Namespace → tenant for one policy: the scan's mapping, else the tenants' name globs. */
export function tenantLookup(result: ScanResult, policy: CompiledPolicy): (namespace: string | null) => string | null {
  const known = new Map<string, string | null>();
  for (const n of result.namespaces ?? []) {
    if (Object.hasOwn(n.tenants, policy.name)) known.set(n.name, n.tenants[policy.name]);
  }
  return (namespace) => {
    if (namespace === null) return null;
    const t = known.get(namespace);
    if (t !== undefined) return t;
    return policy.tenants.find((x) => x.matchesName(namespace))?.name ?? null;
  };
}
