// The one pager both cluster doors list with (scan --cluster and the controller's informers),
// against the test API server's real list protocol: limit/continue, the snapshot's
// resourceVersion, and 410 Expired for a continue token whose snapshot was compacted. The pager
// asks for a page only when the caller wants it, so a test compacts between pages by itself.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ApiError, connectKube, type KubeClient } from '../../src/k8s/client.js';
import { PageGate, pagedList, type ListPage } from '../../src/k8s/paged-list.js';
import { SERVICES } from '../../src/k8s/resources.js';
import { FakeApiServer } from '../support/fake-apiserver.js';

const svc = (namespace: string, name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace, name, labels },
  spec: { ports: [{ port: 80 }] },
});
const names = (page: ListPage) => page.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
const seven = Array.from({ length: 7 }, (_, i) => svc('a', `s${i}`));

describe('pagedList', () => {
  let fake: FakeApiServer;
  let client: KubeClient;
  beforeEach(async () => {
    fake = await FakeApiServer.start({ forbid: (r) => r.user === 'nobody' });
    client = await connectKube({ kubeconfig: fake.kubeconfig() });
  });
  afterEach(async () => {
    await fake.close();
  });

  /** The list requests made so far, a continue token shown as T. */
  const requests = () => fake.requests.filter((r) => r.path.startsWith('/api/v1/')).map((r) => r.path.replace(/continue=[^&]+/, 'continue=T'));

  interface Row {
    name: string;
    objects: Record<string, any>[];
    namespace?: string;
    labelSelector?: string;
    pageSize: number;
    /** After which pages (0 the first) a write and a compaction expire the list's continue token. */
    compactAfter: number[];
    requests: string[];
    pages: string[][];
    restarts: number[];
  }

  it.each<Row>([
    {
      name: 'a collection that fits is one page',
      objects: seven.slice(0, 2),
      pageSize: 3,
      compactAfter: [],
      requests: ['/api/v1/services?limit=3'],
      pages: [['a/s0', 'a/s1']],
      restarts: [],
    },
    {
      name: 'an empty collection is one empty page',
      objects: [],
      pageSize: 3,
      compactAfter: [],
      requests: ['/api/v1/services?limit=3'],
      pages: [[]],
      restarts: [],
    },
    {
      name: 'pages of pageSize until the server sends no continue token',
      objects: seven,
      pageSize: 3,
      compactAfter: [],
      requests: ['/api/v1/services?limit=3', '/api/v1/services?limit=3&continue=T', '/api/v1/services?limit=3&continue=T'],
      pages: [['a/s0', 'a/s1', 'a/s2'], ['a/s3', 'a/s4', 'a/s5'], ['a/s6']],
      restarts: [],
    },
    {
      name: 'one namespace and a label selector',
      objects: [...seven.slice(0, 2), svc('b', 'x', { app: 'x' }), svc('b', 'y'), svc('b', 'z', { app: 'x' })],
      namespace: 'b',
      labelSelector: 'app=x',
      pageSize: 1,
      compactAfter: [],
      requests: ['/api/v1/namespaces/b/services?limit=1&labelSelector=app%3Dx', '/api/v1/namespaces/b/services?limit=1&continue=T&labelSelector=app%3Dx'],
      pages: [['b/x'], ['b/z']],
      restarts: [],
    },
    {
      // The write before the compaction lands in the restarted list: it is read as it is now.
      name: 'an expired continue token restarts the list from the start, in pages',
      objects: seven.slice(0, 5),
      pageSize: 3,
      compactAfter: [0],
      requests: ['/api/v1/services?limit=3', '/api/v1/services?limit=3&continue=T', '/api/v1/services?limit=3', '/api/v1/services?limit=3&continue=T'],
      pages: [
        ['a/s0', 'a/s1', 'a/s2'],
        ['a/s0', 'a/s1', 'a/s2'],
        ['a/s3', 'a/s4', 'a/w0'],
      ],
      restarts: [1],
    },
    {
      name: 'a second expiry lists in one piece, which no compaction can interrupt',
      objects: seven.slice(0, 5),
      pageSize: 3,
      compactAfter: [0, 1],
      requests: [
        '/api/v1/services?limit=3',
        '/api/v1/services?limit=3&continue=T',
        '/api/v1/services?limit=3',
        '/api/v1/services?limit=3&continue=T',
        '/api/v1/services',
      ],
      pages: [
        ['a/s0', 'a/s1', 'a/s2'],
        ['a/s0', 'a/s1', 'a/s2'],
        ['a/s0', 'a/s1', 'a/s2', 'a/s3', 'a/s4', 'a/w0', 'a/w1'],
      ],
      restarts: [1, 2],
    },
  ])(
    '$name',
    async ({ objects, pageSize, namespace, labelSelector, compactAfter, requests: expectedRequests, pages: expectedPages, restarts: expectedRestarts }) => {
      for (const o of objects) fake.put(o);
      const restarts: number[] = [];
      const pages: ListPage[] = [];
      const seen: { names: string[]; resourceVersion: string }[] = [];
      const versions: string[] = [];
      for await (const page of pagedList(client, SERVICES, { namespace, labelSelector, pageSize, onRestart: (n) => restarts.push(n) })) {
        pages.push(page);
        seen.push({ names: names(page), resourceVersion: page.resourceVersion });
        versions.push(fake.resourceVersion);
        if (compactAfter.includes(pages.length - 1)) {
          // A write moves the version past the list's snapshot; compaction then forgets it.
          fake.put(svc('a', `w${compactAfter.indexOf(pages.length - 1)}`));
          fake.compact();
        }
      }
      expect(requests()).toEqual(expectedRequests);
      expect(seen.map((p) => p.names)).toEqual(expectedPages);
      expect(restarts).toEqual(expectedRestarts);
      // Every page carries its list's snapshot version: the server's version when it was read.
      expect(seen.map((p) => p.resourceVersion)).toEqual(versions);
      // A page's objects are let go once the next is asked for: a caller never holds two pages.
      expect(pages.map((p) => p.items.length)).toEqual(pages.map(() => 0));
    },
  );

  it.each([
    { name: 'forbidden', user: 'nobody', type: SERVICES, status: 403 },
    { name: 'not served', user: '', type: { ...SERVICES, group: 'example.com', resource: 'widgets' }, status: 404 },
  ])('throws any other failure, without a restart: $name', async ({ user, type, status }) => {
    const c = await connectKube({ kubeconfig: fake.kubeconfig({ token: user || undefined }) });
    const restarts: number[] = [];
    const err = await (async () => {
      for await (const page of pagedList(c, type, { onRestart: (n) => restarts.push(n) })) void page;
    })().catch((e: unknown) => e);
    expect([err instanceof ApiError && err.status, restarts, fake.requests.length]).toEqual([status, [], 1]);
  });

  it("holds a gate permit from a page's request until the next page is asked for, and gives it back when the caller stops early", async () => {
    for (const o of seven) fake.put(o);
    const gate = new PageGate(1);
    const a = pagedList(client, SERVICES, { pageSize: 3, gate });
    const b = pagedList(client, SERVICES, { pageSize: 3, gate });
    const page = async (next: Promise<IteratorResult<ListPage>>) => names((await next).value as ListPage);
    expect(await page(a.next())).toEqual(['a/s0', 'a/s1', 'a/s2']);
    // A holds the permit with its page: B waits for it. A asking for its next page gives the
    // permit to B, first in line, and waits in turn.
    // A holds the permit with its page: B waits for it. A request made after B's and answered
    // shows that B's has not been made.
    const bFirst = b.next();
    await client.request('GET', '/api/v1/namespaces');
    expect(requests()).toEqual(['/api/v1/services?limit=3', '/api/v1/namespaces']);
    // A asking for its next page gives the permit to B, first in line, and waits in turn.
    const aSecond = a.next();
    expect(await page(bFirst)).toEqual(['a/s0', 'a/s1', 'a/s2']);
    // B stops early: its permit goes to A.
    await b.return();
    expect(await page(aSecond)).toEqual(['a/s3', 'a/s4', 'a/s5']);
    expect(requests()).toEqual(['/api/v1/services?limit=3', '/api/v1/namespaces', '/api/v1/services?limit=3', '/api/v1/services?limit=3&continue=T']);
    await a.return();
  });
});
