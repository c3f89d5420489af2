// The background audit: informers over every kind the engine checks, a set of dirty scopes
// (a namespace, or null for cluster-scoped objects), and one loop that re-evaluates a dirty
// scope from the caches and hands its reports to the writer. An object change dirties its
// namespace; a namespace relabel dirties that namespace; a policy change dirties everything,
// a change of node addresses the namespaces with network policies. Pods, ReplicaSets and Jobs controlled by a workload are
// dropped as they arrive (see strip.ts): their owner's template is audited once instead, so
// the cost follows the number of workloads, not pods. The few with host ports are kept, and
// audited themselves only while their owner is missing from the cache. Every replica keeps its caches warm;
// only the Lease holder writes.
import { randomBytes } from 'node:crypto';
import { evaluate } from '../engine/evaluate.js';
import { profileHints, profilesOfDaemonSet } from '../engine/policy/profile-hints.js';
import type { CompiledPolicy, PortPolicySpec } from '../engine/policy/model.js';
import type { ClusterFacts, Evaluation, Labels, ResourceRef } from '../engine/types.js';
import type { KubeClient } from '../k8s/client.js';
import { AUDITED, NAMESPACES } from '../k8s/resources.js';
import { buildPolicyReports, type ReportFlavor } from '../sinks/reports/policyreport.js';
import { Informer, PageGate } from '../cluster/informer.js';
import { nodeAddressCache } from '../cluster/node-addresses.js';
import { silentLog, type Log } from '../cluster/log.js';
import { PolicySet, type InformerTuning } from '../cluster/policies.js';
import { strip, type Cached } from '../cluster/strip.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import { LeaderElector } from './leader.js';
import { ReportWriter } from './report-writer.js';

export interface ControllerOptions {
  client: KubeClient;
  /** The shipped default policy's spec, for PortPolicy objects' omitted fields. */
  defaults: PortPolicySpec;
  /** --policy files (or the shipped default): in force while no valid PortPolicy object exists. */
  filePolicies: readonly CompiledPolicy[];
  flavor?: ReportFlavor;
  leaseNamespace: string;
  leaseName?: string;
  /** Unique per replica; the pod name (HOSTNAME) plus a random suffix by default. */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Changes are gathered this long before a scope is evaluated again. */
  debounceMs?: number;
  writeQps?: number;
  writeBurst?: number;
  maxResultsPerReport?: number;
  /** List pages parsed at once across all informers. */
  listConcurrency?: number;
  tuning?: InformerTuning;
  log?: Log;
  /** Lease timing, debounce, retry back-off, write rate and report timestamps. */
  clock?: Clock;
}

export interface ControllerStats {
  auditRuns: number;
  scopesAudited: number;
  lastAuditSeconds: number;
  /** When (by the controller's clock) the last audit run ended with every report written; null before the first. */
  lastSuccessfulAudit: Date | null;
  writes: Record<'create' | 'update' | 'delete', { ok: number; error: number }>;
  /** `rule|action` → findings, summed over scopes. */
  findings: Map<string, number>;
}

export interface Controller {
  synced: () => boolean;
  isLeader: () => boolean;
  /** Resolves once this replica, as leader, has written a complete first report set. */
  firstReportSet: Promise<void>;
  /** Resolves when nothing is dirty and no audit is running (tests). */
  idle(): Promise<void>;
  informers(): readonly Informer<Cached>[];
  /** Scopes (namespaces, and the cluster) changed since their reports were last written. */
  pendingScopes(): number;
  readonly stats: ControllerStats;
  readonly identity: string;
  /** Stops writing, releases the Lease, stops the watches. */
  stop(): Promise<void>;
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

export function startController(opts: ControllerOptions): Controller {
  const { client } = opts;
  const log = opts.log ?? silentLog;
  const clock = opts.clock ?? systemClock;
  const flavor = opts.flavor ?? 'wgpolicyk8s';
  const debounceMs = opts.debounceMs ?? 1000;
  const identity = opts.identity ?? `portcullis-controller-${randomBytes(4).toString('hex')}`;
  const stats: ControllerStats = {
    auditRuns: 0,
    scopesAudited: 0,
    lastAuditSeconds: 0,
    lastSuccessfulAudit: null,
    writes: { create: { ok: 0, error: 0 }, update: { ok: 0, error: 0 }, delete: { ok: 0, error: 0 } },
    findings: new Map(),
  };
  const findingsByScope = new Map<string | null, Map<string, number>>();

  const dirty = new Set<string | null>();
  let allDirty = true;
  let leading = false;
  let writerReady = false;
  let stopped = false;
  const stopping = new AbortController();
  let timer: AbortController | null = null;
  let flushing: Promise<void> | null = null;
  const idleWaiters: (() => void)[] = [];
  let resolveFirst!: () => void;
  const firstReportSet = new Promise<void>((r) => (resolveFirst = r));
  let firstDone = false;

  const markDirty = (scope: string | null) => {
    dirty.add(scope);
    schedule();
  };
  const markAll = () => {
    allDirty = true;
    schedule();
  };

  // Two list pages in memory at a time: one being parsed while the next is on the wire.
  const tuning = { clock, ...opts.tuning, log, pages: new PageGate(opts.listConcurrency ?? 2) };
  const policySet = new PolicySet({ client, defaults: opts.defaults, log, tuning, writeStatus: true, onChange: markAll });

  const namespaces = new Informer<Cached>({
    ...tuning,
    client,
    type: NAMESPACES,
    strip: (raw) => strip(NAMESPACES, raw),
    onChange: (type, o, old) => {
      if (type === 'update' && JSON.stringify(o.metadata.labels ?? {}) === JSON.stringify(old?.metadata.labels ?? {})) return;
      markDirty(o.metadata.name);
    },
  });
  const nodeCache = nodeAddressCache({
    client,
    tuning,
    // Only network-policy findings depend on node addresses: an autoscaler adding nodes
    // re-audits the namespaces that hold network policies, not the whole cluster.
    onAddressesChanged: () => {
      for (const inf of audited) {
        if (!NETWORK_POLICY_KINDS.has(inf.type.kind)) continue;
        for (const ns of inf.namespaces()) markDirty(ns === '' ? null : ns);
      }
    },
  });
  const nodes = nodeCache.informer;
  const audited = AUDITED.map(
    (type) =>
      new Informer<Cached>({
        ...tuning,
        client,
        type,
        strip: (raw) => strip(type, raw),
        onChange: (_t, o) => markDirty(type.namespaced ? (o.metadata.namespace ?? null) : null),
      }),
  );
  const all = [policySet.informer, namespaces, nodes, ...audited];
  const byKind = new Map(audited.filter((i) => OWNER_GROUPS.has(i.type.group)).map((i) => [i.type.kind, i]));
  const byType = new Map(audited.map((i) => [i.type, i]));
  // CRDs that store another API's objects are audited only while that API is not served.
  const stands = (inf: Informer<Cached>) => !inf.type.storageOf || byType.get(inf.type.storageOf)?.missing === true;

  const facts: ClusterFacts = {
    namespaceLabels: (ns: string): Labels | undefined => {
      const o = namespaces.get(null, ns);
      return o ? (o.metadata.labels ?? {}) : undefined;
    },
    get nodeAddresses() {
      return nodeCache.addresses();
    },
  };

  const writer = new ReportWriter({
    client,
    flavor,
    qps: opts.writeQps,
    burst: opts.writeBurst,
    log,
    onWrite: (op, ok) => stats.writes[op][ok ? 'ok' : 'error']++,
    writeTimeoutMs: opts.renewDeadlineMs ?? 10_000,
    clock,
  });

  const synced = () => all.every((i) => i.synced());

  function activePolicies(): readonly CompiledPolicy[] {
    return policySet.policies() ?? opts.filePolicies;
  }

  function evaluateScope(scope: string | null, policies: readonly CompiledPolicy[]): { evaluations: Evaluation[]; uids: Map<string, string> } {
    const evaluations: Evaluation[] = [];
    const uids = new Map<string, string>();
    for (const inf of audited) {
      if (inf.type.namespaced === (scope === null) || !stands(inf)) continue;
      for (const object of inf.inNamespace(scope)) {
        // An owned object kept for its host ports stands for itself only while its owner is
        // not cached: otherwise the owner's template, audited once, carries the finding.
        const owner = object.metadata.owner;
        if (owner && byKind.get(owner.kind)?.get(scope, owner.name)) continue;
        const e = evaluate({ object, namespace: scope, source: null }, policies, facts);
        evaluations.push(e);
        if (object.metadata.uid) uids.set(refKey(e.resource), object.metadata.uid as string);
      }
    }
    return { evaluations, uids };
  }

  // Logged after each complete audit when they change: which catalog profiles the cluster's
  // DaemonSets match and an active policy leaves out (a hint, the policy is not changed).
  let loggedHints = '';
  function logProfileHints(policies: readonly CompiledPolicy[]) {
    const seen = new Map<string, string>();
    const daemonSets = byKind.get('DaemonSet');
    for (const ns of daemonSets?.namespaces() ?? []) {
      for (const object of daemonSets!.inNamespace(ns)) {
        for (const profile of profilesOfDaemonSet(ns, object.metadata.name)) if (!seen.has(profile)) seen.set(profile, `${ns}/${object.metadata.name}`);
      }
    }
    const hints = profileHints(policies, seen);
    if (hints.join('\n') === loggedHints) return;
    loggedHints = hints.join('\n');
    for (const hint of hints) log.info({ hint }, 'catalog profile hint');
  }

  function countFindings(scope: string | null, evaluations: readonly Evaluation[]) {
    const old = findingsByScope.get(scope);
    for (const [k, n] of old ?? []) stats.findings.set(k, (stats.findings.get(k) ?? 0) - n);
    const counts = new Map<string, number>();
    for (const e of evaluations) for (const f of e.findings) counts.set(`${f.rule}|${f.action}`, (counts.get(`${f.rule}|${f.action}`) ?? 0) + 1);
    for (const [k, n] of counts) stats.findings.set(k, (stats.findings.get(k) ?? 0) + n);
    if (counts.size) findingsByScope.set(scope, counts);
    else findingsByScope.delete(scope);
  }

  function allScopes(): Set<string | null> {
    const scopes = new Set<string | null>([null]);
    for (const inf of audited) for (const ns of inf.namespaces()) scopes.add(ns === '' ? null : ns);
    for (const s of writer.scopes()) scopes.add(s);
    return scopes;
  }

  function schedule() {
    if (stopped || timer || flushing) return;
    const debounce = (timer = new AbortController());
    void clock.sleep(debounceMs, debounce.signal).then(() => {
      if (debounce.signal.aborted) return;
      timer = null;
      flushing = flush().finally(() => {
        flushing = null;
        // Only a writer works through dirty scopes; a follower keeps them for when it leads.
        if ((dirty.size > 0 || allDirty) && leading && writerReady && synced()) schedule();
        else if (dirty.size === 0 && !allDirty) for (const w of idleWaiters.splice(0)) w();
      });
    });
  }

  async function flush(): Promise<void> {
    if (!leading || !writerReady || !synced()) return;
    const complete = allDirty;
    const scopes = allDirty ? allScopes() : new Set(dirty);
    allDirty = false;
    dirty.clear();
    const started = process.hrtime.bigint();
    const policies = activePolicies();
    let failed = false;
    for (const scope of scopes) {
      if (!leading || stopped) {
        // Leadership moved on: whoever leads next audits everything anyway.
        return;
      }
      const { evaluations, uids } = evaluateScope(scope, policies);
      countFindings(scope, evaluations);
      const reports = buildPolicyReports(evaluations, { generatedAt: new Date(clock.now()), flavor, maxResults: opts.maxResultsPerReport, uidOf: (r) => uids.get(refKey(r)) });
      try {
        await writer.reconcile(scope, reports, () => !leading || stopped);
      } catch (err) {
        failed = true;
        dirty.add(scope);
        log.warn({ namespace: scope, err: (err as Error).message }, 'cannot write reports; will retry');
      }
      stats.scopesAudited++;
    }
    stats.auditRuns++;
    stats.lastAuditSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (!failed) stats.lastSuccessfulAudit = new Date(clock.now());
    log.info({ scopes: scopes.size, seconds: stats.lastAuditSeconds, writes: writer.writes }, 'audit run complete');
    if (complete) logProfileHints(policies);
    if (complete && !failed && !firstDone && leading) {
      firstDone = true;
      resolveFirst();
    }
  }

  const elector = new LeaderElector({
    client,
    namespace: opts.leaseNamespace,
    name: opts.leaseName ?? 'portcullis-controller',
    identity,
    leaseDurationMs: opts.leaseDurationMs,
    renewDeadlineMs: opts.renewDeadlineMs,
    retryPeriodMs: opts.retryPeriodMs,
    clock,
    log,
    onStartedLeading: () => {
      leading = true;
      void (async () => {
        // Compare against what the cluster holds, so a new leader rewrites only what changed.
        for (let delay = 200; leading && !stopped; delay = Math.min(delay * 2, 10_000)) {
          try {
            await writer.loadExisting();
            writerReady = true;
            markAll();
            return;
          } catch (err) {
            log.warn({ err: (err as Error).message }, 'cannot list existing reports; retrying');
            await clock.sleep(delay, stopping.signal);
          }
        }
      })();
    },
    onStoppedLeading: async () => {
      leading = false;
      writerReady = false;
      // Exactly one writer: wait for a write in flight before the Lease may move on.
      await flushing;
    },
  });

  all.forEach((i) => i.start());
  void Promise.all(all.map((i) => i.whenSynced())).then(() => {
    log.info({ objects: audited.reduce((n, i) => n + i.size, 0) }, 'caches synced');
    schedule();
  });
  elector.start();

  return {
    synced,
    isLeader: () => leading,
    firstReportSet,
    identity,
    pendingScopes: () => (allDirty ? allScopes().size : dirty.size),
    stats,
    informers: () => all,
    idle: () =>
      new Promise<void>((resolve) => {
        if (!timer && !flushing && dirty.size === 0 && !allDirty) resolve();
        else idleWaiters.push(resolve);
      }),
    async stop() {
      stopped = true;
      stopping.abort();
      timer?.abort();
      timer = null;
      await elector.stop();
      await flushing;
      await Promise.all(all.map((i) => i.stopped()));
      for (const w of idleWaiters.splice(0)) w();
    },
  };
}
