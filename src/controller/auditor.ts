// The audit of one scope (a namespace, or null for cluster-scoped objects): its cached objects
// evaluated against the policies in force and what the cluster knows (namespace labels, node
// addresses), turned into the PolicyReport objects `scan --format policyreport` prints, and
// the findings counted for the metrics. It reads caches and returns data; writing the reports
// and logging are the caller's.
//
// Pods, ReplicaSets and Jobs controlled by a workload are dropped as they arrive (strip.ts):
// their owner's template is audited once instead, so the cost follows the number of
// workloads, not pods. The few with host ports are kept, and audited themselves only while
// their owner is missing from the cache.
import { evaluate } from '../engine/evaluate.js';
import { profileHints, profilesOfDaemonSet } from '../engine/policy/profile-hints.js';
import type { CompiledPolicy } from '../engine/policy/model.js';
import { RULE_CATALOG } from '../engine/rules/index.js';
import type { ClusterFacts, Evaluation, KubeObject, ResourceRef } from '../engine/types.js';
import type { ResourceType } from '../k8s/resources.js';
import { buildPolicyReports, type ReportFlavor } from '../sinks/reports/policyreport.js';
import type { Cached } from '../cluster/strip.js';

/** A namespace, or null for the cluster scope. */
export type Scope = string | null;

/** What the auditor reads of an informer's cache. */
export interface AuditedCache {
  readonly type: ResourceType;
  /** The API server does not serve the resource (a CRD not installed). */
  readonly missing: boolean;
  get(namespace: string | null, name: string): Cached | undefined;
  /** Objects of one namespace (null: cluster-scoped ones). */
  inNamespace(namespace: string | null): Iterable<Cached>;
  /** Namespaces holding objects ('' for cluster-scoped ones). */
  namespaces(): Iterable<string>;
}

export interface AuditorOptions {
  caches: readonly AuditedCache[];
  facts: ClusterFacts;
  flavor: ReportFlavor;
  maxResultsPerReport?: number;
}

const NETWORK_POLICY_KINDS = new Set([
  'NetworkPolicy', // networking.k8s.io and Calico's
  'CiliumNetworkPolicy',
  'CiliumClusterwideNetworkPolicy',
  'AdminNetworkPolicy',
  'BaselineAdminNetworkPolicy',
  'ClusterNetworkPolicy',
  'GlobalNetworkPolicy',
]);
// Owners are workloads of the core, apps and batch groups; other groups reuse kind names
// (Calico's NetworkPolicy).
const OWNER_GROUPS = new Set(['', 'apps', 'batch']);

const refKey = (r: ResourceRef) => `${r.apiVersion}|${r.kind}|${r.name}`;
const scopeOf = (ns: string): Scope => (ns === '' ? null : ns);

export class Auditor {
  /** `rule|action` → findings, summed over scopes as each was last audited. */
  readonly findings = new Map<string, number>();
  private readonly findingsByScope = new Map<Scope, Map<string, number>>();
  private readonly byKind: Map<string, AuditedCache>;
  private readonly byType: Map<ResourceType, AuditedCache>;
  private lastHints = '';

  constructor(private readonly opts: AuditorOptions) {
    this.byKind = new Map(opts.caches.filter((c) => OWNER_GROUPS.has(c.type.group)).map((c) => [c.type.kind, c]));
    this.byType = new Map(opts.caches.map((c) => [c.type, c]));
  }

  /** The cluster scope and every namespace that holds audited objects. */
  scopes(): Set<Scope> {
    const scopes = new Set<Scope>([null]);
    for (const cache of this.opts.caches) for (const ns of cache.namespaces()) scopes.add(scopeOf(ns));
    return scopes;
  }

  /** Scopes holding network policies: only their findings depend on the nodes' addresses. */
  networkPolicyScopes(): Set<Scope> {
    const scopes = new Set<Scope>();
    for (const cache of this.opts.caches) {
      if (!NETWORK_POLICY_KINDS.has(cache.type.kind)) continue;
      for (const ns of cache.namespaces()) scopes.add(scopeOf(ns));
    }
    return scopes;
  }

  /** The reports of one scope as of now; its findings replace its earlier count in `findings`. */
  audit(scope: Scope, policies: readonly CompiledPolicy[], generatedAt: Date): KubeObject[] {
    const { evaluations, uids } = this.evaluateScope(scope, policies);
    this.countFindings(scope, evaluations);
    return buildPolicyReports(evaluations, {
      rules: RULE_CATALOG,
      generatedAt,
      flavor: this.opts.flavor,
      maxResults: this.opts.maxResultsPerReport,
      uidOf: (r) => uids.get(refKey(r)),
    });
  }

  /**
   * Which catalog profiles the cluster's DaemonSets match and a policy in force leaves out (a
   * hint: the policy is not changed). Null when they are the same as at the last call, so a
   * caller that logs them says each set once.
   */
  changedProfileHints(policies: readonly CompiledPolicy[]): readonly string[] | null {
    const seen = new Map<string, string>();
    const daemonSets = this.byKind.get('DaemonSet');
    for (const ns of daemonSets?.namespaces() ?? []) {
      for (const object of daemonSets!.inNamespace(ns)) {
        for (const profile of profilesOfDaemonSet(ns, object.metadata.name)) if (!seen.has(profile)) seen.set(profile, `${ns}/${object.metadata.name}`);
      }
    }
    const hints = profileHints(policies, seen);
    if (hints.join('\n') === this.lastHints) return null;
    this.lastHints = hints.join('\n');
    return hints;
  }

  // CRDs that store another API's objects are audited only while that API is not served.
  private stands(cache: AuditedCache): boolean {
    return !cache.type.storageOf || this.byType.get(cache.type.storageOf)?.missing === true;
  }

  private evaluateScope(scope: Scope, policies: readonly CompiledPolicy[]): { evaluations: Evaluation[]; uids: Map<string, string> } {
    const evaluations: Evaluation[] = [];
    const uids = new Map<string, string>();
    for (const cache of this.opts.caches) {
      if (cache.type.namespaced === (scope === null) || !this.stands(cache)) continue;
      for (const object of cache.inNamespace(scope)) {
        // An owned object kept for its host ports stands for itself only while its owner is
        // not cached: otherwise the owner's template, audited once, carries the finding.
        const owner = object.metadata.owner;
        if (owner && this.byKind.get(owner.kind)?.get(scope, owner.name)) continue;
        const e = evaluate({ object, namespace: scope, source: null }, policies, this.opts.facts);
        evaluations.push(e);
        if (object.metadata.uid) uids.set(refKey(e.resource), object.metadata.uid);
      }
    }
    return { evaluations, uids };
  }

  private countFindings(scope: Scope, evaluations: readonly Evaluation[]): void {
    for (const [k, n] of this.findingsByScope.get(scope) ?? []) this.findings.set(k, (this.findings.get(k) ?? 0) - n);
    const counts = new Map<string, number>();
    for (const e of evaluations) for (const f of e.findings) counts.set(`${f.rule}|${f.action}`, (counts.get(`${f.rule}|${f.action}`) ?? 0) + 1);
    for (const [k, n] of counts) this.findings.set(k, (this.findings.get(k) ?? 0) + n);
    if (counts.size) this.findingsByScope.set(scope, counts);
    else this.findingsByScope.delete(scope);
  }
}
