// Leader election over a coordination.k8s.io/v1 Lease, as client-go's leaderelection does:
// the holder renews the Lease every retry period; another replica takes it over only after it
// has seen the same renewTime for a whole lease duration on its own clock (so clock skew
// between nodes does not matter); every write carries the resourceVersion it read, so two
// candidates racing for an expired Lease get one success and one 409 Conflict. The holder
// stops acting as leader when it has not renewed for renewDeadline, which is shorter than the
// lease duration: it has stopped writing before anyone else may start. On shutdown the holder
// releases the Lease (empty holderIdentity), and a waiting replica takes over at once.
import { CONTROLLER_DEFAULTS } from '../config/controller.js';
import { ApiError, type KubeClient } from '../k8s/client.js';
import { collectionPath, LEASES, objectPath } from '../k8s/resources.js';
import { silentLog, type Log } from '../cluster/log.js';
import { systemClock, type Clock } from '../runtime/clock.js';

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  /** Unique per replica: the pod name plus a random suffix. */
  identity: string;
  /** LEASE_DEFAULTS when omitted. */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  /** Called when leadership is lost or released; the caller must stop writing first. */
  onStoppedLeading: () => void | Promise<void>;
  clock?: Clock;
  log?: Log;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: LeaseSpec;
}

/** client-go's leaderelection defaults, which the controller's settings default to. */
export const LEASE_DEFAULTS = {
  leaseDurationMs: CONTROLLER_DEFAULTS.leaseDurationMs,
  renewDeadlineMs: CONTROLLER_DEFAULTS.renewDeadlineMs,
  retryPeriodMs: CONTROLLER_DEFAULTS.retryPeriodMs,
} as const;

/** A write of the Lease: true when it went through, false when another replica's write won (409 Conflict). */
async function wonUnlessConflict(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) return false;
    throw err;
  }
}

// Lease times are MicroTime: RFC 3339 with microseconds.
const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  private leader = false;
  private readonly stopSignal = new AbortController();
  private loop: Promise<void> | null = null;
  private observed: { record: string; at: number } | null = null;
  private lastRenew = 0;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly clock: Clock;
  private readonly log: Log;

  constructor(private readonly opts: LeaderElectionOptions) {
    this.leaseDurationMs = opts.leaseDurationMs ?? LEASE_DEFAULTS.leaseDurationMs;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? LEASE_DEFAULTS.renewDeadlineMs;
    this.retryPeriodMs = opts.retryPeriodMs ?? LEASE_DEFAULTS.retryPeriodMs;
    if (this.renewDeadlineMs >= this.leaseDurationMs) throw new Error('renewDeadline must be shorter than the lease duration');
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLog;
  }

  isLeader(): boolean {
    return this.leader;
  }

  start(): this {
    this.loop ??= this.run();
    return this;
  }

  /** Stops campaigning; a leader stops leading, then releases the Lease. */
  async stop(): Promise<void> {
    this.stopSignal.abort();
    await this.loop;
    if (this.leader) {
      this.leader = false;
      await this.opts.onStoppedLeading();
      await this.release();
    }
  }

  private path(): string {
    return objectPath(LEASES, this.opts.namespace, this.opts.name);
  }

  private async run(): Promise<void> {
    const signal = this.stopSignal.signal;
    while (!signal.aborted) {
      let ok = false;
      // A leader's attempt must end by its renew deadline, as client-go bounds it with a
      // context: a request the API server never answers (a partition, an overloaded server)
      // would otherwise keep this replica leading past the lease duration, while another
      // replica, seeing no renewal, has taken over. A candidate's attempt gets one lease duration.
      const started = this.clock.now();
      const deadline = this.leader ? this.lastRenew + this.renewDeadlineMs : started + this.leaseDurationMs;
      try {
        ok = await this.tryAcquireOrRenew(deadline);
      } catch (err) {
        this.log.warn({ lease: this.opts.name, err: (err as Error).message }, 'lease request failed');
      }
      if (signal.aborted) {
        // Acquired just as the stop came: it never led, but the Lease names it; hand it back
        // rather than leave the next replica waiting out a whole lease duration.
        if (ok && !this.leader) await this.release();
        break;
      }
      await this.settle(ok);
      await this.clock.sleep(this.leader ? this.retryPeriodMs : this.retryPeriodMs * (1 + Math.random() * 0.2), signal);
    }
  }

  /** After an attempt: a success starts leading (or renews), a failure past the renew deadline stops it. */
  private async settle(ok: boolean): Promise<void> {
    const t = this.clock.now();
    if (ok) {
      this.lastRenew = t;
      if (this.leader) return;
      this.leader = true;
      this.log.info({ lease: this.opts.name, identity: this.opts.identity }, 'became leader');
      this.opts.onStartedLeading();
    } else if (this.leader && t - this.lastRenew >= this.renewDeadlineMs) {
      this.leader = false;
      this.log.warn({ lease: this.opts.name, identity: this.opts.identity }, 'lost leadership: could not renew the lease in time');
      await this.opts.onStoppedLeading();
    }
  }

  private async tryAcquireOrRenew(deadline: number): Promise<boolean> {
    const request = <T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> => {
      const left = deadline - this.clock.now();
      if (left <= 0) return Promise.reject(new Error(`lease ${method}: renew deadline passed`));
      return this.opts.client.request<T>(method, path, body, { timeoutMs: left });
    };
    const t = this.clock.now();
    let lease: Lease;
    try {
      lease = await request<Lease>('GET', this.path());
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
      const fresh: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.opts.name, namespace: this.opts.namespace },
        spec: { ...this.nextSpec({}, t), leaseTransitions: 0 },
      };
      return wonUnlessConflict(request('POST', collectionPath(LEASES, this.opts.namespace), fresh));
    }
    const spec = lease.spec ?? {};
    if (this.heldByAnother(spec, t)) return false;
    return wonUnlessConflict(request('PUT', this.path(), { ...lease, spec: this.nextSpec(spec, t) }));
  }

  private leaseSeconds(): number {
    return Math.max(1, Math.ceil(this.leaseDurationMs / 1000));
  }

  /** Another replica holds the Lease, and this one has not yet seen its record unchanged for a whole lease duration. */
  private heldByAnother(spec: LeaseSpec, t: number): boolean {
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseDurationSeconds]);
    if (this.observed?.record !== record) this.observed = { record, at: t };
    const holder = spec.holderIdentity ?? '';
    if (holder === '' || holder === this.opts.identity) return false;
    const duration = (spec.leaseDurationSeconds ?? this.leaseSeconds()) * 1000;
    return this.observed.at + duration > t;
  }

  /** The Lease as this replica holds it from `t`: a renewal keeps the acquire time, a takeover counts a transition. */
  private nextSpec(spec: LeaseSpec, t: number): LeaseSpec {
    const mine = spec.holderIdentity === this.opts.identity;
    return {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: this.leaseSeconds(),
      acquireTime: mine && spec.acquireTime ? spec.acquireTime : microTime(t),
      renewTime: microTime(t),
      leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
    };
  }

  /** Hands the Lease over: an empty holder lets a waiting replica take it without waiting out the duration. */
  private async release(): Promise<void> {
    try {
      const lease = await this.opts.client.request<Lease>('GET', this.path());
      if (lease.spec?.holderIdentity !== this.opts.identity) return;
      const t = this.clock.now();
      await this.opts.client.request('PUT', this.path(), {
        ...lease,
        spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(t), acquireTime: microTime(t) },
      });
      this.log.info({ lease: this.opts.name }, 'released the lease');
    } catch (err) {
      this.log.warn({ lease: this.opts.name, err: (err as Error).message }, 'could not release the lease; another replica takes over when it expires');
    }
  }
}
