// NodePort allocation for the nodePortAllocation remediation: random free ports of a tenant's
// slice, free meaning not held by any Service in the cache and not reserved. A reservation
// covers the time between this webhook answering and the Service appearing in the cache
// (the API server persists it, then our watch delivers it: normally well under a second),
// so two requests to one replica do not get the same port. Requests from two replicas can
// still collide; the API server then refuses the second Service ("provided port is already
// allocated") and the client's retry gets a new port. dryRun requests reserve nothing: they
// create nothing.
import type { NodePortAllocator } from '../engine/remediate/types.js';

export interface ReservationOptions {
  /** How long a handed-out port stays reserved; 30 s by default. */
  ttlMs?: number;
  now?: () => number;
  /** In [0, 1); Math.random by default. */
  random?: () => number;
}

export class NodePortReservations {
  /** port → expiry (ms) */
  private readonly reserved = new Map<number, number>();
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(
    private readonly inUse: () => ReadonlySet<number>,
    opts: ReservationOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
  }

  /** Ports currently reserved (for metrics and tests). */
  get size(): number {
    this.expire();
    return this.reserved.size;
  }

  private expire(): void {
    const now = this.now();
    for (const [port, until] of this.reserved) if (until <= now) this.reserved.delete(port);
  }

  /** The allocator for one admission request. */
  forRequest(opts: { dryRun: boolean }): NodePortAllocator {
    return { allocate: (slice, count, exclude) => this.allocate(slice, count, exclude, !opts.dryRun) };
  }

  allocate(slice: { lo: number; hi: number }, count: number, exclude: ReadonlySet<number> | undefined, reserve: boolean): number[] | null {
    if (count <= 0) return [];
    this.expire();
    const inUse = this.inUse();
    const free: number[] = [];
    // A slice is at most the NodePort range (2,768 ports by default): scanning it is cheap.
    for (let p = slice.lo; p <= slice.hi; p++) if (!inUse.has(p) && !this.reserved.has(p) && !exclude?.has(p)) free.push(p);
    if (free.length < count) return null;
    // Partial Fisher-Yates: the first `count` entries become a uniform random choice.
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(this.random() * (free.length - i));
      [free[i], free[j]] = [free[j], free[i]];
    }
    const chosen = free.slice(0, count);
    if (reserve) {
      const until = this.now() + this.ttlMs;
      for (const p of chosen) this.reserved.set(p, until);
    }
    return chosen;
  }
}
