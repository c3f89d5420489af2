// The test API server is only useful if it answers like the real one: these pin its wire
// format (status codes, Status bodies, list metadata, watch event lines).
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FakeApiServer } from '../support/fake-apiserver.js';

describe('test API server wire format', () => {
  let fake: FakeApiServer;
  beforeEach(async () => {
    fake = await FakeApiServer.start({ forbid: (r) => r.resource === 'nodes' });
  });
  afterEach(async () => {
    await fake.close();
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(fake.url + path, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' },
    });
    return { status: r.status, body: await r.json() };
  };
  const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'ns' }, spec: { holderIdentity: 'a' } };

  it.each([
    {
      name: 'forbidden',
      method: 'GET',
      path: '/api/v1/nodes',
      status: 403,
      reason: 'Forbidden',
      message: 'nodes is forbidden: User "system:serviceaccount:test:anonymous" cannot list resource "nodes" in API group "" at the cluster scope',
    },
    {
      name: 'not served',
      method: 'GET',
      path: '/apis/example.com/v1/widgets',
      status: 404,
      reason: 'NotFound',
      message: 'the server could not find the requested resource',
    },
    {
      name: 'missing object',
      method: 'GET',
      path: '/apis/coordination.k8s.io/v1/namespaces/ns/leases/none',
      status: 404,
      reason: 'NotFound',
      message: 'leases.coordination.k8s.io "none" not found',
    },
  ])('$name: $status with a Status body', async ({ method, path, status, reason, message }) => {
    expect(await call(method, path)).toEqual({
      status,
      body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code: status },
    });
  });

  it('creates once (409 AlreadyExists after), updates with optimistic concurrency (409 Conflict on a stale version)', async () => {
    const created = await call('POST', '/apis/coordination.k8s.io/v1/namespaces/ns/leases', lease);
    expect(created.status).toBe(201);
    expect((await call('POST', '/apis/coordination.k8s.io/v1/namespaces/ns/leases', lease)).body).toMatchObject({ code: 409, reason: 'AlreadyExists' });
    const rv = created.body.metadata.resourceVersion;
    const updated = await call('PUT', '/apis/coordination.k8s.io/v1/namespaces/ns/leases/l', {
      ...lease,
      metadata: { ...lease.metadata, resourceVersion: rv },
      spec: { holderIdentity: 'b' },
    });
    expect([updated.status, updated.body.spec.holderIdentity, Number(updated.body.metadata.resourceVersion) > Number(rv)]).toEqual([200, 'b', true]);
    const stale = await call('PUT', '/apis/coordination.k8s.io/v1/namespaces/ns/leases/l', { ...lease, metadata: { ...lease.metadata, resourceVersion: rv } });
    expect(stale).toEqual({
      status: 409,
      body: expect.objectContaining({
        reason: 'Conflict',
        message:
          'Operation cannot be fulfilled on leases.coordination.k8s.io "l": the object has been modified; please apply your changes to the latest version and try again',
      }),
    });
  });

  it("pages lists with limit/continue at the first page's version, and expires the token after compaction", async () => {
    for (let i = 0; i < 3; i++) fake.put({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'a', name: `s${i}` }, spec: {} });
    const first = await call('GET', '/api/v1/services?limit=2');
    expect(first.body).toMatchObject({
      kind: 'ServiceList',
      apiVersion: 'v1',
      metadata: { resourceVersion: fake.resourceVersion, continue: expect.any(String) },
    });
    expect(first.body.items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual(['s0', 's1']);
    const second = await call('GET', `/api/v1/services?limit=2&continue=${first.body.metadata.continue}`);
    expect(second.body.items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual(['s2']);
    expect(second.body.metadata.continue).toBeUndefined();
    fake.put({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'a', name: 's9' }, spec: {} });
    fake.compact();
    expect(await call('GET', `/api/v1/services?limit=2&continue=${first.body.metadata.continue}`)).toMatchObject({
      status: 410,
      body: { reason: 'Expired', code: 410 },
    });
  });

  it('streams watch events as JSON lines from a version, and answers a compacted version with an ERROR 410 event', async () => {
    fake.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } });
    const from = fake.resourceVersion;
    fake.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', labels: { x: 'y' } } });
    fake.remove('v1', 'Namespace', null, 'a');
    const res = await fetch(`${fake.url}/api/v1/namespaces?watch=1&resourceVersion=${from}&timeoutSeconds=1`);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.type, l.object.metadata.name, l.object.metadata.labels])).toEqual([
      ['MODIFIED', 'a', { x: 'y' }],
      ['DELETED', 'a', { x: 'y' }],
    ]);
    fake.compact();
    const gone = await fetch(`${fake.url}/api/v1/namespaces?watch=1&resourceVersion=${from}`);
    expect(gone.status).toBe(200);
    expect(JSON.parse((await gone.text()).trim())).toEqual({
      type: 'ERROR',
      object: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${from} (${Number(fake.resourceVersion) + 1})`,
        reason: 'Expired',
        code: 410,
      },
    });
  });
});
