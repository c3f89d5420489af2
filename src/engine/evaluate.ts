// The engine's one entry point: a resource and the active policies in, an Evaluation out.
// Pure: no I/O, no clock, no logging; every door (webhook, scan, controller) decides what
// the findings mean.
import { checkedKind, isCheckedKind, isClusterScoped, type CheckedKind } from './facts/kinds.js';
import { podSpecFacts, type PodSpecFacts } from './facts/host-ports.js';
import { serviceFacts } from './facts/node-ports.js';
import { resourceFacts, type ResourceFacts } from './facts/resource-facts.js';
import { LimitExceeded } from './limits.js';
import { nodeAddresses, type NodeAddresses } from './net/node-addresses.js';
import type { CompiledPolicy, Exemption, Requester, Tenant } from './policy/model.js';
import { RULES, type RuleContext } from './rules/index.js';
import {
  ACTIONS,
  type Action,
  type ClusterFacts,
  type Evaluation,
  type Finding,
  type KubeObject,
  type Labels,
  type PortUse,
  type Resource,
  type ResourceRef,
  type RuleId,
  type RuleOutcome,
  type SourceRef,
} from './types.js';

export { isCheckedKind };

export function resourceRef(object: KubeObject, namespace: string | null): ResourceRef {
  const ref: ResourceRef = {
    apiVersion: object.apiVersion,
    kind: object.kind,
    namespace,
    name: object.metadata?.name ?? object.metadata?.generateName ?? '',
  };
  if (typeof object.metadata?.uid === 'string') ref.uid = object.metadata.uid;
  return ref;
}

/**
 * The tenant a namespace belongs to under one policy: the first tenant whose names/globs
 * match it or whose namespaceSelector matches its labels (either is enough). Cluster-scoped
 * objects (namespace null) belong to no tenant. The labels may be given directly or looked
 * up in the ClusterFacts; undefined when the namespace is unknown (name matching still works).
 */
export function tenantOf(policy: CompiledPolicy, namespace: string | null, labels: Labels | ClusterFacts | undefined): Tenant | null {
  if (namespace === null) return null;
  const known =
    labels !== undefined && typeof labels.namespaceLabels === 'function' ? (labels as ClusterFacts).namespaceLabels(namespace) : (labels as Labels | undefined);
  return policy.tenants.find((t) => t.matchesName(namespace) || (known !== undefined && t.matchesLabels !== undefined && t.matchesLabels(known))) ?? null;
}

// N depends on the policy's nodeCIDRs (fixed at load) and the cluster's node addresses
// (changing slowly, same array between changes): cache per policy and address list.
const nodeCache = new WeakMap<CompiledPolicy, { from: readonly string[]; nodes: NodeAddresses }>();

function nodesFor(policy: CompiledPolicy, cluster: ClusterFacts): NodeAddresses {
  const cached = nodeCache.get(policy);
  if (cached && cached.from === cluster.nodeAddresses) return cached.nodes;
  const nodes = nodeAddresses(policy.nodeCIDRs, cluster.nodeAddresses);
  nodeCache.set(policy, { from: cluster.nodeAddresses, nodes });
  return nodes;
}

export interface EvaluateOptions {
  /**
   * Record pass and skip outcomes (default true). A door that reports only findings (the
   * scan's table, json, sarif and html) says false: an object per policy and rule is most of
   * what a clean resource allocates, and those formats would drop them.
   */
  readonly outcomes?: boolean;
  /**
   * The resources are manifests about to be applied (a scan), not objects the API server is
   * admitting or holds: fields it fills in on create are judged as it will fill them.
   */
  readonly planned?: boolean;
}

export function evaluate(resource: Resource, policies: readonly CompiledPolicy[], cluster: ClusterFacts, options?: EvaluateOptions): Evaluation {
  const { object, source } = resource;
  const kind = checkedKind(object.apiVersion, object.kind);
  // A cluster-scoped policy is outside every namespace whatever the door passed (a stray
  // metadata.namespace in a manifest): its findings carry no namespace and no tenant.
  const namespace = kind !== null && isClusterScoped(kind) ? null : resource.namespace;
  const ref = resourceRef(object, namespace);
  const evaluation: Evaluation = { resource: ref, source, findings: [], outcomes: [] };
  if (!kind) return evaluation;
  const withOutcomes = options?.outcomes ?? true;
  const facts = resourceFacts(object, kind);
  // Labels are asked for only when some tenant is chosen by them (a webhook may pay a read).
  const labels = namespace !== null && policies.some((p) => p.hasLabelTenants) ? cluster.namespaceLabels(namespace) : undefined;
  for (const policy of policies) {
    const tenant = tenantOf(policy, namespace, labels);
    const ctx: RuleContext = { resource, kind, policy, tenant, facts, nodes: () => nodesFor(policy, cluster), planned: options?.planned ?? false };
    for (const rule of RULES) {
      const action = policy.rules[rule.id];
      if (action === 'off' || !rule.appliesTo(kind)) continue;
      let found: Finding[];
      try {
        const checked = rule.check(ctx);
        if (checked.length === 0) {
          if (withOutcomes) evaluation.outcomes.push({ policy: policy.name, tenant: tenant?.name ?? null, rule: rule.id, status: 'pass' });
          continue;
        }
        found = checked.map((f) => ({
          ...findingBase(policy, tenant, rule.id, f.atMost ? milder(action, f.atMost) : action, ref, source),
          status: 'fail' as const,
          path: f.path,
          value: f.value,
          message: f.message,
          key: f.key,
          ...(f.relatedPaths ? { relatedPaths: f.relatedPaths } : {}),
        }));
      } catch (err) {
        // Input the rule cannot read (an ipBlock the API server would reject) is reported, not thrown.
        // So is an object over one of the engine's limits (limits.ts): the rule stops and says so
        // at its own action, never a pass.
        const message = `rule ${rule.id} could not check this object: ${err instanceof Error ? err.message : String(err)}`;
        const path = err instanceof LimitExceeded ? err.path : '';
        found = [{ ...findingBase(policy, tenant, rule.id, action, ref, source), status: 'error', path, value: null, message, key: `${rule.id}|error` }];
      }
      // An exemption turns what the rule found into one skip; a clean object still passes.
      const exemption = policy.exemptions.find((e) => exempts(e, resource.requester, namespace, ref, rule.id, facts));
      // Without a requester (a scan, the audit) an exemption by requester can be neither
      // applied nor ruled out: the findings stay, saying so.
      if (!exemption && resource.requester === undefined && found.length > 0) {
        const maybe = policy.exemptions.find((e) => e.matchesRequester !== null && exempts(e, ANYONE, namespace, ref, rule.id, facts));
        if (maybe) for (const f of found) f.message += ` (at admission the exemption "${maybe.reason}" may apply, depending on who writes the object)`;
      }
      // One push at a time: spreading found into push's arguments overflows the stack at
      // about 140,000 findings (a pod spec with that many containers on a reserved port).
      if (!exemption) for (const f of found) evaluation.findings.push(f);
      else if (withOutcomes) {
        evaluation.outcomes.push({
          policy: policy.name,
          tenant: tenant?.name ?? null,
          rule: rule.id,
          status: 'skip',
          reason: exemption.reason,
        } satisfies RuleOutcome);
      }
    }
  }
  return evaluation;
}

// Stands in for an unknown requester when asking whether an exemption by requester could apply.
const ANYONE: Requester = { username: '', groups: [] };

function exempts(e: Exemption, requester: Requester | undefined, namespace: string | null, ref: ResourceRef, rule: RuleId, facts: ResourceFacts): boolean {
  if (!e.matches(namespace, ref.kind, ref.name, rule)) return false;
  if (e.matchesImages !== null && !e.matchesImages(facts.images)) return false;
  if (e.matchesRequester === null) return true;
  if (requester === undefined) return false;
  return requester === ANYONE || e.matchesRequester(requester);
}

const milder = (a: Action, b: Action): Action => (ACTIONS.indexOf(a) >= ACTIONS.indexOf(b) ? a : b);

/** Who found it, where and how severe: built only for rules that found something. */
function findingBase(policy: CompiledPolicy, tenant: Tenant | null, rule: RuleId, action: Action, resource: ResourceRef, source: SourceRef | null) {
  return { policy: policy.name, tenant: tenant?.name ?? null, rule, action, resource, source };
}

/**
 * Every port the object takes on the nodes, violating or not: effective host ports of its
 * pod spec and the node ports of a Service. The HTML port map draws them.
 */
export function portUses(resource: Resource): PortUse[] {
  const { object, namespace, source } = resource;
  const kind: CheckedKind | null = checkedKind(object.apiVersion, object.kind);
  if (!kind) return [];
  const ref = resourceRef(object, namespace);
  if (kind.type === 'workload') {
    let facts: PodSpecFacts | null;
    try {
      facts = podSpecFacts(object, kind);
    } catch (err) {
      // Over a limit: the object's evaluation reports it; the port map draws nothing of it.
      if (err instanceof LimitExceeded) return [];
      throw err;
    }
    return (facts?.hostPorts ?? []).map((h) => ({ type: 'hostPort', port: h.port, protocol: h.protocol, resource: ref, path: h.path, source }));
  }
  if (kind.type === 'service') {
    return serviceFacts(object).nodePorts.map((n) => ({ type: 'nodePort', port: n.port, protocol: n.protocol, resource: ref, path: n.path, source }));
  }
  return [];
}
