// `scan --cluster`: a read-only source over a live cluster's API. Every kind the engine checks is
// listed in pages (limit/continue), so memory holds one page at a time; objects are stripped
// to what the rules read before they reach the scan loop. Pods, ReplicaSets and Jobs
// controlled by an audited workload are counted as skipped: their owner's template is checked.
// The few such objects that use host ports are held back until every kind has been listed:
// if their owner was not listed (it is gone, or not visible to these credentials) or is an
// owned object without host ports (its template does not say what the pod says), they are
// checked themselves, so no host-port finding is lost. The controller decides the same way.
//
// Credentials that cannot see everything still give a useful scan: without access to Nodes
// the network-policy rule assumes private node ranges; without access to Namespaces tenants
// are matched by name only; when a kind cannot be listed cluster-wide, it is listed namespace
// by namespace (the namespaces it can list, or the kubeconfig context's namespace).
import type { CompiledPolicy, PortPolicySpec } from '../engine/policy/model.js';
import type { ClusterFacts, Labels } from '../engine/types.js';
import { ApiError, connectKube, type KubeClient } from '../k8s/client.js';
import { pagedList } from '../k8s/paged-list.js';
import { activePortPolicies, compilePortPolicy } from '../k8s/port-policy.js';
import { apiVersionOf, AUDITED, NAMESPACES, NODES, objectPath, PORT_POLICIES, type ResourceType } from '../k8s/resources.js';
import { exposesHost, keepOwnership, nodeAddressesOf, strip, templateOwner, type Cached } from '../cluster/strip.js';
import { UsageError } from '../runtime/usage-error.js';
import type { ScanSource, SourceItem } from './source-item.js';

export interface ClusterSourceOptions {
  context?: string;
  /** Only this namespace. */
  namespace?: string;
  /** Every namespace; listing must be allowed cluster-wide. */
  allNamespaces?: boolean;
  /** One line per problem that does not stop the scan (forbidden Nodes, Namespaces). */
  warn?: (message: string) => void;
  /** A kubeconfig as text (tests); otherwise $KUBECONFIG or ~/.kube/config. */
  kubeconfig?: string;
  /** --kubeconfig: one kubeconfig file instead of $KUBECONFIG or ~/.kube/config. */
  kubeconfigFile?: string;
  /** An already connected client (tests); overrides context and kubeconfig. */
  client?: KubeClient;
  pageSize?: number;
}

type Obj = Record<string, any>;

const forbidden = (err: unknown) => err instanceof ApiError && (err.status === 403 || err.status === 401);
const notServed = (err: unknown) => err instanceof ApiError && err.status === 404;

export interface ClusterScanSource extends ScanSource {
  /**
   * The cluster's valid PortPolicy objects, compiled over `defaults` as the webhook and the
   * controller compile them; null when there is none, the CRD is not installed, or these
   * credentials may not list them (then the --policy files or the shipped default apply).
   * Invalid objects are ignored with a warning.
   */
  portPolicies(defaults: PortPolicySpec): Promise<CompiledPolicy[] | null>;
}

export function clusterSource(opts: ClusterSourceOptions): ClusterScanSource {
  const warn = opts.warn ?? (() => {});
  const pageSize = opts.pageSize ?? 500;
  let client: KubeClient | null = opts.client ?? null;
  let namespaces: NamespacesRead | null = null;
  let factsPromise: Promise<ClusterFacts> | null = null;

  async function connect(): Promise<KubeClient> {
    try {
      client ??= await connectKube({ context: opts.context, kubeconfig: opts.kubeconfig, kubeconfigFile: opts.kubeconfigFile });
    } catch (err) {
      throw new UsageError(`scan --cluster: cannot configure the Kubernetes client: ${(err as Error).message}`);
    }
    return client;
  }

  /** Namespaces, then Nodes: what must be known before the first object is judged. */
  async function loadFacts(): Promise<ClusterFacts> {
    const c = await connect();
    try {
      const read = (namespaces = await readNamespaces(c, opts.namespace, pageSize, warn));
      const nodeAddresses = await readNodeAddresses(c, pageSize, warn);
      return { namespaceLabels: (ns) => read.labels.get(ns), nodeAddresses };
    } catch (err) {
      if (err instanceof UsageError) throw err;
      // Not a permission problem: the cluster cannot be reached or answers nonsense.
      throw new UsageError(`scan --cluster: cannot read the cluster at ${c.server}: ${(err as Error).message}`);
    }
  }

  async function* items(): AsyncGenerator<SourceItem> {
    const c = await connect();
    await (factsPromise ??= loadFacts());
    const { read, listed } = namespaces!;
    for (const name of read)
      yield { type: 'skipped', source: null, apiVersion: 'v1', kind: 'Namespace', name, reason: 'Namespaces are read for their labels, not checked' };
    const kinds = AUDITED.filter((t) => t.namespaced || !opts.namespace);
    const owned = new OwnedObjects();
    const scopes: ListScopes = { namespace: opts.namespace, allNamespaces: opts.allNamespaces === true, fallback: listed ?? [c.namespace] };
    // APIs that answered (anything but 404): the CRDs that store one of them are not listed.
    const served = new Set<ResourceType>();
    let done = 0;
    const progress = (): SourceItem => ({ type: 'progress', done, total: kinds.length, unit: 'kinds' });
    yield progress();
    for (const type of kinds) {
      if (!type.storageOf || !served.has(type.storageOf)) {
        const answered = yield* listKind(c, type, scopes, { pageSize, warn, progress, toItem: (t, raw) => owned.toItem(t, raw) });
        if (answered) served.add(type);
      }
      done++;
      yield progress();
    }
    yield* owned.releaseHeldBack();
  }

  async function portPolicies(defaults: PortPolicySpec): Promise<CompiledPolicy[] | null> {
    const c = await connect();
    try {
      return await readPortPolicies(c, defaults, pageSize, warn);
    } catch (err) {
      // Not installed, or not readable with these (namespace-limited) credentials.
      if (notServed(err) || forbidden(err)) return null;
      throw new UsageError(`scan --cluster: cannot read the cluster at ${c.server}: ${(err as Error).message}`);
    }
  }

  return {
    facts: () => (factsPromise ??= loadFacts()),
    items,
    portPolicies,
  };
}

/**
 * Every page of a list, each object once: when an expired continue token restarts the list,
 * what was already yielded is skipped.
 */
async function* listEachOnce(c: KubeClient, type: ResourceType, namespace: string | null, pageSize: number): AsyncGenerator<Obj[]> {
  const seen = new Set<string>();
  for await (const page of pagedList(c, type, { namespace, pageSize })) {
    yield page.items.filter((o) => {
      const k = `${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }
}

interface NamespacesRead {
  labels: Map<string, Labels>;
  /** The Namespaces listed, or null when listing them is forbidden (or one namespace was asked for). */
  listed: string[] | null;
  /** The Namespace objects read, each reported as skipped. */
  read: string[];
}

/** The labels of the namespace asked for, or of every namespace. */
async function readNamespaces(c: KubeClient, namespace: string | undefined, pageSize: number, warn: (message: string) => void): Promise<NamespacesRead> {
  const labels = new Map<string, Labels>();
  if (namespace) {
    try {
      const ns = await c.request<Obj>('GET', objectPath(NAMESPACES, null, namespace));
      labels.set(namespace, ns.metadata?.labels ?? {});
      return { labels, listed: null, read: [namespace] };
    } catch (err) {
      if (!forbidden(err) && !notServed(err)) throw err;
      if (forbidden(err)) warn(`cannot read Namespace "${namespace}" (forbidden): tenants are matched by namespace name only`);
      return { labels, listed: null, read: [] };
    }
  }
  try {
    const names: string[] = [];
    for await (const page of listEachOnce(c, NAMESPACES, null, pageSize)) {
      for (const o of page) {
        names.push(o.metadata.name);
        labels.set(o.metadata.name, o.metadata?.labels ?? {});
      }
    }
    return { labels, listed: names, read: names };
  } catch (err) {
    if (!forbidden(err)) throw err;
    warn('cannot list Namespaces (forbidden): tenants are matched by namespace name only');
    return { labels, listed: null, read: [] };
  }
}

/** Every node's addresses, sorted; none when Nodes are forbidden. */
async function readNodeAddresses(c: KubeClient, pageSize: number, warn: (message: string) => void): Promise<string[]> {
  const addresses = new Set<string>();
  try {
    for await (const page of listEachOnce(c, NODES, null, pageSize)) for (const o of page) for (const a of nodeAddressesOf(o)) addresses.add(a);
  } catch (err) {
    if (!forbidden(err)) throw err;
    warn('cannot list Nodes (forbidden): network policies are judged against the assumed private node ranges (nodeCIDRs in the policy make this exact)');
  }
  return [...addresses].sort();
}

interface ListScopes {
  /** --namespace: only this one. */
  namespace: string | undefined;
  /** --all-namespaces: listing must be allowed cluster-wide, no fallback. */
  allNamespaces: boolean;
  /** Where to go namespace by namespace when a kind may not be listed cluster-wide. */
  fallback: string[];
}

interface ListKindSteps {
  pageSize: number;
  warn: (message: string) => void;
  progress: () => SourceItem;
  toItem: (type: ResourceType, raw: Obj) => SourceItem | null;
}

/**
 * The items of one kind, with a progress item after each page. Returns false when the API is
 * not served (404: a CRD that is not installed). A kind that may not be listed cluster-wide is
 * listed namespace by namespace; namespaces that refuse too are skipped with one warning.
 */
async function* listKind(c: KubeClient, type: ResourceType, where: ListScopes, steps: ListKindSteps): AsyncGenerator<SourceItem, boolean> {
  const scopes: (string | null)[] = where.namespace ? [where.namespace] : [null];
  let fellBack = false;
  let refused = 0;
  let served = true;
  for (let i = 0; i < scopes.length; i++) {
    const scope = scopes[i];
    try {
      for await (const page of listEachOnce(c, type, type.namespaced ? scope : null, steps.pageSize)) {
        for (const raw of page) {
          const item = steps.toItem(type, raw);
          if (item) yield item;
        }
        yield steps.progress();
      }
    } catch (err) {
      const failure = listFailure(err, type, scope, fellBack, where.allNamespaces);
      if (failure === 'not served') {
        served = false; // a CRD that is not installed (Cilium's): nothing to check
        break;
      }
      if (failure === 'fall back') {
        fellBack = true;
        scopes.push(...where.fallback);
      } else if (failure === 'skip' && type.namespaced) refused++;
      else if (failure === 'skip') steps.warn(`cannot list ${type.resource} (forbidden): skipped`);
      else
        yield {
          type: 'error',
          error: { file: null, line: null, message: `cannot list ${type.resource}${scope ? ` in namespace ${scope}` : ''}: ${(err as Error).message}` },
        };
    }
  }
  const namespaces = scopes.length - 1;
  if (refused > 0)
    steps.warn(
      `cannot list ${type.resource} in ${refused === namespaces && refused === 1 ? `namespace ${scopes[1]}` : `${refused} of ${namespaces} namespaces`} (forbidden): skipped there`,
    );
  return served;
}

/**
 * What a failed list of `type` in `scope` (null: cluster-wide) means for the scan. Refused
 * cluster-wide, a namespaced kind falls back to listing namespace by namespace, unless
 * --all-namespaces asked for the whole cluster; refused there, or a cluster-scoped kind refused,
 * it is skipped with a warning. Anything else is an error item.
 */
function listFailure(
  err: unknown,
  type: ResourceType,
  scope: string | null,
  fellBack: boolean,
  allNamespaces: boolean,
): 'not served' | 'fall back' | 'skip' | 'error' {
  if (notServed(err)) return 'not served';
  if (!forbidden(err) || allNamespaces) return 'error';
  if (scope === null && type.namespaced && !fellBack) return 'fall back';
  return fellBack || !type.namespaced ? 'skip' : 'error';
}

const OWNER_KINDS = new Set(['ReplicaSet', 'ReplicationController', 'StatefulSet', 'DaemonSet', 'Job', 'Deployment', 'CronJob']);

/**
 * Objects controlled by a workload: skipped while their owner's template stands for them, held
 * back when they use host ports until every kind has been listed and it is known whether it does.
 */
class OwnedObjects {
  /** `kind|namespace|name` of the workloads listed whose templates stand for their pods. */
  private readonly listedOwners = new Set<string>();
  /** Owned objects with host ports, checked at the end if their owner was not listed. */
  private readonly heldBack: { type: ResourceType; raw: Obj; owner: { kind: string; name: string } }[] = [];

  /** The item for a listed object; null when it is held back. */
  toItem(type: ResourceType, raw: Obj): SourceItem | null {
    raw.apiVersion ??= type.group ? `${type.group}/${type.version}` : type.version;
    raw.kind ??= type.kind;
    const owner = templateOwner(type.kind, raw);
    // An owner stands for its pods when its template was checked and says what they say: it is
    // checked itself, or it is owned and has host ports (as the controller's cache keeps them).
    if (OWNER_KINDS.has(type.kind) && (!owner || exposesHost(type, raw)))
      this.listedOwners.add(`${type.kind}|${raw.metadata?.namespace ?? ''}|${raw.metadata?.name}`);
    if (owner) {
      if (!exposesHost(type, raw)) return skippedItem(type, raw, owner);
      // Kept stripped: identity and pod spec.
      this.heldBack.push({ type, raw: standalone(type, raw), owner });
      return null;
    }
    return resourceItem(type, raw);
  }

  *releaseHeldBack(): Generator<SourceItem> {
    for (const { type, raw, owner } of this.heldBack.splice(0)) {
      if (this.listedOwners.has(`${owner.kind}|${raw.metadata?.namespace ?? ''}|${owner.name}`)) yield skippedItem(type, raw, owner);
      else yield resourceItem(type, raw);
    }
  }
}

const skippedItem = (type: ResourceType, raw: Obj, owner: { kind: string; name: string }): SourceItem => ({
  type: 'skipped',
  source: null,
  apiVersion: apiVersionOf(type),
  kind: type.kind,
  name: raw.metadata?.name,
  reason: `controlled by ${owner.kind} ${owner.name}, whose template is checked`,
});

/**
 * Stripped as a standalone object (its owner references do not make it skippable here), with
 * what reserved-port ownership reads from them kept.
 */
function standalone(type: ResourceType, raw: Obj): Cached {
  const object = strip(type, { ...raw, metadata: { ...raw.metadata, ownerReferences: undefined } })!;
  if (type.kind === 'Pod' || type.kind === 'ReplicaSet' || type.kind === 'Job') keepOwnership(raw, object.metadata);
  return object;
}

/** A resource item; the object stripped, its owner references (if any) set aside. */
function resourceItem(type: ResourceType, raw: Obj): SourceItem {
  const object = standalone(type, raw);
  return { type: 'resource', resource: { object, namespace: type.namespaced ? (raw.metadata?.namespace ?? null) : null, source: null } };
}

/** The valid PortPolicy objects, compiled; each invalid one is ignored with a warning naming it and its fields. */
async function readPortPolicies(c: KubeClient, defaults: PortPolicySpec, pageSize: number, warn: (message: string) => void): Promise<CompiledPolicy[] | null> {
  const compiled: CompiledPolicy[] = [];
  for await (const page of listEachOnce(c, PORT_POLICIES, null, pageSize)) {
    for (const o of page) {
      const r = compilePortPolicy(o, defaults);
      if (r.ok) compiled.push(r.policy);
      else warn(`PortPolicy "${o.metadata?.name}" is invalid and ignored: ${r.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    }
  }
  return activePortPolicies(compiled);
}
