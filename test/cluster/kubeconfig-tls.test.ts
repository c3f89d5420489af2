// Kubeconfigs as kind, kubeadm and `kubectl config` write them, against the test API server
// over HTTPS with a CA made at test time: CA data or file, client certificates, tokens,
// insecure-skip-tls-verify, several files in $KUBECONFIG, and the in-cluster service account.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';
import { stringify } from 'yaml';
import { connectKube } from '../../src/k8s/client.js';
import { makeCa, servingCert, type Pem } from '../webhook/harness.js';
import { FakeApiServer } from '../support/fake-apiserver.js';

async function clientCert(ca: Pem, cn: string): Promise<Pem> {
  const p = await generate(
    [
      { name: 'commonName', value: cn },
      { name: 'organizationName', value: 'system:masters' },
    ],
    {
      keyType: 'ec',
      algorithm: 'sha256',
      ca,
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'extKeyUsage', clientAuth: true },
      ],
    },
  );
  return { cert: p.cert, key: p.private };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('kubeconfig over HTTPS', () => {
  let fake: FakeApiServer;
  let ca: Pem;
  let admin: Pem;
  let dir: string;
  beforeAll(async () => {
    ca = await makeCa();
    const serving = await servingCert(ca);
    admin = await clientCert(ca, 'kind-admin');
    fake = await FakeApiServer.start({ tls: { ...serving, ca: ca.cert, clientCa: ca.cert } });
    dir = await mkdtemp(path.join(tmpdir(), 'portcullis-kubeconfig-tls-'));
  });
  afterAll(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });
  const lastUser = () => fake.requests.at(-1)?.user;

  /** What `kind create cluster` writes: YAML, base64 CA and client certificate, a kind-NAME context. */
  const kindConfig = () =>
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      preferences: {},
      clusters: [{ name: 'kind-dev', cluster: { server: fake.url, 'certificate-authority-data': b64(ca.cert) } }],
      users: [{ name: 'kind-dev', user: { 'client-certificate-data': b64(admin.cert), 'client-key-data': b64(admin.key) } }],
      contexts: [{ name: 'kind-dev', context: { cluster: 'kind-dev', user: 'kind-dev' } }],
      'current-context': 'kind-dev',
    });

  it('connects with a kind kubeconfig: CA data and a client certificate', async () => {
    const c = await connectKube({ kubeconfig: kindConfig() });
    await c.request('GET', '/api/v1/namespaces');
    expect(lastUser()).toBe('cert:kind-admin');
    expect([c.server, c.namespace]).toEqual([fake.url, 'default']);
  });

  it('reads CA, certificate and key files relative to the kubeconfig file, as kubectl config set-cluster/set-credentials write them', async () => {
    const sub = path.join(dir, 'files');
    await mkdir(sub, { recursive: true });
    await writeFile(path.join(sub, 'ca.crt'), ca.cert);
    await writeFile(path.join(sub, 'admin.crt'), admin.cert);
    await writeFile(path.join(sub, 'admin.key'), admin.key);
    const file = path.join(sub, 'config');
    await writeFile(
      file,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'c',
            cluster: {
              server: fake.url,
              'certificate-authority': 'ca.crt',
              extensions: [{ name: 'cluster_info', extension: { provider: 'minikube.sigs.k8s.io' } }],
            },
          },
        ],
        users: [{ name: 'u', user: { 'client-certificate': 'admin.crt', 'client-key': 'admin.key' } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'u', namespace: 'team-a' } }],
        'current-context': 'c',
      }),
    );
    const cwd = process.cwd();
    const c = await connectKube({ env: { KUBECONFIG: path.relative(cwd, file) } });
    await c.request('GET', '/api/v1/nodes');
    expect([lastUser(), c.namespace]).toEqual(['cert:kind-admin', 'team-a']);
  });

  it('sends a token over HTTPS, and insecure-skip-tls-verify skips the CA check', async () => {
    const config = (cluster: Record<string, unknown>) =>
      JSON.stringify({
        clusters: [{ name: 'c', cluster: { server: fake.url, ...cluster } }],
        users: [{ name: 'u', user: { token: 'tok' } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'c',
      });
    const c = await connectKube({ kubeconfig: config({ 'insecure-skip-tls-verify': true }) });
    await c.request('GET', '/api/v1/nodes');
    expect(lastUser()).toBe('tok');
    // Without the CA (and without skipping), the server's certificate is refused.
    const untrusted = await connectKube({ kubeconfig: config({}) });
    await expect(untrusted.request('GET', '/api/v1/nodes')).rejects.toThrow(/certificate/);
  });

  it('merges the files of $KUBECONFIG like kubectl: first current-context and first entry of a name win, missing files are skipped', async () => {
    const a = path.join(dir, 'a.yaml');
    const bFile = path.join(dir, 'b.yaml');
    await writeFile(
      a,
      stringify({
        clusters: [{ name: 'prod', cluster: { server: fake.url, 'certificate-authority-data': b64(ca.cert) } }],
        users: [{ name: 'shared', user: { token: 'from-a' } }],
        contexts: [{ name: 'prod', context: { cluster: 'prod', user: 'shared', namespace: 'prod-ns' } }],
        'current-context': 'prod',
      }),
    );
    await writeFile(
      bFile,
      stringify({
        clusters: [{ name: 'dev', cluster: { server: fake.url, 'certificate-authority-data': b64(ca.cert) } }],
        users: [
          { name: 'shared', user: { token: 'from-b' } },
          { name: 'dev', user: { 'client-certificate-data': b64(admin.cert), 'client-key-data': b64(admin.key) } },
        ],
        contexts: [
          { name: 'dev', context: { cluster: 'dev', user: 'dev', namespace: 'dev-ns' } },
          { name: 'dev-shared', context: { cluster: 'dev', user: 'shared' } },
        ],
        'current-context': 'dev',
      }),
    );
    const env = { KUBECONFIG: [path.join(dir, 'missing.yaml'), a, bFile].join(path.delimiter) };
    const first = await connectKube({ env });
    await first.request('GET', '/api/v1/nodes');
    expect([lastUser(), first.namespace]).toEqual(['from-a', 'prod-ns']);
    const dev = await connectKube({ env, context: 'dev' });
    await dev.request('GET', '/api/v1/nodes');
    expect([lastUser(), dev.namespace]).toEqual(['cert:kind-admin', 'dev-ns']);
    const shared = await connectKube({ env, context: 'dev-shared' });
    await shared.request('GET', '/api/v1/nodes');
    expect(lastUser()).toBe('from-a');
    await expect(connectKube({ env, context: 'nope' })).rejects.toThrow('kubeconfig has no context "nope"');
  });

  it('uses the in-cluster service account when there is no kubeconfig', async () => {
    const sa = path.join(dir, 'serviceaccount');
    await mkdir(sa, { recursive: true });
    await writeFile(path.join(sa, 'token'), 'sa-token\n');
    await writeFile(path.join(sa, 'ca.crt'), ca.cert);
    await writeFile(path.join(sa, 'namespace'), 'portcullis-system');
    const port = new URL(fake.url).port;
    const env = { HOME: path.join(dir, 'no-home'), KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port };
    const c = await connectKube({ env, serviceAccountDir: sa });
    await c.request('GET', '/api/v1/nodes');
    expect([lastUser(), c.server, c.namespace]).toEqual(['sa-token', `https://127.0.0.1:${port}`, 'portcullis-system']);
  });

  it('says what is missing without a kubeconfig or a cluster', async () => {
    await expect(connectKube({ env: { HOME: path.join(dir, 'no-home') } })).rejects.toThrow(/no kubeconfig .* and not running in a cluster/);
  });
});
