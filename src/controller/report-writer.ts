// Writes report objects to the cluster, and only those that changed: each report's content
// (labels, summary and results without their timestamps) is fingerprinted, and a report whose
// fingerprint matches what the cluster holds is not written again. The fingerprints of the
// reports already in the cluster are read when this replica becomes the writer, so a restart
// or a leader hand-over rewrites nothing that is still true. Chunks a scope no longer needs
// are deleted. Every write waits for a token from a bucket (client-go's QPS/burst), so a
// policy change that touches every namespace does not flood the API server.
import { createHash } from 'node:crypto';
import type { KubeObject } from '../engine/types.js';
import { ApiError, type KubeClient } from '../k8s/client.js';
import { pagedList } from '../k8s/paged-list.js';
import { CLUSTER_POLICY_REPORTS, collectionPath, objectPath, OPEN_CLUSTER_REPORTS, OPEN_REPORTS, POLICY_REPORTS, type ResourceType } from '../k8s/resources.js';
import { MANAGED_BY_LABEL, REPORT_SOURCE, type ReportFlavor } from '../sinks/reports/policyreport.js';
import { silentLog, type Log } from '../cluster/log.js';
import { systemClock, type Clock } from '../runtime/clock.js';

export interface WriterOptions {
  client: KubeClient;
  flavor: ReportFlavor;
  /** Writes per second, and how many may go at once after a quiet time. */
  qps?: number;
  burst?: number;
  log?: Log;
  onWrite?: (operation: 'create' | 'update' | 'delete', ok: boolean) => void;
  clock?: Clock;
  /**
   * Per-request timeout for writes. The controller passes its renew deadline: a write that
   * hangs past it could land after leadership has moved on, and it would hold up the hand-over.
   */
  writeTimeoutMs?: number;
}

interface Known {
  resourceVersion: string;
  fingerprint: string;
}

type Obj = Record<string, any>;

/** What a report says, without when it was said. */
export function fingerprint(report: Obj): string {
  const results = ((report.results ?? []) as Obj[]).map(({ timestamp: _t, ...rest }) => rest);
  return createHash('sha256')
    .update(JSON.stringify([report.metadata?.labels ?? {}, report.summary ?? {}, report.source ?? null, results]))
    .digest('base64url');
}

class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }
  /** Waits for a token; gives up (false) once `shouldStop` says so. */
  async take(shouldStop: () => boolean): Promise<boolean> {
    for (;;) {
      if (shouldStop()) return false;
      const t = this.clock.now();
      this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.qps);
      this.last = t;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return true;
      }
      await this.clock.sleep(Math.ceil(((1 - this.tokens) / this.qps) * 1000));
    }
  }
}

export class ReportWriter {
  /** `namespace/name` ('' namespace for cluster reports) → what the cluster holds. */
  private readonly known = new Map<string, Known>();
  private readonly bucket: TokenBucket;
  private readonly types: { namespaced: ResourceType; cluster: ResourceType };
  private readonly log: Log;
  writes = 0;

  constructor(private readonly opts: WriterOptions) {
    this.bucket = new TokenBucket(opts.qps ?? 20, opts.burst ?? 50, opts.clock ?? systemClock);
    this.types =
      opts.flavor === 'openreports'
        ? { namespaced: OPEN_REPORTS, cluster: OPEN_CLUSTER_REPORTS }
        : { namespaced: POLICY_REPORTS, cluster: CLUSTER_POLICY_REPORTS };
    this.log = opts.log ?? silentLog;
  }

  private timeout(): { timeoutMs?: number } {
    return { timeoutMs: this.opts.writeTimeoutMs };
  }

  /** Scopes (namespace, or null for cluster reports) that hold reports of ours. */
  scopes(): Set<string | null> {
    const out = new Set<string | null>();
    for (const k of this.known.keys()) out.add(k.startsWith('/') ? null : k.slice(0, k.indexOf('/')));
    return out;
  }

  /** Reads the reports portcullis wrote before (paged), to compare against. */
  async loadExisting(): Promise<void> {
    this.known.clear();
    for (const type of [this.types.namespaced, this.types.cluster]) await this.loadExistingOf(type);
  }

  private async loadExistingOf(type: ResourceType): Promise<void> {
    try {
      for await (const page of pagedList(this.opts.client, type, { labelSelector: `${MANAGED_BY_LABEL}=${REPORT_SOURCE}`, pageSize: 100 })) {
        for (const r of page.items) this.remember(r);
      }
    } catch (err) {
      // The report CRDs are not installed: every write will fail and say so.
      if (!(err instanceof ApiError && err.status === 404)) throw err;
      this.log.error({ resource: type.resource }, 'report CRD is not installed; install wgpolicyk8s.io (or openreports.io) CRDs');
    }
  }

  private remember(r: Obj): void {
    // Checked here too: a server or proxy that ignored the selector must not make other
    // tools' reports (Kyverno's, in the same namespaces) look like stale chunks of ours.
    if (r.metadata?.labels?.[MANAGED_BY_LABEL] !== REPORT_SOURCE) return;
    this.known.set(`${r.metadata?.namespace ?? ''}/${r.metadata?.name}`, { resourceVersion: r.metadata?.resourceVersion, fingerprint: fingerprint(r) });
  }

  /**
   * Makes the reports of one scope equal to `reports`: writes the changed ones, deletes our
   * chunks that are no longer in the set. Returns the number of API writes. `shouldStop` is
   * checked before each write, so a replica that loses leadership stops mid-way.
   */
  async reconcile(scope: string | null, reports: readonly KubeObject[], shouldStop: () => boolean = () => false): Promise<number> {
    const wanted = new Set(reports.map(keyOf));
    const changed = await this.writeChanged(reports, shouldStop);
    if (changed.stopped) return changed.writes;
    const deleted = await this.deleteUnwanted(scope, wanted, shouldStop);
    if (deleted.stopped) return changed.writes + deleted.writes;
    this.writes += changed.writes + deleted.writes;
    return changed.writes + deleted.writes;
  }

  private async writeChanged(reports: readonly KubeObject[], shouldStop: () => boolean): Promise<{ writes: number; stopped: boolean }> {
    let writes = 0;
    for (const report of reports) {
      const key = keyOf(report);
      const fp = fingerprint(report);
      const known = this.known.get(key);
      if (known?.fingerprint === fp) continue;
      if (!(await this.bucket.take(shouldStop)) || shouldStop()) return { writes, stopped: true };
      writes++;
      await this.put(report, key, fp, known);
    }
    return { writes, stopped: false };
  }

  /** Deletes the scope's reports of ours that are not wanted any more (a chunk the scope no longer needs). */
  private async deleteUnwanted(scope: string | null, wanted: ReadonlySet<string>, shouldStop: () => boolean): Promise<{ writes: number; stopped: boolean }> {
    let writes = 0;
    for (const key of [...this.known.keys()]) {
      const ns = key.slice(0, key.indexOf('/'));
      if ((scope ?? '') !== ns || wanted.has(key)) continue;
      if (!(await this.bucket.take(shouldStop))) return { writes, stopped: true };
      writes++;
      await this.delete(ns, key.slice(ns.length + 1));
      this.known.delete(key);
    }
    return { writes, stopped: false };
  }

  private async delete(ns: string, name: string): Promise<void> {
    const type = ns ? this.types.namespaced : this.types.cluster;
    try {
      await this.opts.client.request('DELETE', objectPath(type, ns || null, name), undefined, this.timeout());
      this.opts.onWrite?.('delete', true);
    } catch (err) {
      // Gone already: what was wanted.
      if (err instanceof ApiError && err.status === 404) return;
      this.opts.onWrite?.('delete', false);
      throw err;
    }
  }

  private async put(report: KubeObject, key: string, fp: string, known: Known | undefined): Promise<void> {
    const operation = known ? 'update' : 'create';
    let stored: Obj;
    try {
      stored = known ? await this.updateOrReplace(report, known) : await this.createOrReplace(report);
    } catch (err) {
      this.opts.onWrite?.(operation, false);
      throw err;
    }
    this.opts.onWrite?.(operation, true);
    this.known.set(key, { resourceVersion: stored.metadata?.resourceVersion, fingerprint: fp });
  }

  private async updateOrReplace(report: KubeObject, known: Known): Promise<Obj> {
    try {
      return await this.update(report, known.resourceVersion);
    } catch (err) {
      // Someone else changed or deleted it: read the current version and write once more.
      if (!(err instanceof ApiError && (err.status === 409 || err.status === 404))) throw err;
      return this.createOrReplace(report);
    }
  }

  private update(report: KubeObject, resourceVersion: string): Promise<Obj> {
    const { type, ns } = this.placeOf(report);
    const body = { ...report, metadata: { ...report.metadata, resourceVersion } };
    return this.opts.client.request<Obj>('PUT', objectPath(type, ns, String(report.metadata.name)), body, this.timeout());
  }

  private placeOf(report: KubeObject): { type: ResourceType; ns: string | null } {
    const ns = report.metadata.namespace ?? null;
    return { type: ns ? this.types.namespaced : this.types.cluster, ns };
  }

  private async createOrReplace(report: KubeObject): Promise<Obj> {
    const { type, ns } = this.placeOf(report);
    try {
      return await this.opts.client.request<Obj>('POST', collectionPath(type, ns), report, this.timeout());
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 409)) throw err;
      const current = await this.opts.client.request<Obj>('GET', objectPath(type, ns, String(report.metadata.name)), undefined, this.timeout());
      return this.update(report, current.metadata?.resourceVersion);
    }
  }
}

/** `namespace/name`, '' namespace for cluster reports. */
const keyOf = (report: KubeObject): string => `${report.metadata.namespace ?? ''}/${report.metadata.name}`;
