// The one module that imports @kubernetes/client-node, and only for kubeconfigs that need it
// (exec plugins, OIDC, auth providers, proxies, basic auth). Kubeconfig files ($KUBECONFIG
// lists merged by kubectl's rules), tokens, client certificates, CAs and the in-cluster service
// account are read here directly. Requests go over
// node:http(s), so that lists are paged and watches are read as a stream of lines by our own
// code. Everything else takes a KubeClient as an argument.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Record<string, unknown>;
}

/** A failed API call with the Status the API server answered (403 Forbidden, 404, 409, 410 Expired…). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface KubeClient {
  /** Where the API server is, for messages. */
  readonly server: string;
  /** The kubeconfig context's namespace, or the pod's own namespace in a cluster; 'default' otherwise. */
  readonly namespace: string;
  /** One request; non-2xx answers reject with ApiError. `timeoutMs` overrides the client's per-request timeout. */
  request<T = Record<string, unknown>>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, options?: { timeoutMs?: number }): Promise<T>;
  /**
   * A watch: calls onEvent for each event line until the server ends the stream (resolves),
   * the connection fails (rejects) or `signal` aborts (resolves). A non-2xx answer rejects with ApiError.
   */
  watch(path: string, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void>;
}

export interface ConnectOptions {
  /** A kubeconfig as text (tests); otherwise $KUBECONFIG (merged when it lists several files), ~/.kube/config, or the in-cluster service account. */
  kubeconfig?: string;
  /** One kubeconfig file (--kubeconfig), read instead of $KUBECONFIG or ~/.kube/config; it must exist, as for kubectl. */
  kubeconfigFile?: string;
  context?: string;
  /** Use only the in-cluster service account. */
  inCluster?: boolean;
  /** Per-request timeout for non-watch calls. */
  requestTimeoutMs?: number;
  /** Where KUBECONFIG, HOME and KUBERNETES_SERVICE_HOST/PORT are read; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Where the service account's token, ca.crt and namespace are mounted (tests). */
  serviceAccountDir?: string;
}

function statusError(status: number, text: string): ApiError {
  try {
    const s = JSON.parse(text) as { reason?: string; message?: string };
    return new ApiError(status, s.reason ?? String(status), s.message ?? text);
  } catch {
    return new ApiError(status, String(status), text.slice(0, 300) || `HTTP ${status}`);
  }
}

/** How requests are authenticated: TLS options and headers, re-evaluated per request. */
interface Credentials {
  server: string;
  namespace: string;
  apply(options: https.RequestOptions): Promise<void>;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
// Bound service-account tokens are rotated by the kubelet (hourly by default); client-go
// re-reads the file every minute.
const TOKEN_REREAD_MS = 60_000;

function fileToken(file: string): () => Promise<string> {
  let cached: { token: string; at: number } | null = null;
  return async () => {
    if (!cached || Date.now() - cached.at > TOKEN_REREAD_MS) cached = { token: (await readFile(file, 'utf8')).trim(), at: Date.now() };
    return cached.token;
  };
}

function bearer(token: (() => Promise<string>) | null, base: https.AgentOptions, agent: http.Agent): Credentials['apply'] {
  return async (options) => {
    Object.assign(options, base, { agent });
    if (token) (options.headers as Record<string, string>).Authorization = `Bearer ${await token()}`;
  };
}

type Obj = Record<string, any>;

/** Fields of a kubeconfig that name files, resolved against the directory of the file that set them (kubectl's rule). */
const CLUSTER_FILES = ['certificate-authority'];
const USER_FILES = ['client-certificate', 'client-key', 'tokenFile'];

/**
 * The kubeconfig as kubectl reads it: the text given (tests), else every file of $KUBECONFIG
 * merged (missing files skipped; for a cluster, user or context named twice, and for
 * current-context, the first file that sets it wins), else ~/.kube/config. Relative file paths
 * are made absolute. Null when there is none (then the in-cluster service account applies).
 */
async function readKubeconfig(opts: ConnectOptions, env: NodeJS.ProcessEnv): Promise<Obj | null> {
  const { parse } = await import('yaml');
  const sources: { text: string; dir: string }[] = [];
  if (opts.kubeconfig !== undefined) {
    sources.push({ text: opts.kubeconfig, dir: process.cwd() });
  } else if (opts.kubeconfigFile !== undefined) {
    let text: string;
    try {
      text = await readFile(opts.kubeconfigFile, 'utf8');
    } catch (err) {
      throw new ApiError(0, 'NoConfig', `cannot read the kubeconfig ${opts.kubeconfigFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    sources.push({ text, dir: path.dirname(path.resolve(opts.kubeconfigFile)) });
  } else {
    const listed = (env.KUBECONFIG ?? '').split(path.delimiter).filter(Boolean);
    const files = listed.length > 0 ? listed : env.HOME ? [path.join(env.HOME, '.kube', 'config')] : [];
    for (const file of files) {
      if (!existsSync(file)) continue;
      sources.push({ text: await readFile(file, 'utf8'), dir: path.dirname(path.resolve(file)) });
    }
    if (sources.length === 0) {
      if (env.KUBERNETES_SERVICE_HOST) return null;
      throw new ApiError(
        0,
        'NoConfig',
        listed.length > 0
          ? `no kubeconfig file found at KUBECONFIG=${env.KUBECONFIG}`
          : 'no kubeconfig (~/.kube/config or $KUBECONFIG) and not running in a cluster (KUBERNETES_SERVICE_HOST is not set)',
      );
    }
  }
  const merged: Obj = { apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [], 'current-context': '' };
  const resolve = (entry: Obj | undefined, fields: string[], dir: string): Obj | undefined => {
    if (!entry || typeof entry !== 'object') return entry;
    const out = { ...entry };
    for (const f of fields) if (typeof out[f] === 'string' && out[f] !== '') out[f] = path.resolve(dir, out[f]);
    if (out.exec && typeof out.exec.command === 'string' && out.exec.command.includes('/'))
      out.exec = { ...out.exec, command: path.resolve(dir, out.exec.command) };
    return out;
  };
  for (const { text, dir } of sources) {
    const config = (parse(text) ?? {}) as Obj;
    if (!merged['current-context'] && typeof config['current-context'] === 'string') merged['current-context'] = config['current-context'];
    for (const [list, inner, fields] of [
      ['clusters', 'cluster', CLUSTER_FILES],
      ['users', 'user', USER_FILES],
      ['contexts', 'context', []],
    ] as const) {
      for (const item of (config[list] ?? []) as Obj[]) {
        if (!item?.name || (merged[list] as Obj[]).some((x) => x.name === item.name)) continue;
        (merged[list] as Obj[]).push({ ...item, [inner]: resolve(item[inner], fields as unknown as string[], dir) ?? {} });
      }
    }
  }
  return merged;
}

/** The in-cluster service account: the API server's Service address, its CA and a rotated token. */
async function inClusterCredentials(opts: ConnectOptions, env: NodeJS.ProcessEnv): Promise<Credentials> {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw new ApiError(0, 'NoCluster', 'not running in a cluster: KUBERNETES_SERVICE_HOST is not set');
  const dir = opts.serviceAccountDir ?? SA_DIR;
  const ca = await readFile(path.join(dir, 'ca.crt'));
  const namespace = existsSync(path.join(dir, 'namespace')) ? (await readFile(path.join(dir, 'namespace'), 'utf8')).trim() : 'default';
  const base = { ca };
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    namespace,
    apply: bearer(fileToken(path.join(dir, 'token')), base, new https.Agent({ keepAlive: true, ...base })),
  };
}

// Fields our own code handles; anything else in the chosen cluster or user (exec plugins,
// auth providers, proxy-url, basic auth, impersonation) goes through client-node.
const LIGHT_USER = new Set(['token', 'tokenFile', 'client-certificate', 'client-certificate-data', 'client-key', 'client-key-data', 'extensions']);
const LIGHT_CLUSTER = new Set([
  'server',
  'certificate-authority',
  'certificate-authority-data',
  'insecure-skip-tls-verify',
  'tls-server-name',
  'disable-compression',
  'extensions',
]);

/**
 * Credentials without @kubernetes/client-node for what most kubeconfigs and every pod use:
 * the in-cluster service account, bearer tokens, client certificates, CA files or data (what
 * kind, kubeadm and `kubectl config set-credentials` write). Returns null for anything else,
 * which client-node handles. Importing client-node costs about 85 MB of resident memory (its
 * generated API models), a third of the controller's budget at 150,000 pods.
 */
async function lightCredentials(config: Obj, contextName: string): Promise<Credentials | null> {
  const context = (config.contexts as Obj[]).find((c) => c.name === contextName)!.context as Obj;
  const cluster = (config.clusters as Obj[]).find((c) => c.name === context.cluster)?.cluster as Obj | undefined;
  const user = ((config.users as Obj[]).find((u) => u.name === context.user)?.user ?? {}) as Obj;
  if (!cluster?.server) throw new ApiError(0, 'NoCluster', `kubeconfig context "${contextName}" names no cluster with a server`);
  if (!Object.keys(user).every((k) => LIGHT_USER.has(k)) || !Object.keys(cluster).every((k) => LIGHT_CLUSTER.has(k))) return null;
  const data = async (inline: unknown, file: unknown): Promise<Buffer | undefined> =>
    typeof inline === 'string' && inline !== '' ? Buffer.from(inline, 'base64') : typeof file === 'string' && file !== '' ? readFile(file) : undefined;
  const base: https.AgentOptions = {
    ca: await data(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: await data(user['client-certificate-data'], user['client-certificate']),
    key: await data(user['client-key-data'], user['client-key']),
    servername: typeof cluster['tls-server-name'] === 'string' && cluster['tls-server-name'] !== '' ? cluster['tls-server-name'] : undefined,
  };
  if (cluster['insecure-skip-tls-verify'] === true) base.rejectUnauthorized = false;
  for (const k of Object.keys(base) as (keyof typeof base)[]) if (base[k] === undefined) delete base[k];
  const server = String(cluster.server);
  const token =
    typeof user.token === 'string' && user.token !== ''
      ? async () => user.token as string
      : typeof user.tokenFile === 'string'
        ? fileToken(user.tokenFile)
        : null;
  const agent = server.startsWith('http:') ? new http.Agent({ keepAlive: true }) : new https.Agent({ keepAlive: true, ...base });
  return { server, namespace: context.namespace || 'default', apply: bearer(token, base, agent) };
}

/** Everything else, through client-node (loaded only then), from the merged kubeconfig. */
async function clientNodeCredentials(config: Obj, contextName: string): Promise<Credentials> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromString(JSON.stringify(config));
  kc.setCurrentContext(contextName);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new ApiError(0, 'NoCluster', `kubeconfig context "${contextName}" names no cluster with a server`);
  return {
    server: cluster.server,
    namespace: kc.getContextObject(contextName)?.namespace || 'default',
    // Re-applied per request: exec and OIDC credentials refresh themselves here.
    apply: (options) => kc.applyToHTTPSOptions(options),
  };
}

async function credentials(opts: ConnectOptions, env: NodeJS.ProcessEnv): Promise<Credentials> {
  const config = opts.inCluster ? null : await readKubeconfig(opts, env);
  if (config === null) return inClusterCredentials(opts, env);
  const contextName = opts.context ?? config['current-context'];
  if (!(config.contexts as Obj[]).some((c) => c.name === contextName && c.context)) {
    throw new ApiError(0, 'NoContext', opts.context ? `kubeconfig has no context "${opts.context}"` : 'kubeconfig has no current context (give --context)');
  }
  return (await lightCredentials(config, contextName)) ?? (await clientNodeCredentials(config, contextName));
}

export async function connectKube(opts: ConnectOptions = {}): Promise<KubeClient> {
  const creds = await credentials(opts, opts.env ?? process.env);
  const server = creds.server.replace(/\/+$/, '');
  const namespace = creds.namespace;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 60_000;

  async function open(method: string, path: string, body: string | undefined, timeoutMs: number | null, signal?: AbortSignal): Promise<http.IncomingMessage> {
    const options: https.RequestOptions = { method, headers: { Accept: 'application/json' } };
    await creds.apply(options);
    const url = new URL(server + path);
    const headers = options.headers as Record<string, string>;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const mod = url.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, options, resolve);
      if (timeoutMs !== null) req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      // Abort by closing the connection without an error: an AbortError emitted after the
      // response was read (a keep-alive socket back in the pool) would have no listener.
      if (signal) {
        const onAbort = () => req.destroy();
        signal.addEventListener('abort', onAbort, { once: true });
        req.once('close', () => signal.removeEventListener('abort', onAbort));
      }
      req.on('error', reject);
      req.end(body);
    });
  }

  // Decoded chunk by chunk into V8 strings: a page of 500 pods is several MB, and joining
  // Buffers would allocate that much outside the V8 heap on every page, where glibc's malloc
  // keeps it resident long after it is freed.
  async function readAll(res: http.IncomingMessage): Promise<string> {
    res.setEncoding('utf8');
    let text = '';
    for await (const c of res) text += c as string;
    return text;
  }

  return {
    server,
    namespace,
    async request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, options?: { timeoutMs?: number }): Promise<T> {
      const res = await open(method, path, body === undefined ? undefined : JSON.stringify(body), options?.timeoutMs ?? requestTimeoutMs);
      const text = await readAll(res);
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) throw statusError(status, text);
      return (text ? JSON.parse(text) : {}) as T;
    },
    async watch(path, onEvent, signal) {
      if (signal.aborted) return;
      let res: http.IncomingMessage;
      try {
        res = await open('GET', path, undefined, null, signal);
      } catch (err) {
        if (signal.aborted) return;
        throw err;
      }
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) throw statusError(status, await readAll(res));
      let rest = '';
      res.setEncoding('utf8');
      try {
        for await (const chunk of res) {
          rest += chunk as string;
          let nl: number;
          while ((nl = rest.indexOf('\n')) >= 0) {
            const line = rest.slice(0, nl).trim();
            rest = rest.slice(nl + 1);
            if (line) onEvent(JSON.parse(line) as WatchEvent);
          }
        }
        // A server that closes mid-line dropped the connection.
        if (rest.trim()) throw new Error(`watch ${path}: stream ended mid-event`);
        if (!res.complete && !signal.aborted) throw new Error(`watch ${path}: connection closed before the stream ended`);
      } catch (err) {
        if (signal.aborted) return;
        throw err;
      }
    },
  };
}
