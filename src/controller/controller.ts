// The background audit, wired: informers over every kind the engine checks mark scopes dirty
// in the work queue (work-queue.ts); the queue hands batches to the audit run below, which has
// the auditor (auditor.ts) build each scope's reports and the writer (report-writer.ts) write
// what changed, while the Lease says so (leadership.ts). An object change dirties its
// namespace; a namespace relabel dirties that namespace; a policy change dirties everything,
// a change of node addresses the namespaces with network policies. Every replica keeps its
// caches warm; only the Lease holder writes.
import { randomBytes } from 'node:crypto';
import type { CompiledPolicy, PortPolicySpec } from '../engine/policy/model.js';
import type { ClusterFacts, Labels } from '../engine/types.js';
import type { KubeClient } from '../k8s/client.js';
import { AUDITED, NAMESPACES } from '../k8s/resources.js';
import type { ReportFlavor } from '../sinks/reports/policyreport.js';
import { Informer } from '../cluster/informer.js';
import { PageGate } from '../k8s/paged-list.js';
import { nodeAddressCache } from '../cluster/node-addresses.js';
import { silentLog, type Log } from '../cluster/log.js';
import { PolicySet, type InformerTuning } from '../cluster/policies.js';
import { strip, type Cached } from '../cluster/strip.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import { Auditor, type Scope } from './auditor.js';
import { LeaderElector } from './leader.js';
import { reportWriteTimeoutMs, WriterLeadership } from './leadership.js';
import { ReportWriter } from './report-writer.js';
import { ScopeQueue, type Batch } from './work-queue.js';

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

export function startController(opts: ControllerOptions): Controller {
  const { client } = opts;
  const log = opts.log ?? silentLog;
  const clock = opts.clock ?? systemClock;
  const flavor = opts.flavor ?? 'wgpolicyk8s';
  const identity = opts.identity ?? `portcullis-controller-${randomBytes(4).toString('hex')}`;

  // Two list pages in memory at a time: one being parsed while the next is on the wire.
  const tuning = { clock, ...opts.tuning, log, pages: new PageGate(opts.listConcurrency ?? 2) };
  const policySet = new PolicySet({ client, defaults: opts.defaults, log, tuning, writeStatus: true, onChange: () => queue.addAll() });
  const namespaces = new Informer<Cached>({
    ...tuning,
    client,
    type: NAMESPACES,
    strip: (raw) => strip(NAMESPACES, raw),
    onChange: (type, o, old) => {
      if (type === 'update' && JSON.stringify(o.metadata.labels ?? {}) === JSON.stringify(old?.metadata.labels ?? {})) return;
      queue.add(o.metadata.name);
    },
  });
  const nodeCache = nodeAddressCache({
    client,
    tuning,
    // Only network-policy findings depend on node addresses: an autoscaler adding nodes
    // re-audits the namespaces that hold network policies, not the whole cluster.
    onAddressesChanged: () => {
      for (const scope of auditor.networkPolicyScopes()) queue.add(scope);
    },
  });
  const audited = AUDITED.map(
    (type) =>
      new Informer<Cached>({
        ...tuning,
        client,
        type,
        strip: (raw) => strip(type, raw),
        onChange: (_t, o) => queue.add(type.namespaced ? (o.metadata.namespace ?? null) : null),
      }),
  );
  const all = [policySet.informer, namespaces, nodeCache.informer, ...audited];
  const synced = () => all.every((i) => i.synced());

  const facts: ClusterFacts = {
    namespaceLabels: (ns: string): Labels | undefined => {
      const o = namespaces.get(null, ns);
      return o ? (o.metadata.labels ?? {}) : undefined;
    },
    get nodeAddresses() {
      return nodeCache.addresses();
    },
  };
  const auditor = new Auditor({ caches: audited, facts, flavor, maxResultsPerReport: opts.maxResultsPerReport });
  const stats: ControllerStats = {
    auditRuns: 0,
    scopesAudited: 0,
    lastAuditSeconds: 0,
    lastSuccessfulAudit: null,
    writes: { create: { ok: 0, error: 0 }, update: { ok: 0, error: 0 }, delete: { ok: 0, error: 0 } },
    findings: auditor.findings,
  };
  const writer = new ReportWriter({
    client,
    flavor,
    qps: opts.writeQps,
    burst: opts.writeBurst,
    log,
    onWrite: (op, ok) => stats.writes[op][ok ? 'ok' : 'error']++,
    writeTimeoutMs: reportWriteTimeoutMs(opts.renewDeadlineMs),
    clock,
  });
  const leadership: WriterLeadership = new WriterLeadership({
    campaign: (hooks) =>
      new LeaderElector({
        client,
        namespace: opts.leaseNamespace,
        name: opts.leaseName ?? 'portcullis-controller',
        identity,
        leaseDurationMs: opts.leaseDurationMs,
        renewDeadlineMs: opts.renewDeadlineMs,
        retryPeriodMs: opts.retryPeriodMs,
        clock,
        log,
        ...hooks,
      }),
    // Compare against what the cluster holds, so a new leader rewrites only what changed.
    prepare: () => writer.loadExisting(),
    onReady: () => queue.addAll(),
    inFlight: () => queue.current(),
    clock,
    log,
  });
  const queue: ScopeQueue = new ScopeQueue({
    debounceMs: opts.debounceMs ?? 1000,
    clock,
    // Only a writer works through dirty scopes; a follower keeps them for when it leads.
    ready: () => leadership.canWrite() && synced(),
    allScopes: () => new Set([...auditor.scopes(), ...writer.scopes()]),
    process: auditRun,
  });

  let resolveFirst!: () => void;
  const firstReportSet = new Promise<void>((r) => (resolveFirst = r));

  // PortPolicy objects once a valid one exists; the --policy files until then.
  const activePolicies = (): readonly CompiledPolicy[] => policySet.policies() ?? opts.filePolicies;

  /** Writes one scope's reports as audited now; false when the write failed (the scope is taken again). */
  async function auditScope(scope: Scope, policies: readonly CompiledPolicy[]): Promise<boolean> {
    const reports = auditor.audit(scope, policies, new Date(clock.now()));
    let written = true;
    try {
      await writer.reconcile(scope, reports, () => leadership.mustStop());
    } catch (err) {
      written = false;
      log.warn({ namespace: scope, err: (err as Error).message }, 'cannot write reports; will retry');
    }
    stats.scopesAudited++;
    return written;
  }

  async function auditRun({ scopes, complete }: Batch): Promise<Scope[]> {
    const started = process.hrtime.bigint();
    const policies = activePolicies();
    const retry: Scope[] = [];
    for (const scope of scopes) {
      // Leadership moved on: whoever leads next audits everything anyway.
      if (leadership.mustStop()) return retry;
      if (!(await auditScope(scope, policies))) retry.push(scope);
    }
    stats.auditRuns++;
    stats.lastAuditSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (retry.length === 0) stats.lastSuccessfulAudit = new Date(clock.now());
    log.info({ scopes: scopes.size, seconds: stats.lastAuditSeconds, writes: writer.writes }, 'audit run complete');
    if (!complete) return retry;
    // Logged after each complete audit when they change.
    for (const hint of auditor.changedProfileHints(policies) ?? []) log.info({ hint }, 'catalog profile hint');
    if (retry.length === 0 && leadership.isLeader()) resolveFirst();
    return retry;
  }

  all.forEach((i) => i.start());
  void Promise.all(all.map((i) => i.whenSynced())).then(() => {
    log.info({ objects: audited.reduce((n, i) => n + i.size, 0) }, 'caches synced');
    queue.kick();
  });
  leadership.start();

  return {
    synced,
    isLeader: () => leadership.isLeader(),
    firstReportSet,
    identity,
    pendingScopes: () => queue.pending(),
    stats,
    informers: () => all,
    idle: () => queue.idle(),
    async stop() {
      const queueStopped = queue.stop();
      await leadership.stop();
      await queueStopped;
      await Promise.all(all.map((i) => i.stopped()));
    },
  };
}
