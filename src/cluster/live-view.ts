// The webhook's view of the cluster (ClusterView): PortPolicies, Namespaces, Nodes and Services
// kept by informers, each stripped to the fields the webhook reads. A Service costs a few
// ports, a Namespace its labels, a Node its addresses.
import type { CompiledPolicy, PortPolicySpec } from '../engine/policy/model.js';
import type { NodePortAllocator } from '../engine/remediate/types.js';
import type { ClusterFacts, Labels } from '../engine/types.js';
import { ApiError, connectKube, type ConnectOptions, type KubeClient } from '../k8s/client.js';
import { NAMESPACES, objectPath, SERVICES } from '../k8s/resources.js';
import { NodePortReservations } from './allocator.js';
import { Informer } from './informer.js';
import { nodeAddressCache } from './node-addresses.js';
import { silentLog, type Log } from './log.js';
import { PolicySet, type InformerTuning } from './policies.js';
import { strip, type Cached } from './strip.js';
import { NamespaceLookupError, type ClusterView } from './view.js';

export interface LiveClusterView extends ClusterView {
  /** The allocator for one admission request; dryRun requests reserve nothing. */
  allocator(opts: { dryRun: boolean }): NodePortAllocator;
  /** Synchronous facts from the caches (labels of namespaces not cached are unknown). */
  facts(): ClusterFacts;
  whenSynced(): Promise<void>;
  /** Called after the active policies, a namespace's labels or the node addresses changed. */
  onChange(listener: (what: 'policies' | 'namespaces' | 'nodes') => void): void;
}

export interface LiveViewOptions {
  client: KubeClient;
  /** The shipped default policy's spec (loadDefaultSpec()). */
  defaults: PortPolicySpec;
  log?: Log;
  /** How long an allocated node port stays reserved; 30 s by default. */
  reservationTtlMs?: number;
  tuning?: InformerTuning;
  /** Direct Namespace reads (namespaces not yet cached) at once; MAX_NAMESPACE_READS by default. */
  maxNamespaceReads?: number;
}

/**
 * Namespace reads at once for namespaces the cache does not hold yet (docs/limits.md). Only a
 * namespace created in the last moment misses the cache on the API server's path, so 32 is far
 * above what it needs; past it a request is judged as if the read failed, never allowed blind.
 */
export const MAX_NAMESPACE_READS = 32;

/** Node ports a Service holds: spec.ports[].nodePort and spec.healthCheckNodePort. */
export function servicePorts(s: Cached | undefined): number[] {
  const spec = (s?.spec ?? {}) as { ports?: { nodePort?: unknown }[]; healthCheckNodePort?: unknown };
  const out: number[] = [];
  for (const p of spec.ports ?? []) if (typeof p.nodePort === 'number' && p.nodePort > 0) out.push(p.nodePort);
  if (typeof spec.healthCheckNodePort === 'number' && spec.healthCheckNodePort > 0) out.push(spec.healthCheckNodePort);
  return out;
}

export function startLiveClusterView(opts: LiveViewOptions): LiveClusterView {
  const { client, tuning } = opts;
  const log = opts.log ?? silentLog;
  const listeners: ((what: 'policies' | 'namespaces' | 'nodes') => void)[] = [];
  const emit = (what: 'policies' | 'namespaces' | 'nodes') => listeners.forEach((l) => l(what));

  const policySet = new PolicySet({ client, defaults: opts.defaults, log, tuning, onChange: () => emit('policies') });

  const namespaces = new Informer<Cached>({
    ...tuning,
    client,
    type: NAMESPACES,
    strip: (raw) => strip(NAMESPACES, raw),
    log,
    onChange: (type, o, old) => {
      if (type === 'update' && JSON.stringify(o.metadata.labels ?? {}) === JSON.stringify(old?.metadata.labels ?? {})) return;
      emit('namespaces');
    },
  });

  const nodeCache = nodeAddressCache({ client, tuning: { ...tuning, log }, onAddressesChanged: () => emit('nodes') });
  const nodes = nodeCache.informer;
  const nodeAddresses = (): readonly string[] => nodeCache.addresses();

  // port → number of Services holding it (a port can be held by two Services for a moment
  // while one is deleted and the other created).
  const holders = new Map<number, number>();
  const inUse = new Set<number>();
  const services = new Informer<Cached>({
    ...tuning,
    client,
    type: SERVICES,
    strip: (raw) => strip(SERVICES, raw),
    log,
    onChange: (type, o, old) => {
      for (const p of type === 'add' ? [] : servicePorts(old)) {
        const n = (holders.get(p) ?? 1) - 1;
        if (n <= 0) {
          holders.delete(p);
          inUse.delete(p);
        } else holders.set(p, n);
      }
      for (const p of type === 'delete' ? [] : servicePorts(o)) {
        holders.set(p, (holders.get(p) ?? 0) + 1);
        inUse.add(p);
      }
    },
  });
  const reservations = new NodePortReservations(() => inUse, { ttlMs: opts.reservationTtlMs });

  const informers = [policySet.informer, namespaces, nodes, services];
  informers.forEach((i) => i.start());

  const maxDirectReads = opts.maxNamespaceReads ?? MAX_NAMESPACE_READS;
  const directReads = new Map<string, Promise<Labels | undefined>>();
  const readNamespaceLabels = async (namespace: string): Promise<Labels | undefined> => {
    try {
      const ns = await client.request<{ metadata?: { labels?: Record<string, string> } }>('GET', objectPath(NAMESPACES, null, namespace));
      return ns.metadata?.labels ?? {};
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw new NamespaceLookupError(`cannot read Namespace "${namespace}" to decide its tenant: ${(err as Error).message}`);
    }
  };

  const cachedLabels = (ns: string): Labels | undefined => {
    const o = namespaces.get(null, ns);
    return o ? (o.metadata.labels ?? {}) : undefined;
  };

  return {
    synced: () => informers.every((i) => i.synced()),
    whenSynced: async () => {
      await Promise.all(informers.map((i) => i.whenSynced()));
    },
    policies: (): readonly CompiledPolicy[] | null => policySet.policies(),
    namespaceLabels(namespace: string): Promise<Labels | undefined> {
      const cached = cachedLabels(namespace);
      if (cached) return Promise.resolve(cached);
      // A namespace created a moment ago may not have reached the cache yet: ask directly.
      // Requests for one namespace share one read, and reads at once are capped: a caller that
      // names a new namespace in every request would otherwise hold a parsed review per read
      // and send the API server a read per request.
      const inFlight = directReads.get(namespace);
      if (inFlight) return inFlight;
      if (directReads.size >= maxDirectReads) {
        return Promise.reject(
          new NamespaceLookupError(`cannot read Namespace "${namespace}" to decide its tenant: ${maxDirectReads} Namespace reads are in flight, the limit`),
        );
      }
      const read = readNamespaceLabels(namespace).finally(() => directReads.delete(namespace));
      directReads.set(namespace, read);
      return read;
    },
    nodeAddresses,
    nodePortsInUse: () => inUse,
    allocator: (o) => reservations.forRequest(o),
    facts: () => ({ namespaceLabels: cachedLabels, nodeAddresses: nodeAddresses() }),
    onChange: (l) => {
      listeners.push(l);
    },
    async stop() {
      await Promise.all(informers.map((i) => i.stopped()));
    },
  };
}

export interface ConnectViewOptions extends Omit<LiveViewOptions, 'client'> {
  /** kubeconfig context when running outside the cluster. */
  context?: string;
  /** Only the in-cluster service account. */
  inCluster?: boolean;
  /** A kubeconfig as text (tests). */
  kubeconfig?: string;
  /** One kubeconfig file (--kubeconfig). */
  kubeconfigFile?: string;
}

/**
 * What `portcullis serve` calls when it runs against a cluster: connects with in-cluster
 * credentials or the kubeconfig (and --context), and starts the caches. Await whenSynced()
 * (or poll synced() in /readyz) before relying on them; stop() on shutdown.
 */
export async function connectClusterView(opts: ConnectViewOptions): Promise<LiveClusterView> {
  const connect: ConnectOptions = { context: opts.context, inCluster: opts.inCluster, kubeconfig: opts.kubeconfig, kubeconfigFile: opts.kubeconfigFile };
  const client = await connectKube(connect);
  return startLiveClusterView({ ...opts, client });
}
