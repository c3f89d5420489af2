// The controller's leadership glue on its own: the election is a stand-in whose hooks the steps
// call (winning and losing the Lease are events, not waits), reading the cluster's reports is
// a promise the steps settle, and the back-off sleeps on a ManualClock the steps move.
import { describe, expect, it } from '@jest/globals';
import { reportWriteTimeoutMs, WriterLeadership, type CampaignHooks } from '../../src/controller/leadership.js';
import { LEASE_DEFAULTS } from '../../src/controller/leader.js';
import { ManualClock } from '../support/clock.js';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/**
 * Steps: `win`, `lose` (the election's hooks), `read ok` / `read refused` (the pending read of
 * the cluster's reports), `advance <ms>`, `write` / `write done` (a write in flight), `stop`.
 * After each step: `leader|follower`, `writes` when it may write, `stops` when a write about
 * to go out must not, `handing over` while a step-down waits for the write in flight, and
 * `read N` once it has begun N reads.
 */
async function run(steps: string[]) {
  const clock = new ManualClock();
  let hooks!: CampaignHooks;
  const campaign = { started: false, stopped: false };
  const reads: Deferred[] = [];
  let readies = 0;
  const writing: { inFlight?: Deferred } = {};
  let handingOver = false;
  const leadership = new WriterLeadership({
    campaign: (h) => {
      hooks = h;
      return {
        start: () => (campaign.started = true),
        stop: async () => {
          campaign.stopped = true;
          // As LeaderElector.stop: a leader steps down before it releases the Lease.
          if (leadership.isLeader()) await hooks.onStoppedLeading();
        },
      };
    },
    prepare: () => {
      const d = deferred();
      reads.push(d);
      return d.promise;
    },
    onReady: () => readies++,
    inFlight: () => writing.inFlight?.promise ?? null,
    clock,
  });
  leadership.start();
  const act: Record<string, () => void> = {
    win: () => hooks.onStartedLeading(),
    lose: () => {
      handingOver = true;
      void hooks.onStoppedLeading().then(() => (handingOver = false));
    },
    'read ok': () => reads.at(-1)!.resolve(),
    'read refused': () => reads.at(-1)!.reject(new Error('forbidden')),
    write: () => (writing.inFlight = deferred()),
    'write done': () => writing.inFlight!.resolve(),
    stop: () => void leadership.stop(),
  };
  const state = () =>
    [
      leadership.isLeader() ? 'leader' : 'follower',
      leadership.canWrite() && 'writes',
      leadership.mustStop() && 'stops',
      handingOver && 'handing over',
      reads.length > 0 && `read ${reads.length}`,
    ]
      .filter(Boolean)
      .join(' ');
  const trace: string[] = [];
  for (const step of steps) {
    if (step.startsWith('advance ')) clock.advance(Number(step.slice('advance '.length)));
    else act[step]();
    await settle();
    trace.push(state());
  }
  writing.inFlight?.resolve();
  await leadership.stop();
  return { trace, reads: reads.length, readies, slept: clock.slept, campaign };
}

describe('WriterLeadership', () => {
  it.each([
    { name: 'a follower never writes', steps: ['advance 60000'], trace: ['follower stops'], reads: 0, readies: 0, slept: [] },
    {
      name: 'a new leader writes once it has read what the cluster holds',
      steps: ['win', 'read ok'],
      trace: ['leader read 1', 'leader writes read 1'],
      reads: 1,
      readies: 1,
      slept: [],
    },
    {
      name: 'a refused read is retried after 200 ms, doubling',
      steps: ['win', 'read refused', 'advance 199', 'advance 1', 'read refused', 'advance 400', 'read refused', 'advance 800', 'read ok'],
      trace: [
        'leader read 1',
        'leader read 1',
        'leader read 1',
        'leader read 2',
        'leader read 2',
        'leader read 3',
        'leader read 3',
        'leader read 4',
        'leader writes read 4',
      ],
      reads: 4,
      readies: 1,
      slept: [200, 400, 800],
    },
    {
      name: 'the back-off stops doubling at 10 s',
      steps: ['win', ...[200, 400, 800, 1600, 3200, 6400, 10_000, 10_000].flatMap((ms) => ['read refused', `advance ${ms}`]), 'read ok'],
      trace: ['leader read 1', ...[1, 2, 3, 4, 5, 6, 7, 8].flatMap((n) => [`leader read ${n}`, `leader read ${n + 1}`]), 'leader writes read 9'],
      reads: 9,
      readies: 1,
      slept: [200, 400, 800, 1600, 3200, 6400, 10_000, 10_000],
    },
    {
      name: 'losing the Lease stops writes at once, and the step-down waits for the write in flight',
      steps: ['win', 'read ok', 'write', 'lose', 'write done'],
      trace: ['leader read 1', 'leader writes read 1', 'leader writes read 1', 'follower stops handing over read 1', 'follower stops read 1'],
      reads: 1,
      readies: 1,
      slept: [],
    },
    {
      name: 'a lost Lease ends the retries',
      steps: ['win', 'read refused', 'lose', 'advance 200', 'advance 60000'],
      trace: ['leader read 1', 'leader read 1', 'follower stops read 1', 'follower stops read 1', 'follower stops read 1'],
      reads: 1,
      readies: 0,
      slept: [200],
    },
    {
      name: 'a leader that wins again reads again',
      steps: ['win', 'read ok', 'lose', 'win', 'read ok'],
      trace: ['leader read 1', 'leader writes read 1', 'follower stops read 1', 'leader read 2', 'leader writes read 2'],
      reads: 2,
      readies: 2,
      slept: [],
    },
    {
      name: 'stopping: writes stop at once, the back-off ends without waiting, the leader steps down',
      steps: ['win', 'read ok', 'write', 'stop', 'write done'],
      trace: ['leader read 1', 'leader writes read 1', 'leader writes read 1', 'follower stops read 1', 'follower stops read 1'],
      reads: 1,
      readies: 1,
      slept: [],
    },
    {
      name: 'stopping during the back-off reads no more',
      steps: ['win', 'read refused', 'stop', 'advance 60000'],
      trace: ['leader read 1', 'leader read 1', 'follower stops read 1', 'follower stops read 1'],
      reads: 1,
      readies: 0,
      slept: [200],
    },
  ])('$name', async ({ steps, trace, reads, readies, slept }) => {
    const r = await run(steps);
    expect({ trace: r.trace, reads: r.reads, readies: r.readies, slept: r.slept }).toEqual({ trace, reads, readies, slept });
    expect(r.campaign).toEqual({ started: true, stopped: true });
  });

  it.each([
    { name: 'the renew deadline given', renewDeadlineMs: 700, timeoutMs: 700 },
    { name: "client-go's renew deadline by default", renewDeadlineMs: undefined, timeoutMs: LEASE_DEFAULTS.renewDeadlineMs },
  ])('report writes time out by $name', ({ renewDeadlineMs, timeoutMs }) => {
    expect(reportWriteTimeoutMs(renewDeadlineMs)).toBe(timeoutMs);
  });
});
