// Leader election on its own, against the test API server's Leases, on a ManualClock: each
// attempt runs when the test moves time by a retry period, and the test waits for the elector
// to be asleep again (an event), so lease expiry is judged at exact times.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { LeaderElector } from '../../src/controller/leader.js';
import { connectKube, type KubeClient } from '../../src/k8s/client.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { ManualClock } from '../support/clock.js';
import { waitFor } from '../support/wait.js';

type Obj = Record<string, any>;
const LEASE = ['coordination.k8s.io/v1', 'Lease', 'portcullis-system', 'portcullis-controller'] as const;
const RETRY_MS = 2_000;
// A follower's retry is jittered by up to 20% (client-go's JitterUntil factor 1.2).
const FOLLOWER_RETRY_MS = RETRY_MS * 1.2;
const START = Date.parse('2026-01-01T00:00:00Z');

const lease = (spec: Obj): Obj => ({ apiVersion: LEASE[0], kind: LEASE[1], metadata: { namespace: LEASE[2], name: LEASE[3] }, spec });

interface Row {
  name: string;
  /** The Lease before the elector starts; none when absent. */
  before?: Obj;
  /** Milliseconds to move time by, each at least one retry period (one attempt each); `renew` makes the other holder renew first. */
  steps: (number | 'renew')[];
  /** isLeader() after the first attempt and after each step that moves time. */
  leading: boolean[];
  after: Obj;
}

describe('LeaderElector', () => {
  let fake: FakeApiServer;
  let clock: ManualClock;
  const stops: (() => Promise<void>)[] = [];
  beforeEach(async () => {
    fake = await FakeApiServer.start();
    clock = new ManualClock({ start: START });
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    await fake.close();
  });

  async function start(identity: string) {
    const client = await connectKube({ kubeconfig: fake.kubeconfig({ token: identity }) });
    const events: string[] = [];
    const elector = new LeaderElector({
      client,
      namespace: LEASE[2],
      name: LEASE[3],
      identity,
      retryPeriodMs: RETRY_MS,
      clock,
      onStartedLeading: () => events.push('started'),
      onStoppedLeading: () => void events.push('stopped'),
    });
    elector.start();
    stops.push(() => elector.stop());
    await clock.whenWaiting(1, 'the first attempt');
    return { elector, events };
  }

  it.each<Row>([
    {
      name: 'no Lease: it creates one and leads',
      steps: [],
      leading: [true],
      after: {
        holderIdentity: 'a',
        leaseDurationSeconds: 15,
        leaseTransitions: 0,
        acquireTime: '2026-01-01T00:00:00.000000Z',
        renewTime: '2026-01-01T00:00:00.000000Z',
      },
    },
    {
      name: 'a renewal moves renewTime and keeps acquireTime and the transitions',
      steps: [RETRY_MS],
      leading: [true, true],
      after: { holderIdentity: 'a', leaseTransitions: 0, acquireTime: '2026-01-01T00:00:00.000000Z', renewTime: '2026-01-01T00:00:02.000000Z' },
    },
    {
      name: 'a released Lease (no holder) is taken at once, counting a transition',
      before: { holderIdentity: '', leaseDurationSeconds: 1, renewTime: '2026-01-01T00:00:00.000000Z', leaseTransitions: 3 },
      steps: [],
      leading: [true],
      after: { holderIdentity: 'a', leaseTransitions: 4, leaseDurationSeconds: 15 },
    },
    {
      name: 'a Lease another replica keeps renewing is never taken',
      before: { holderIdentity: 'b', leaseDurationSeconds: 15, renewTime: '2025-12-31T00:00:00.000000Z', leaseTransitions: 1 },
      steps: ['renew', 10_000, 'renew', 10_000, 'renew', 10_000],
      leading: [false, false, false, false],
      after: { holderIdentity: 'b', leaseTransitions: 1 },
    },
    {
      // Its renewTime (a day old by the writer's clock) does not count: only how long this
      // replica has seen it unchanged, so clock skew between nodes cannot cause a takeover.
      name: "a Lease whose holder stopped renewing is taken a whole lease duration after it was first seen, by this replica's clock",
      before: { holderIdentity: 'b', leaseDurationSeconds: 15, renewTime: '2025-12-31T00:00:00.000000Z', leaseTransitions: 1 },
      // The attempt at 14.999 s finds it one moment short; the next (a jittered retry later) takes it.
      steps: [14_999, FOLLOWER_RETRY_MS],
      leading: [false, false, true],
      after: { holderIdentity: 'a', leaseTransitions: 2, leaseDurationSeconds: 15, acquireTime: '2026-01-01T00:00:17.399000Z' },
    },
  ])('$name', async ({ before, steps, leading, after }) => {
    if (before) fake.put(lease(before));
    const { elector } = await start('a');
    const seen = [elector.isLeader()];
    for (const step of steps) {
      if (step === 'renew') {
        const current = fake.get(...LEASE)!;
        fake.put({ ...current, spec: { ...current.spec, renewTime: new Date(clock.now()).toISOString() } });
        continue;
      }
      clock.advance(step);
      await clock.whenWaiting(1, 'the next attempt');
      seen.push(elector.isLeader());
    }
    expect([seen, fake.get(...LEASE)?.spec]).toEqual([leading, expect.objectContaining(after)]);
  });

  it('a leader that cannot renew by its renew deadline stops leading; its stop hook runs once', async () => {
    const { elector, events } = await start('a');
    fake.forbid = (r) => r.resource === 'leases';
    clock.advance(RETRY_MS);
    await clock.whenWaiting(1, 'a refused renewal');
    expect([elector.isLeader(), events]).toEqual([true, ['started']]);
    // Renewed at 0; the deadline (10 s) has passed at the attempt at 10 s.
    for (let t = 2 * RETRY_MS; t <= 10_000; t += RETRY_MS) {
      clock.advance(RETRY_MS);
      await clock.whenWaiting(1, `the attempt at ${t} ms`);
    }
    expect([elector.isLeader(), events]).toEqual([false, ['started', 'stopped']]);
  });

  it('stop releases the Lease it holds, so another replica may take it at once', async () => {
    const { elector, events } = await start('a');
    await elector.stop();
    expect([events, fake.get(...LEASE)?.spec.holderIdentity]).toEqual([['started', 'stopped'], '']);
  });

  it('a stop that comes while the Lease is being taken hands it back: it never led', async () => {
    const client = await connectKube({ kubeconfig: fake.kubeconfig({ token: 'a' }) });
    let letThrough!: () => void;
    const held = new Promise<void>((resolve) => (letThrough = resolve));
    const gated: KubeClient = {
      ...client,
      request: (method, p, body, o) => (method === 'POST' ? held.then(() => client.request(method, p, body, o)) : client.request(method, p, body, o)) as never,
    };
    const events: string[] = [];
    const elector = new LeaderElector({
      client: gated,
      namespace: LEASE[2],
      name: LEASE[3],
      identity: 'a',
      clock,
      onStartedLeading: () => events.push('started'),
      onStoppedLeading: () => void events.push('stopped'),
    });
    elector.start();
    await waitFor('the create sent', () => fake.requests.some((r) => r.method === 'GET' && r.path.includes('/leases/')));
    const stopped = elector.stop();
    letThrough();
    await stopped;
    expect([events, fake.get(...LEASE)?.spec.holderIdentity]).toEqual([[], '']);
  });

  it('stop of a follower leaves the holder as it is', async () => {
    fake.put(lease({ holderIdentity: 'b', leaseDurationSeconds: 15, renewTime: '2026-01-01T00:00:00.000000Z' }));
    const { elector, events } = await start('a');
    await elector.stop();
    expect([events, fake.get(...LEASE)?.spec.holderIdentity]).toEqual([[], 'b']);
  });

  it('a renew deadline not shorter than the lease duration is refused (it could lead past another replica taking over)', () => {
    expect(
      () =>
        new LeaderElector({
          client: {} as never,
          namespace: 'n',
          name: 'l',
          identity: 'a',
          leaseDurationMs: 10_000,
          renewDeadlineMs: 10_000,
          onStartedLeading: () => {},
          onStoppedLeading: () => {},
        }),
    ).toThrow('renewDeadline must be shorter than the lease duration');
  });
});
