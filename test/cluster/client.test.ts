import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiError, connectKube } from '../../src/k8s/client.js';
import { FakeApiServer } from '../support/fake-apiserver.js';

describe('connectKube', () => {
  let fake: FakeApiServer;
  let dir: string;
  beforeAll(async () => {
    fake = await FakeApiServer.start();
    dir = await mkdtemp(path.join(tmpdir(), 'portcullis-kubeconfig-'));
  });
  afterAll(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });
  const lastUser = () => fake.requests.at(-1)?.user;

  const kubeconfig = (user: Record<string, unknown>, _context: Record<string, unknown> = {}) =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: fake.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user }],
      contexts: [
        { name: 'main', context: { cluster: 'c', user: 'u', namespace: 'team-a' } },
        { name: 'other', context: { cluster: 'c', user: 'u' } },
      ],
      'current-context': 'main',
    });

  it('sends a token, and takes the namespace from the context', async () => {
    const c = await connectKube({ kubeconfig: kubeconfig({ token: 'abc' }) });
    await c.request('GET', '/api/v1/namespaces');
    expect(lastUser()).toBe('abc');
    expect([c.server, c.namespace]).toEqual([fake.url, 'team-a']);
    expect((await connectKube({ kubeconfig: kubeconfig({ token: 'abc' }), context: 'other' })).namespace).toBe('default');
  });

  it('reads $KUBECONFIG and a tokenFile relative to it', async () => {
    await writeFile(path.join(dir, 'token'), 'from-file\n');
    await writeFile(path.join(dir, 'config'), kubeconfig({ tokenFile: 'token' }));
    const c = await connectKube({ env: { KUBECONFIG: path.join(dir, 'config') } });
    await c.request('GET', '/api/v1/nodes');
    expect(lastUser()).toBe('from-file');
  });

  it('runs exec credential plugins through client-node', async () => {
    const plugin = path.join(dir, 'plugin.sh');
    await writeFile(plugin, `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec"}}'\n`, {
      mode: 0o755,
    });
    const c = await connectKube({
      kubeconfig: kubeconfig({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' } }),
    });
    await c.request('GET', '/api/v1/nodes');
    expect(lastUser()).toBe('from-exec');
  });

  it('names a missing context', async () => {
    await expect(connectKube({ kubeconfig: kubeconfig({}), context: 'nope' })).rejects.toThrow('kubeconfig has no context "nope"');
  });

  it('turns error answers into ApiError with the Status reason', async () => {
    const c = await connectKube({ kubeconfig: kubeconfig({}) });
    const err = (await c.request('GET', '/api/v1/namespaces/none').catch((e) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect([err.status, err.reason, err.message]).toEqual([404, 'NotFound', 'namespaces "none" not found']);
  });
});
