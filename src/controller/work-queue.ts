// The set of dirty scopes (namespaces, and null for the cluster scope) the audit works
// through, in the shape of client-go's workqueue: a scope marked twice before it is taken is
// one entry, and one batch is worked on at a time. Marks are gathered for a debounce period
// before a batch is taken, so one rollout (a Deployment, its ReplicaSet, a dozen pods) is one
// audit of its namespace. "Everything" is a mark of its own, taken as every scope there is at
// that moment: it starts the queue, and a policy change or a new leader sets it again.
//
// A batch is taken only while `ready` says so (this replica writes and its caches have
// synced); until then marks are kept, so a follower that becomes leader knows what changed.
// Scopes a batch could not finish come back and are taken again after another debounce.
import type { Clock } from '../runtime/clock.js';
import type { Scope } from './auditor.js';

export interface Batch {
  scopes: ReadonlySet<Scope>;
  /** Taken from an "everything" mark: the batch covers every scope there is. */
  complete: boolean;
}

export interface ScopeQueueOptions {
  /** How long marks are gathered before a batch is taken. */
  debounceMs: number;
  clock: Clock;
  /** Whether a batch may be taken now. */
  ready: () => boolean;
  /** Every scope there is: the batch an "everything" mark stands for. */
  allScopes: () => Set<Scope>;
  /** Works through one batch; resolves to the scopes to take again. */
  process: (batch: Batch) => Promise<Iterable<Scope>>;
}

export class ScopeQueue {
  private readonly dirty = new Set<Scope>();
  private everything = true;
  private stopped = false;
  private debounce: AbortController | null = null;
  private running: Promise<void> | null = null;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: ScopeQueueOptions) {}

  add(scope: Scope): void {
    this.dirty.add(scope);
    this.kick();
  }

  addAll(): void {
    this.everything = true;
    this.kick();
  }

  /** Starts a debounce towards the next batch, unless one is counting down or running. */
  kick(): void {
    if (this.stopped || this.debounce || this.running) return;
    const debounce = (this.debounce = new AbortController());
    void this.opts.clock.sleep(this.opts.debounceMs, debounce.signal).then(() => {
      if (debounce.signal.aborted) return;
      this.debounce = null;
      this.running = this.takeBatch().finally(() => {
        this.running = null;
        if (this.hasWork() && this.opts.ready()) this.kick();
        else if (!this.hasWork()) this.wakeIdle();
      });
    });
  }

  /** Scopes marked and not yet taken (every scope there is after an "everything" mark). */
  pending(): number {
    return this.everything ? this.opts.allScopes().size : this.dirty.size;
  }

  /** The batch being worked on, if any. */
  current(): Promise<void> | null {
    return this.running;
  }

  /** Resolves once nothing is marked, counting down or running (or the queue stops). */
  idle(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (!this.debounce && !this.running && !this.hasWork()) resolve();
      else this.idleWaiters.push(resolve);
    });
  }

  /** Takes no more batches; resolves when the running one has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.debounce?.abort();
    this.debounce = null;
    await this.running;
    this.wakeIdle();
  }

  private hasWork(): boolean {
    return this.dirty.size > 0 || this.everything;
  }

  private wakeIdle(): void {
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private async takeBatch(): Promise<void> {
    if (!this.opts.ready()) return;
    const complete = this.everything;
    const scopes = complete ? this.opts.allScopes() : new Set(this.dirty);
    this.everything = false;
    this.dirty.clear();
    for (const scope of await this.opts.process({ scopes, complete })) this.dirty.add(scope);
  }
}
