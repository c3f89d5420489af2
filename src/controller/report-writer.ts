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
import { CLUSTER_POLICY_REPORTS, collectionPath, objectPath, OPEN_CLUSTER_REPORTS, OPEN_REPORTS, POLICY_REPORTS, withQuery, type ResourceType } from '../k8s/resources.js';
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
    this.types = opts.flavor === 'openreports' ? { namespaced: OPEN_REPORTS, cluster: OPEN_CLUSTER_REPORTS } : { namespaced: POLICY_REPORTS, cluster: CLUSTER_POLICY_REPORTS };
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
    for (const type of [this.types.namespaced, this.types.cluster]) {
      let cont: string | undefined;
      do {
        let page: { metadata?: { continue?: string }; items?: Obj[] };
        try {
          page = await this.opts.client.request('GET', withQuery(collectionPath(type), { labelSelector: `${MANAGED_BY_LABEL}=${REPORT_SOURCE}`, limit: 100, continue: cont }));
        } catch (err) {
          // The report CRDs are not installed: every write will fail and say so.
          if (err instanceof ApiError && err.status === 404) {
            this.log.error({ resource: type.resource }, 'report CRD is not installed; install wgpolicyk8s.io (or openreports.io) CRDs');
            break;
          }
          throw err;
        }
        for (const r of page.items ?? []) {
          // Checked here too: a server or proxy that ignored the selector must not make other
          // tools' reports (Kyverno's, in the same namespaces) look like stale chunks of ours.
          if (r.metadata?.labels?.[MANAGED_BY_LABEL] !== REPORT_SOURCE) continue;
          this.known.set(`${r.metadata?.namespace ?? ''}/${r.metadata?.name}`, { resourceVersion: r.metadata?.resourceVersion, fingerprint: fingerprint(r) });
        }
        cont = page.metadata?.continue || undefined;
      } while (cont);
    }
  }

  /**
   * Makes the reports of one scope equal to `reports`: writes the changed ones, deletes our
   * chunks that are no longer in the set. Returns the number of API writes. `shouldStop` is
   * checked before each write, so a replica that loses leadership stops mid-way.
   */
  async reconcile(scope: string | null, reports: readonly KubeObject[], shouldStop: () => boolean = () => false): Promise<number> {
    let writes = 0;
    const wanted = new Set<string>();
    for (const report of reports) {
      const ns = (report.metadata.namespace as string | undefined) ?? '';
      const key = `${ns}/${report.metadata.name}`;
      wanted.add(key);
      const fp = fingerprint(report);
      const known = this.known.get(key);
      if (known?.fingerprint === fp) continue;
      if (!(await this.bucket.take(shouldStop)) || shouldStop()) return writes;
      writes++;
      await this.put(report, key, fp, known);
    }
    for (const key of [...this.known.keys()]) {
      const ns = key.slice(0, key.indexOf('/'));
      if ((scope ?? '') !== ns || wanted.has(key)) continue;
      if (!(await this.bucket.take(shouldStop))) return writes;
      writes++;
      const name = key.slice(ns.length + 1);
      const type = ns ? this.types.namespaced : this.types.cluster;
      try {
        await this.opts.client.request('DELETE', objectPath(type, ns || null, name), undefined, this.timeout());
        this.opts.onWrite?.('delete', true);
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) {
          this.opts.onWrite?.('delete', false);
          throw err;
        }
      }
      this.known.delete(key);
    }
    this.writes += writes;
    return writes;
  }

  private async put(report: KubeObject, key: string, fp: string, known: Known | undefined): Promise<void> {
    const ns = (report.metadata.namespace as string | undefined) ?? null;
    const type = ns ? this.types.namespaced : this.types.cluster;
    const { client } = this.opts;
    const update = async (resourceVersion: string) => {
      const body = { ...report, metadata: { ...report.metadata, resourceVersion } };
      return client.request<Obj>('PUT', objectPath(type, ns, String(report.metadata.name)), body, this.timeout());
    };
    try {
      let stored: Obj;
      if (known) {
        try {
          stored = await update(known.resourceVersion);
        } catch (err) {
          // Someone else changed or deleted it: read the current version and write once more.
          if (!(err instanceof ApiError && (err.status === 409 || err.status === 404))) throw err;
          stored = await this.createOrReplace(type, ns, report, update);
        }
        this.opts.onWrite?.('update', true);
      } else {
        stored = await this.createOrReplace(type, ns, report, update);
        this.opts.onWrite?.('create', true);
      }
      this.known.set(key, { resourceVersion: stored.metadata?.resourceVersion, fingerprint: fp });
    } catch (err) {
      this.opts.onWrite?.(known ? 'update' : 'create', false);
      throw err;
    }
  }

  private async createOrReplace(type: ResourceType, ns: string | null, report: KubeObject, update: (rv: string) => Promise<Obj>): Promise<Obj> {
    try {
      return await this.opts.client.request<Obj>('POST', collectionPath(type, ns), report, this.timeout());
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 409)) throw err;
      const current = await this.opts.client.request<Obj>('GET', objectPath(type, ns, String(report.metadata.name)), undefined, this.timeout());
      return update(current.metadata?.resourceVersion);
    }
  }
}
