// An informer: a cache of one resource kept current by list + watch, as client-go's reflector
// does. Lists are paged (limit/continue) so no answer holds the whole collection; objects are
// stripped as they arrive. A watch that ends is resumed from the last version seen (bookmarks
// keep that version fresh); a watch or continue token that has expired (410 Gone) starts a new
// list, and the new list is diffed against the cache so every object that changed, appeared
// or vanished meanwhile yields exactly one event: nothing is lost or reported twice.
import { ApiError, type KubeClient, type WatchEvent } from '../k8s/client.js';
import { PageGate, pagedList } from '../k8s/paged-list.js';
import { collectionPath, withQuery, type ResourceType } from '../k8s/resources.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import { silentLog, type Log } from './log.js';
import type { Cached } from './strip.js';

export type ChangeType = 'add' | 'update' | 'delete';

export interface InformerOptions<T extends Cached> {
  client: KubeClient;
  type: ResourceType;
  /** Watch one namespace only; all namespaces by default. */
  namespace?: string | null;
  labelSelector?: string;
  /** Cuts an object down for the cache; null drops it (and deletes a cached one). */
  strip: (raw: Record<string, any>) => T | null;
  onChange?: (type: ChangeType, object: T, old: T | undefined) => void;
  /** After each complete (re)list has been applied. */
  onListed?: () => void;
  /** Items per list page. 500 is client-go's default page size. */
  pageSize?: number;
  /** Server-side watch timeout; the watch is then resumed from the last version. */
  watchTimeoutSeconds?: number;
  /** First retry delay after a failure; doubles up to maxRetryDelayMs. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** A resource the server does not serve (a CRD not installed) is retried this often. */
  missingRetryMs?: number;
  log?: Log;
  /** Shared by a process's informers to bound how many list pages are in memory at once. */
  pages?: PageGate;
  /** Retry back-off and the short-watch check; the system clock by default. */
  clock?: Clock;
}

export interface InformerStats {
  lists: number;
  watches: number;
  events: number;
  /** Lists forced by 410 Gone. */
  expired: number;
  /** Watches that failed (dropped connection, error answer). */
  failures: number;
}

class Gone extends Error {}

export class Informer<T extends Cached> {
  /** namespace ('' for cluster-scoped) → name → object */
  private readonly store = new Map<string, Map<string, T>>();
  private count = 0;
  private rv: string | null = null;
  private readonly stop = new AbortController();
  private loop: Promise<void> | null = null;
  private hasSynced = false;
  /** The server answered 404: the resource (a CRD) is not installed. */
  missing = false;
  /** The last failure, until the next success; a 403 here means the RBAC lacks a grant. */
  lastError: Error | null = null;
  readonly stats: InformerStats = { lists: 0, watches: 0, events: 0, expired: 0, failures: 0 };
  private readonly log: Log;
  private readonly clock: Clock;
  private syncWaiters: (() => void)[] = [];

  constructor(private readonly opts: InformerOptions<T>) {
    this.log = opts.log ?? silentLog;
    this.clock = opts.clock ?? systemClock;
  }

  get type(): ResourceType {
    return this.opts.type;
  }

  start(): this {
    this.loop ??= this.run();
    return this;
  }

  async stopped(): Promise<void> {
    this.stop.abort();
    await this.loop;
  }

  /** True once the first complete list has been applied (or the resource is not served). */
  synced(): boolean {
    return this.hasSynced;
  }

  whenSynced(): Promise<void> {
    return this.hasSynced ? Promise.resolve() : new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get size(): number {
    return this.count;
  }

  get(namespace: string | null, name: string): T | undefined {
    return this.store.get(namespace ?? '')?.get(name);
  }

  /** Objects of one namespace ('' or null: cluster-scoped ones). */
  inNamespace(namespace: string | null): Iterable<T> {
    return this.store.get(namespace ?? '')?.values() ?? [];
  }

  namespaces(): Iterable<string> {
    return this.store.keys();
  }

  *values(): Iterable<T> {
    for (const m of this.store.values()) yield* m.values();
  }

  private path(): string {
    return collectionPath(this.opts.type, this.opts.namespace ?? null);
  }

  private set(object: T): void {
    const ns = object.metadata.namespace ?? '';
    let m = this.store.get(ns);
    if (!m) this.store.set(ns, (m = new Map()));
    const old = m.get(object.metadata.name);
    m.set(object.metadata.name, object);
    if (!old) {
      this.count++;
      this.opts.onChange?.('add', object, undefined);
    } else if (old.metadata.resourceVersion !== object.metadata.resourceVersion) {
      this.opts.onChange?.('update', object, old);
    }
  }

  private delete(namespace: string | undefined, name: string): void {
    const m = this.store.get(namespace ?? '');
    const old = m?.get(name);
    if (!m || !old) return;
    m.delete(name);
    if (m.size === 0) this.store.delete(namespace ?? '');
    this.count--;
    this.opts.onChange?.('delete', old, old);
  }

  private apply(raw: Record<string, any>): void {
    const object = this.opts.strip(raw);
    if (object) this.set(object);
    else this.delete(raw.metadata?.namespace, raw.metadata?.name);
  }

  private markSynced(): void {
    if (!this.hasSynced) {
      this.hasSynced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
    this.opts.onListed?.();
  }

  /** Lists every page and makes the cache equal to the result. */
  private async list(): Promise<void> {
    const { client, type, namespace, pageSize, labelSelector, pages: gate } = this.opts;
    const seen = new Set<string>();
    let rv = '';
    this.stats.lists++;
    const onRestart = () => {
      // The list begins again: what the cache should keep is what the new list returns.
      this.stats.expired++;
      seen.clear();
    };
    for await (const page of pagedList(client, type, { namespace, labelSelector, pageSize, gate, onRestart })) {
      if (this.stop.signal.aborted) return;
      rv = page.resourceVersion;
      for (const raw of page.items) {
        seen.add(`${raw.metadata?.namespace ?? ''}/${raw.metadata?.name}`);
        this.apply(raw);
      }
    }
    // Whatever the cache holds that the list did not return was deleted while we were not watching.
    for (const [ns, m] of [...this.store]) {
      for (const name of [...m.keys()]) if (!seen.has(`${ns}/${name}`)) this.delete(ns || undefined, name);
    }
    this.rv = rv;
    this.missing = false;
    this.markSynced();
  }

  private async watch(): Promise<void> {
    const { client, labelSelector, watchTimeoutSeconds = 300 } = this.opts;
    const abort = new AbortController();
    const onStop = () => abort.abort();
    this.stop.signal.addEventListener('abort', onStop);
    // Set from the event callback, which the compiler's narrowing does not follow.
    let failure = null as Error | null;
    let events = 0;
    const started = this.clock.now();
    this.stats.watches++;
    // Spread reconnects of many informers, as client-go does (timeout in [t, 2t)).
    const timeoutSeconds = Math.floor(watchTimeoutSeconds * (1 + Math.random()));
    const path = withQuery(this.path(), {
      watch: true, // as client-go and kubectl send it
      resourceVersion: this.rv ?? undefined,
      allowWatchBookmarks: true,
      labelSelector,
      timeoutSeconds,
    });
    // The server ends the watch after timeoutSeconds. One still open well after that sits on a
    // dead connection (a node or NAT that vanished without a FIN), which would silently stop
    // every event: drop it and resume from the last version.
    const watchdog = setTimeout(
      () => {
        failure ??= new Error(`watch ${this.opts.type.resource}: still open ${timeoutSeconds} s after it should have ended; reconnecting`);
        abort.abort();
      },
      (timeoutSeconds + Math.min(60, timeoutSeconds / 2)) * 1000,
    );
    try {
      await client.watch(
        path,
        (ev: WatchEvent) => {
          if (failure) return;
          const obj = ev.object as Record<string, any>;
          if (ev.type === 'ERROR') {
            failure =
              obj?.code === 410
                ? new Gone(String(obj.message))
                : new ApiError(Number(obj?.code ?? 500), String(obj?.reason ?? 'Error'), String(obj?.message ?? 'watch error'));
            abort.abort();
            return;
          }
          this.stats.events++;
          events++;
          const rv = obj?.metadata?.resourceVersion;
          if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.apply(obj);
          else if (ev.type === 'DELETED') this.delete(obj?.metadata?.namespace, obj?.metadata?.name);
          if (rv) this.rv = rv;
        },
        abort.signal,
      );
    } finally {
      clearTimeout(watchdog);
      this.stop.signal.removeEventListener('abort', onStop);
    }
    if (failure) throw failure;
    if (this.stop.signal.aborted) return;
    // A server (or proxy) that ends every watch at once would otherwise be asked again in a
    // tight loop: like client-go's reflector, treat it as a failure, which backs off.
    const lasted = this.clock.now() - started;
    if (events === 0 && lasted < 1000) throw new Error(`very short watch: ${this.opts.type.resource} ended after ${lasted} ms with no events`);
  }

  private async run(): Promise<void> {
    const { retryDelayMs = 500, maxRetryDelayMs = 30_000, missingRetryMs = 60_000 } = this.opts;
    let delay = retryDelayMs;
    const signal = this.stop.signal;
    while (!signal.aborted) {
      try {
        if (this.rv === null) await this.list();
        if (signal.aborted) break;
        await this.watch();
        this.lastError = null;
        delay = retryDelayMs;
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof Gone || (err instanceof ApiError && err.status === 410)) {
          this.stats.expired++;
          this.log.info({ resource: this.opts.type.resource }, 'watch version expired (410 Gone); listing again');
          this.rv = null;
          continue;
        }
        this.stats.failures++;
        this.lastError = err as Error;
        if (err instanceof ApiError && err.status === 404) {
          // Not served: a CRD that is not installed (Cilium's, in a cluster without Cilium).
          // An empty cache is the truth then; look again later.
          if (!this.missing) this.log.info({ resource: this.opts.type.resource }, 'resource not served by this cluster; treating it as empty');
          this.missing = true;
          for (const [ns, m] of [...this.store]) for (const name of [...m.keys()]) this.delete(ns || undefined, name);
          this.rv = null;
          this.markSynced();
          await this.clock.sleep(missingRetryMs, signal);
          continue;
        }
        this.log.warn({ resource: this.opts.type.resource, err: (err as Error).message }, 'list/watch failed; retrying');
        await this.clock.sleep(delay, signal);
        delay = Math.min(delay * 2, maxRetryDelayMs);
      }
    }
  }
}
