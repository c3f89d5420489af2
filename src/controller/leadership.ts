// Who may write reports: every replica keeps its caches warm, only the Lease holder writes.
// Winning the Lease (leader.ts) is not yet leave to write: the new leader first reads what
// the cluster holds (the reports an earlier leader wrote), retrying with back-off, so it
// rewrites only what changed. Losing it stops writing at once: a write about to go out asks
// `mustStop()` first, and stepping down waits for the write in flight, so the Lease moves on
// only when this replica has stopped (exactly one writer). The writes themselves time out by
// the renew deadline (`reportWriteTimeoutMs`).
import { silentLog, type Log } from '../cluster/log.js';
import type { Clock } from '../runtime/clock.js';
import { LEASE_DEFAULTS } from './leader.js';

/** What the Lease election calls, as LeaderElector's options name them. */
export interface CampaignHooks {
  onStartedLeading: () => void;
  onStoppedLeading: () => Promise<void>;
}

/** A running election: LeaderElector. */
export interface Campaign {
  start(): unknown;
  /** Stops campaigning; a leader steps down (onStoppedLeading) and releases the Lease. */
  stop(): Promise<void>;
}

export interface LeadershipOptions {
  /** Makes the election with these hooks; it starts with start(). */
  campaign: (hooks: CampaignHooks) => Campaign;
  /** Reads what the cluster holds before the first write. */
  prepare: () => Promise<void>;
  /** Prepared: writing may start. */
  onReady: () => void;
  /** The write in flight, if any. */
  inFlight: () => Promise<void> | null;
  clock: Clock;
  log?: Log;
}

// The first retry of `prepare` after 200 ms, doubling to at most 10 s: a list refused for a
// moment (an API server restarting) is retried at once, one refused for good (RBAC) costs one
// request per 10 s.
const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 10_000;

/**
 * A report write that hangs past the renew deadline could land after leadership has moved on,
 * and it would hold up the hand-over: writes time out by it (client-go bounds a leader's
 * work by the same deadline).
 */
export function reportWriteTimeoutMs(renewDeadlineMs: number | undefined): number {
  return renewDeadlineMs ?? LEASE_DEFAULTS.renewDeadlineMs;
}

export class WriterLeadership {
  private leading = false;
  private prepared = false;
  private stopped = false;
  private readonly stopping = new AbortController();
  private readonly campaign: Campaign;
  private readonly log: Log;

  constructor(private readonly opts: LeadershipOptions) {
    this.log = opts.log ?? silentLog;
    this.campaign = opts.campaign({
      onStartedLeading: () => {
        this.leading = true;
        void this.prepare();
      },
      onStoppedLeading: async () => {
        this.leading = false;
        this.prepared = false;
        await this.opts.inFlight();
      },
    });
  }

  start(): void {
    this.campaign.start();
  }

  /** Holds the Lease. */
  isLeader(): boolean {
    return this.leading;
  }

  /** Holds the Lease and has read what the cluster holds. */
  canWrite(): boolean {
    return this.leading && this.prepared;
  }

  /** Asked before each write: true once leadership is lost or the process is stopping. */
  mustStop(): boolean {
    return !this.leading || this.stopped;
  }

  /** Stops writing at once; a leader steps down and releases the Lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    await this.campaign.stop();
  }

  private async prepare(): Promise<void> {
    for (let delay = FIRST_RETRY_MS; this.leading && !this.stopped; delay = Math.min(delay * 2, MAX_RETRY_MS)) {
      try {
        await this.opts.prepare();
        this.prepared = true;
        this.opts.onReady();
        return;
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'cannot list existing reports; retrying');
        await this.opts.clock.sleep(delay, this.stopping.signal);
      }
    }
  }
}
