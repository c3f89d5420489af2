// The one module that imports @kubernetes/client-node. It is used only for what it does well
// (reading kubeconfig files and in-cluster service-account credentials, exec/OIDC auth); the
// requests themselves go over node:http(s), so that lists are paged and watches are read as a
// stream of lines by our own code. Everything else takes a KubeClient as an argument.
import http from 'node:http';
import https from 'node:https';

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
  /** One request; non-2xx answers reject with ApiError. */
  request<T = Record<string, unknown>>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /**
   * A watch: calls onEvent for each event line until the server ends the stream (resolves),
   * the connection fails (rejects) or `signal` aborts (resolves). A non-2xx answer rejects with ApiError.
   */
  watch(path: string, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void>;
}

export interface ConnectOptions {
  /** A kubeconfig as text (tests); otherwise $KUBECONFIG, ~/.kube/config or the in-cluster service account. */
  kubeconfig?: string;
  context?: string;
  /** Use only the in-cluster service account. */
  inCluster?: boolean;
  /** Per-request timeout for non-watch calls. */
  requestTimeoutMs?: number;
}

function statusError(status: number, text: string): ApiError {
  try {
    const s = JSON.parse(text) as { reason?: string; message?: string };
    return new ApiError(status, s.reason ?? String(status), s.message ?? text);
  } catch {
    return new ApiError(status, String(status), text.slice(0, 300) || `HTTP ${status}`);
  }
}

export async function connectKube(opts: ConnectOptions = {}): Promise<KubeClient> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  if (opts.kubeconfig !== undefined) kc.loadFromString(opts.kubeconfig);
  else if (opts.inCluster) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) throw new ApiError(0, 'NoContext', `kubeconfig has no context "${opts.context}"`);
    kc.setCurrentContext(opts.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new ApiError(0, 'NoCluster', 'no cluster in the kubeconfig (or not running in a cluster)');
  const server = cluster.server.replace(/\/+$/, '');
  const namespace = kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const requestTimeoutMs = opts.requestTimeoutMs ?? 60_000;

  async function open(method: string, path: string, body: string | undefined, timeoutMs: number | null, signal?: AbortSignal): Promise<http.IncomingMessage> {
    const options: https.RequestOptions = { method, headers: { Accept: 'application/json' } };
    // Re-applied per request: exec and OIDC credentials refresh themselves here.
    await kc.applyToHTTPSOptions(options);
    const url = new URL(server + path);
    const headers = options.headers as Record<string, string>;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const mod = url.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { ...options, signal }, resolve);
      if (timeoutMs !== null) req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  async function readAll(res: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  return {
    server,
    namespace,
    async request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
      const res = await open(method, path, body === undefined ? undefined : JSON.stringify(body), requestTimeoutMs);
      const text = await readAll(res);
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) throw statusError(status, text);
      return (text ? JSON.parse(text) : {}) as T;
    },
    async watch(path, onEvent, signal) {
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
      try {
        for await (const chunk of res) {
          rest += (chunk as Buffer).toString('utf8');
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
