import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Informer, type ChangeType } from '../../src/cluster/informer.js';
import { strip, type Cached } from '../../src/cluster/strip.js';
import { connectKube, type KubeClient } from '../../src/k8s/client.js';
import { NAMESPACES, PODS, SERVICES } from '../../src/k8s/resources.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { ManualClock } from '../support/clock.js';
import { waitFor } from '../support/wait.js';

const ns = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
const svc = (namespace: string, name: string, nodePort?: number) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace, name, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(2000) } },
  spec: {
    type: nodePort ? 'NodePort' : 'ClusterIP',
    ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort }],
    selector: { app: name },
  },
  status: { loadBalancer: {} },
});

describe('informer', () => {
  let fake: FakeApiServer;
  let client: KubeClient;
  const informers: Informer<Cached>[] = [];
  beforeEach(async () => {
    fake = await FakeApiServer.start();
    client = await connectKube({ kubeconfig: fake.kubeconfig() });
  });
  afterEach(async () => {
    await Promise.all(informers.splice(0).map((i) => i.stopped()));
    await fake.close();
  });

  function informer(type = SERVICES, extra: Partial<ConstructorParameters<typeof Informer<Cached>>[0]> = {}) {
    const events: { type: ChangeType; key: string }[] = [];
    const inf = new Informer<Cached>({
      client,
      type,
      strip: (raw) => strip(type, raw),
      onChange: (t, o) => events.push({ type: t, key: `${o.metadata.namespace}/${o.metadata.name}` }),
      pageSize: 2,
      retryDelayMs: 20,
      ...extra,
    });
    informers.push(inf);
    return { inf: inf.start(), events };
  }

  it('lists every page with limit/continue and keeps only the stripped fields', async () => {
    for (let i = 0; i < 5; i++) fake.put(svc('a', `s${i}`, 30000 + i));
    const { inf, events } = informer();
    await inf.whenSynced();
    expect(inf.size).toBe(5);
    expect(events.filter((e) => e.type === 'add')).toHaveLength(5);
    const lists = fake.requests.filter((r) => r.path.startsWith('/api/v1/services?') && !r.path.includes('watch'));
    expect(lists).toHaveLength(3);
    expect(lists[1].path).toContain('continue=');
    expect(inf.get('a', 's1')).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's1', namespace: 'a', uid: expect.any(String), resourceVersion: expect.any(String) },
      spec: { type: 'NodePort', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30001 }] },
    });
  });

  it('follows watch events: add, modify, delete', async () => {
    const { inf, events } = informer();
    await inf.whenSynced();
    await waitFor('watch open', () => fake.openWatches === 1);
    fake.put(svc('a', 'x', 30001));
    fake.put(svc('a', 'x', 30002));
    fake.remove('v1', 'Service', 'a', 'x');
    fake.put(svc('b', 'y'));
    await waitFor('events', () => events.length === 4);
    expect(events).toEqual([
      { type: 'add', key: 'a/x' },
      { type: 'update', key: 'a/x' },
      { type: 'delete', key: 'a/x' },
      { type: 'add', key: 'b/y' },
    ]);
    expect(inf.get('a', 'x')).toBeUndefined();
    expect(inf.size).toBe(1);
  });

  it('resumes a dropped watch from the last version without listing again', async () => {
    fake.put(svc('a', 'keep'));
    const { inf, events } = informer();
    await inf.whenSynced();
    await waitFor('watch open', () => fake.openWatches === 1);
    fake.dropWatches();
    fake.put(svc('a', 'new', 30005));
    fake.remove('v1', 'Service', 'a', 'keep');
    // Events arrive in order: once a later change is seen, a duplicate would have been seen too.
    fake.put(svc('a', 'marker'));
    await waitFor('events after reconnect', () => events.at(-1)?.key === 'a/marker');
    expect(events).toEqual([
      { type: 'add', key: 'a/keep' },
      { type: 'add', key: 'a/new' },
      { type: 'delete', key: 'a/keep' },
      { type: 'add', key: 'a/marker' },
    ]);
    expect(inf.stats.lists).toBe(1);
    expect(inf.stats.watches).toBeGreaterThanOrEqual(2);
  });

  it('lists again on 410 Gone and reports each change exactly once', async () => {
    fake.put(svc('a', 'same'));
    fake.put(svc('a', 'changed', 30001));
    fake.put(svc('a', 'gone'));
    const { inf, events } = informer();
    await inf.whenSynced();
    await waitFor('watch open', () => fake.openWatches === 1);
    fake.dropWatches();
    // While disconnected: changes, then etcd compaction makes the informer's version too old.
    fake.put(svc('a', 'changed', 30002));
    fake.remove('v1', 'Service', 'a', 'gone');
    fake.put(svc('b', 'added'));
    fake.compact();
    await waitFor('relist', () => inf.stats.expired === 1 && inf.stats.lists === 2);
    await waitFor('events', () => events.length === 6);
    expect(events.slice(3).sort((x, y) => x.key.localeCompare(y.key))).toEqual([
      { type: 'update', key: 'a/changed' },
      { type: 'delete', key: 'a/gone' },
      { type: 'add', key: 'b/added' },
    ]);
    expect(inf.get('a', 'changed')?.spec).toMatchObject({ ports: [{ nodePort: 30002 }] });
    // And the new watch works.
    fake.put(svc('c', 'later'));
    await waitFor('later', () => inf.get('c', 'later'));
  });

  it.each([
    { name: 'with a bookmark it resumes where the bookmark left it', bookmark: true, lists: 1 },
    { name: 'without one its version is compacted away and it lists again', bookmark: false, lists: 2 },
  ])('a namespace watch that sees no events of its own: $name', async ({ bookmark, lists }) => {
    await fake.close();
    fake = await FakeApiServer.start({ historySize: 3 });
    client = await connectKube({ kubeconfig: fake.kubeconfig() });
    fake.put(svc('a', 'mine'));
    const { inf } = informer(SERVICES, { namespace: 'a' });
    await inf.whenSynced();
    await waitFor('watch open', () => fake.openWatches === 1);
    // Other namespaces move the version on; the history keeps only the last 3 events.
    for (let i = 0; i < 5; i++) fake.put(svc('b', `other-${i}`));
    if (bookmark) {
      const seen = inf.stats.events;
      fake.bookmark();
      await waitFor('bookmark received', () => inf.stats.events > seen);
    }
    fake.dropWatches();
    fake.put(svc('a', 'after'));
    await waitFor('change after reconnect', () => inf.get('a', 'after'));
    expect(inf.stats.lists).toBe(lists);
    expect(inf.size).toBe(2);
  });

  it('restarts a list whose continue token expired mid-way', async () => {
    for (let i = 0; i < 6; i++) fake.put(svc('a', `s${i}`));
    let pages = 0;
    const original = client.request.bind(client);
    const slow: KubeClient = {
      ...client,
      async request(method, path, body) {
        const r = await original(method, path, body);
        // After the first page: a change and a compaction invalidate the snapshot.
        if (path.includes('limit=') && pages++ === 0) {
          fake.put(svc('a', 's9'));
          fake.compact();
        }
        return r as never;
      },
    };
    const { inf } = informer(SERVICES, { client: slow });
    await inf.whenSynced();
    expect(inf.size).toBe(7);
    expect(inf.stats.expired).toBe(1);
  });

  it('lists in one piece when the continue token expires again after a restart', async () => {
    for (let i = 0; i < 6; i++) fake.put(svc('a', `s${i}`));
    const original = client.request.bind(client);
    const compacting: KubeClient = {
      ...client,
      async request(method, path, body) {
        const r = await original(method, path, body);
        // Every paged answer is followed by a write and a compaction: no continue token survives.
        if (path.includes('limit=')) {
          fake.put(ns(`n${Math.random()}`));
          fake.compact();
        }
        return r as never;
      },
    };
    const { inf } = informer(SERVICES, { client: compacting });
    await inf.whenSynced();
    expect(inf.size).toBe(6);
    expect(inf.stats.expired).toBe(2);
    const lists = fake.requests
      .filter((r) => r.path.startsWith('/api/v1/services') && !r.path.includes('watch='))
      .map((r) => r.path.replace(/continue=[^&]+/, 'continue=T'));
    expect(lists).toEqual([
      '/api/v1/services?limit=2',
      '/api/v1/services?limit=2&continue=T',
      '/api/v1/services?limit=2',
      '/api/v1/services?limit=2&continue=T',
      '/api/v1/services',
    ]);
  });

  it('backs off when every watch ends at once with no events, instead of asking again in a tight loop', async () => {
    let watches = 0;
    const ending: KubeClient = {
      ...client,
      async watch() {
        watches++;
      },
    };
    const clock = new ManualClock();
    const { inf } = informer(SERVICES, { client: ending, clock });
    await inf.whenSynced();
    // One attempt per back-off, each back-off twice the last: 20, 40, 80, 160 ms.
    for (const [i, delay] of [20, 40, 80, 160].entries()) {
      await clock.whenWaiting(1, `back-off ${i + 1}`);
      expect(watches).toBe(i + 1);
      clock.advance(delay);
    }
    await clock.whenWaiting(1, 'back-off 5');
    expect(watches).toBe(5);
    expect(clock.slept).toEqual([20, 40, 80, 160, 320]);
    expect(inf.lastError?.message).toMatch(/very short watch/);
  });

  it('drops a watch that outlives its timeout (a dead connection) and resumes from its version', async () => {
    fake.put(svc('a', 'x'));
    const { inf } = informer(SERVICES, { watchTimeoutSeconds: 1 });
    await inf.whenSynced();
    // The watch request is never answered, as over a connection whose peer vanished.
    fake.stall = (r) => r.verb === 'watch';
    fake.dropWatches();
    await waitFor('watchdog fired', () => /still open/.test(inf.lastError?.message ?? ''));
    fake.stall = () => false;
    fake.put(svc('a', 'y'));
    await waitFor('resumed', () => inf.get('a', 'y'));
    expect(inf.stats.lists).toBe(1);
  });

  it('drops pods controlled by a workload at the door and keeps standalone ones', async () => {
    fake.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { namespace: 'a', name: 'solo' },
      spec: { containers: [{ name: 'c', image: 'i', env: [{ name: 'SECRET', value: 's' }], ports: [{ containerPort: 80, hostPort: 8080 }] }] },
    });
    fake.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { namespace: 'a', name: 'web-abc', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', controller: true }] },
      spec: { containers: [{ name: 'c', image: 'i' }] },
    });
    fake.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { namespace: 'kube-system', name: 'etcd-node1', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'node1', controller: true }] },
      spec: { hostNetwork: true, containers: [{ name: 'etcd', ports: [{ containerPort: 2379 }] }] },
    });
    const { inf } = informer(PODS);
    await inf.whenSynced();
    expect([...inf.values()].map((p) => p.metadata.name).sort()).toEqual(['etcd-node1', 'solo']);
    expect(inf.get('a', 'solo')?.spec).toEqual({ containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80, hostPort: 8080 }] }] });
  });

  it('treats a resource the server does not serve as empty and synced', async () => {
    await fake.close();
    fake = await FakeApiServer.start({ resources: [] });
    client = await connectKube({ kubeconfig: fake.kubeconfig() });
    const { inf } = informer(NAMESPACES, { missingRetryMs: 60_000 });
    await inf.whenSynced();
    expect(inf.missing).toBe(true);
    expect(inf.size).toBe(0);
  });

  it('keeps Namespace labels', async () => {
    fake.put(ns('team-a', { tenant: 'a' }));
    const { inf } = informer(NAMESPACES);
    await inf.whenSynced();
    expect(inf.get(null, 'team-a')?.metadata.labels).toEqual({ tenant: 'a' });
  });
});
