// netpolCarveOut: a NetworkPolicy egress rule that lets pods reach the kubelet (10250) or its
// read-only port (10255) on the nodes is how a compromised pod execs into its neighbours. The
// rule usually exists for something else (egress to "the internal network", a port range for
// an app), so denying it breaks a deployment for a side effect. This remediation takes the
// sensitive ports out of every exposing rule and keeps everything else they allowed: every
// peer, every other port and protocol, named ports untouched. Where ipBlocks of several rules
// add up to the exposure (the engine's union finding names them all), the port is cut from
// each. Port ranges need `endPort` (Kubernetes 1.25+). Cilium policies are reported, not
// rewritten: their rule language (entities, toPorts with ANY, deny rules) has no safe
// mechanical carve-out.
import { checkedKind } from '../facts/kinds.js';
import * as intervals from '../net/intervals.js';
import type { Interval } from '../net/intervals.js';
import { MAX_PORT, PROTOCOLS, formatRange, inRange, protocolOrTcp, type PortRange, type Protocol } from '../ports.js';
import type { CompiledPolicy } from '../policy/model.js';
import type { Finding, KubeObject } from '../types.js';
import { nothing, type ApplyRemediation, type RemediationContext, type RemediationOutcome } from './types.js';

const ALL_PORTS: PortRange = { lo: 1, hi: MAX_PORT };

/** Ports of one protocol to take out of a rule. */
export interface Cut {
  protocol: Protocol;
  range: PortRange;
}

/** networking.k8s.io/v1 NetworkPolicyPort as it arrives; unknown fields are carried along. */
export interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
  [key: string]: unknown;
}

interface EgressRule {
  ports?: PolicyPort[];
  [key: string]: unknown;
}

const toInterval = (r: PortRange): Interval => ({ start: BigInt(r.lo), end: BigInt(r.hi) });

/** `range` minus every cut, as sorted disjoint ranges. */
export function subtract(range: PortRange, cuts: readonly PortRange[]): PortRange[] {
  return intervals.subtract([toInterval(range)], intervals.normalise(cuts.map(toInterval))).map((i) => ({ lo: Number(i.start), hi: Number(i.end) }));
}

/**
 * The numeric ports an entry allows, or null for a named port, which a carve-out leaves
 * alone: it resolves to pod container ports, never a node listener.
 */
function numericSpan(e: PolicyPort): { protocol: Protocol; range: PortRange } | null {
  // Read like the engine reads it (facts/network-rules.ts): an unknown protocol counts as
  // TCP. The API server rejects one anyway; reading it alike keeps the carve-out idempotent.
  const protocol = protocolOrTcp(e.protocol);
  if (typeof e.port === 'string') return null;
  if (e.port === undefined || e.port === null) return { protocol, range: ALL_PORTS };
  const hi = typeof e.endPort === 'number' && e.endPort > e.port ? e.endPort : e.port;
  return { protocol, range: { lo: e.port, hi } };
}

function entryFor(template: PolicyPort, r: PortRange): PolicyPort {
  const { port: _port, endPort: _endPort, ...rest } = template;
  return r.hi > r.lo ? { ...rest, port: r.lo, endPort: r.hi } : { ...rest, port: r.lo };
}

/**
 * A rule's ports minus the cuts, or null when no entry overlaps a cut (nothing to change).
 * An empty result means the rule allowed nothing but the cut ports: the caller removes the
 * rule, because an empty `ports` list would mean every port.
 */
export function carvePorts(ports: readonly PolicyPort[] | undefined, cuts: readonly Cut[]): PolicyPort[] | null {
  const cutsOf = (p: Protocol) => cuts.filter((c) => c.protocol === p).map((c) => c.range);
  if (!ports || ports.length === 0) {
    // No ports: every port of every protocol. Spell it out per protocol, so the protocols
    // without a cut stay allowed in full (an entry with a protocol and no port).
    if (cuts.length === 0) return null;
    return PROTOCOLS.flatMap((protocol) => {
      const own = cutsOf(protocol);
      return own.length === 0 ? [{ protocol }] : subtract(ALL_PORTS, own).map((r) => entryFor({ protocol }, r));
    });
  }
  let changed = false;
  const out = ports.flatMap((e) => {
    const span = numericSpan(e);
    if (!span) return [e];
    const left = subtract(span.range, cutsOf(span.protocol));
    if (left.length === 1 && left[0].lo === span.range.lo && left[0].hi === span.range.hi) return [e];
    changed = true;
    return left.map((r) => entryFor(e, r));
  });
  return changed ? out : null;
}

const EGRESS_RULE = /^spec\.egress\[(\d+)\]/;

const ruleIndex = (path: string): number | null => {
  const m = EGRESS_RULE.exec(path);
  return m ? Number(m[1]) : null;
};

/** The rules a finding is about: its path and, for a union of ipBlocks, every other rule adding to it. */
const pathsOf = (f: Finding): readonly string[] => (f.relatedPaths ? [f.path, ...f.relatedPaths] : [f.path]);

const describeCuts = (cuts: readonly Cut[]) => cuts.map((c) => `${formatRange(c.range)}/${c.protocol}`).join(', ');

/** The catalog entries of a policy that hold a port, as cuts: every protocol of an ANY entry. */
const entryCutsOf = (policy: CompiledPolicy | undefined, port: number): Cut[] =>
  (policy?.sensitivePorts ?? [])
    .filter((entry) => inRange(entry.range, port))
    .flatMap((entry) => (entry.protocol === 'ANY' ? PROTOCOLS : [entry.protocol]).map((protocol): Cut => ({ protocol, range: entry.range })));

/**
 * Which ports to cut from which egress rule, from the engine's netpol-sensitive-exposure
 * findings (path `spec.egress[i]` and, for a union, `relatedPaths`; value = a sensitive port
 * the rules open). A finding is about a whole catalog entry, so the entry holding the port is
 * cut whole, for every protocol it covers: cutting only the protocol or port a finding names
 * would leave the rest of the entry (UDP 2380 of an ANY 2379-2380 entry) for a second call to
 * find.
 */
export function cutsFromFindings(object: KubeObject, findings: readonly Finding[], policies: readonly CompiledPolicy[]): Map<number, Cut[]> {
  const egress = egressRules(object);
  const out = new Map<number, Cut[]>();
  for (const f of findings) {
    if (f.rule !== 'netpol-sensitive-exposure' || f.status !== 'fail' || f.value === null) continue;
    const entryCuts = entryCutsOf(
      policies.find((p) => p.name === f.policy),
      f.value,
    );
    if (entryCuts.length === 0) continue;
    for (const path of pathsOf(f)) {
      const index = ruleIndex(path);
      if (index === null || !egress[index]) continue;
      const cuts = out.get(index) ?? [];
      for (const cut of entryCuts) {
        if (!cuts.some((c) => c.protocol === cut.protocol && c.range.lo === cut.range.lo && c.range.hi === cut.range.hi)) cuts.push(cut);
      }
      out.set(index, cuts);
    }
  }
  return out;
}

function egressRules(object: KubeObject): EgressRule[] {
  const spec = object.spec as { egress?: unknown } | undefined;
  return Array.isArray(spec?.egress) ? (spec.egress as EgressRule[]) : [];
}

/** What one carve did: change lines, rules no cut could change, rules removed (indexes as given, ascending). */
export interface Carved {
  changes: string[];
  uncarved: number[];
  removed: number[];
}

/**
 * Applies the cuts to the egress rules of `copy` (in place). Change lines name a rule by
 * `at(index)`: its index in the object as it arrived, when earlier carves removed rules.
 */
export function carveNetworkPolicy(copy: KubeObject, cuts: ReadonlyMap<number, readonly Cut[]>, at: (index: number) => number = (i) => i): Carved {
  const spec = copy.spec as { egress?: EgressRule[]; policyTypes?: string[] } | undefined;
  const changes: string[] = [];
  const uncarved: number[] = [];
  if (!spec || !Array.isArray(spec.egress)) return { changes, uncarved: [...cuts.keys()], removed: [] };
  const egress = spec.egress;
  // Rules to remove are collected and dropped in one pass at the end: a splice per rule
  // shifts every rule after it, quadratic in a policy of many rules.
  const remove = new Set<number>();
  // Highest index first, so the change lines read in order once reversed.
  for (const index of [...cuts.keys()].sort((a, b) => b - a)) {
    const rule = egress[index];
    const ruleCuts = cuts.get(index)!;
    const ports = rule ? carvePorts(rule.ports, ruleCuts) : null;
    if (!rule || !ports) {
      uncarved.push(index);
      continue;
    }
    // Name only the cuts that took something away (an ANY entry cuts UDP and SCTP too).
    const taken = describeCuts(ruleCuts.filter((c) => carvePorts(rule.ports, [c]) !== null));
    if (ports.length === 0) {
      remove.add(index);
      changes.push(`spec.egress[${at(index)}]: removed; it allowed only sensitive node ports ${taken}`);
    } else {
      rule.ports = ports;
      changes.push(`spec.egress[${at(index)}]: carved sensitive node ports ${taken} out of its ports`);
    }
  }
  const removed = remove.size > 0;
  if (removed) {
    let kept = 0;
    for (let i = 0; i < egress.length; i++) if (!remove.has(i)) egress[kept++] = egress[i];
    egress.length = kept;
  }
  uncarved.reverse();
  changes.reverse();
  // Without policyTypes the API server puts Egress in effect only while `egress` is non-empty
  // (SetDefaults_NetworkPolicy): removing the last rule would then allow all egress.
  if (removed && egress.length === 0 && !(spec.policyTypes && spec.policyTypes.length > 0)) {
    spec.policyTypes = ['Ingress', 'Egress'];
    changes.push('spec.policyTypes: set to [Ingress, Egress] so egress stays denied with no rules left');
  }
  return { changes, uncarved, removed: [...remove].sort((a, b) => a - b) };
}

const isCilium = (o: KubeObject) => o.apiVersion === 'cilium.io/v2' && (o.kind === 'CiliumNetworkPolicy' || o.kind === 'CiliumClusterwideNetworkPolicy');

// Kinds whose rules are ordered or carry actions (admin network policies, Calico): a carve-out
// written for NetworkPolicy's allow-only lists could change what later rules decide.
const isReportedOnly = (o: KubeObject) => {
  const t = checkedKind(o.apiVersion, o.kind)?.type;
  return t === 'admin-network-policy' || t === 'calico-policy';
};

// Carve, then judge the result again: a rule that is a finding alone keeps the engine from
// judging the union of the other rules' blocks for that port, so blocks that add up are found
// only once that rule is carved (a second pass). Carving only takes ports away and the
// engine judges every rule still opening a port together then, so with one policy a third
// pass finds nothing; the bound is for policies that see different node addresses. Each pass
// is one evaluation of the object, so a mutate costs at most this many more.
const CARVE_PASSES = 3;

/** Egress rule paths as the object arrived, while carves remove rules from the copy. */
class ArrivedPaths {
  /** Index as it arrived, per index in the copy; null while no rule was removed. */
  #origin: number[] | null = null;

  readonly index = (i: number): number => (this.#origin ? this.#origin[i] : i);

  of(path: string): string {
    const i = ruleIndex(path);
    return i === null ? path : path.replace(EGRESS_RULE, `spec.egress[${this.index(i)}]`);
  }

  /** `removed`: indexes in the copy before the carve, ascending; `length`: its rule count then. */
  remove(removed: readonly number[], length: number): void {
    if (removed.length === 0) return;
    const gone = new Set(removed);
    const from = this.#origin ?? Array.from({ length }, (_, i) => i);
    this.#origin = from.filter((_, i) => !gone.has(i));
  }
}

/** One carve of the copy for the findings: its change lines; rules it could not carve go into `uncarvable`. */
function carvePass(
  copy: KubeObject,
  exposing: readonly Finding[],
  policies: readonly CompiledPolicy[],
  paths: ArrivedPaths,
  uncarvable: Set<string>,
): string[] {
  const cuts = cutsFromFindings(copy, exposing, policies);
  const length = egressRules(copy).length;
  const carved = carveNetworkPolicy(copy, cuts, paths.index);
  // A set, not uncarved.includes per path: a policy can hold many rules no cut can change.
  const notCarved = new Set(carved.uncarved);
  for (const f of exposing) {
    for (const p of pathsOf(f)) {
      const i = ruleIndex(p);
      if (i === null || !cuts.has(i) || notCarved.has(i)) uncarvable.add(paths.of(p));
    }
  }
  paths.remove(carved.removed, length);
  return carved.changes;
}

function carveUntilSettled(
  copy: KubeObject,
  first: readonly Finding[],
  ctx: RemediationContext,
  exposingIn: (fs: readonly Finding[]) => Finding[],
): RemediationOutcome {
  const changes: string[] = [];
  const paths = new ArrivedPaths();
  const uncarvable = new Set<string>();
  let left: string[] = [];
  let exposing = first;
  for (let pass = 1; pass <= CARVE_PASSES; pass++) {
    const changed = carvePass(copy, exposing, ctx.policies, paths, uncarvable);
    for (const change of changed) changes.push(change);
    // Nothing changed: judging the object again would give the same findings.
    if (changed.length === 0) break;
    exposing = exposingIn(ctx.evaluate(copy));
    if (pass === CARVE_PASSES) left = [...new Set(exposing.flatMap(pathsOf).map((p) => paths.of(p)))].filter((p) => !uncarvable.has(p));
    if (exposing.length === 0) break;
  }
  const skipped = [...uncarvable].map((p) => `${p}: exposes a sensitive node port through no entry a carve-out can change`);
  for (const p of left) skipped.push(`${p}: still exposes a sensitive node port after ${CARVE_PASSES} carve-outs`);
  return { changes, skipped, denial: null };
}

export const netpolCarveOut: ApplyRemediation = (copy, ctx): RemediationOutcome => {
  const o = ctx.original;
  const isNetworkPolicy = o.apiVersion === 'networking.k8s.io/v1' && o.kind === 'NetworkPolicy';
  if (!isNetworkPolicy && !isCilium(o) && !isReportedOnly(o)) return nothing();
  const names = new Set(ctx.policies.map((p) => p.name));
  const exposingIn = (findings: readonly Finding[]) =>
    findings.filter((f) => f.rule === 'netpol-sensitive-exposure' && f.status === 'fail' && names.has(f.policy));
  const exposing = exposingIn(ctx.findings());
  if (exposing.length === 0) return nothing();
  if (isNetworkPolicy) return carveUntilSettled(copy, exposing, ctx, exposingIn);
  const paths = [...new Set(exposing.flatMap(pathsOf))];
  const what = isCilium(o) ? 'Cilium policies' : `${o.kind} objects`;
  return { ...nothing(), skipped: paths.map((p) => `${p}: exposes sensitive node ports; ${what} are reported, not rewritten`) };
};
