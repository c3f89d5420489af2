// A small Kubernetes API server for tests and benchmarks, on plain node:http. It speaks the real
// wire protocol for what portcullis uses: list with limit/continue and a resourceVersion,
// watch as a chunked stream of JSON event lines from a resourceVersion (ADDED, MODIFIED,
// DELETED, BOOKMARK with allowWatchBookmarks, an ERROR event carrying a 410 Status when the
// version is too old), get/create/update/delete with optimistic concurrency (409 on a stale
// resourceVersion), the /status subresource, 403 for what a test forbids and 404 for
// resources it does not serve. Tests change the world with put/remove and break it with
// dropWatches/compact. Clients reach it through a kubeconfig from kubeconfig().
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

type Obj = Record<string, any>;

export interface ServedResource {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
}

export const DEFAULT_RESOURCES: readonly ServedResource[] = [
  { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false },
  { group: '', version: 'v1', resource: 'nodes', kind: 'Node', namespaced: false },
  { group: '', version: 'v1', resource: 'services', kind: 'Service', namespaced: true },
  { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true },
  { group: '', version: 'v1', resource: 'replicationcontrollers', kind: 'ReplicationController', namespaced: true },
  { group: '', version: 'v1', resource: 'podtemplates', kind: 'PodTemplate', namespaced: true },
  { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true },
  { group: 'apps', version: 'v1', resource: 'replicasets', kind: 'ReplicaSet', namespaced: true },
  { group: 'apps', version: 'v1', resource: 'statefulsets', kind: 'StatefulSet', namespaced: true },
  { group: 'apps', version: 'v1', resource: 'daemonsets', kind: 'DaemonSet', namespaced: true },
  { group: 'batch', version: 'v1', resource: 'jobs', kind: 'Job', namespaced: true },
  { group: 'batch', version: 'v1', resource: 'cronjobs', kind: 'CronJob', namespaced: true },
  { group: 'networking.k8s.io', version: 'v1', resource: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true },
  { group: 'cilium.io', version: 'v2', resource: 'ciliumnetworkpolicies', kind: 'CiliumNetworkPolicy', namespaced: true },
  { group: 'cilium.io', version: 'v2', resource: 'ciliumclusterwidenetworkpolicies', kind: 'CiliumClusterwideNetworkPolicy', namespaced: false },
  { group: 'policy.networking.k8s.io', version: 'v1alpha1', resource: 'adminnetworkpolicies', kind: 'AdminNetworkPolicy', namespaced: false },
  { group: 'policy.networking.k8s.io', version: 'v1alpha1', resource: 'baselineadminnetworkpolicies', kind: 'BaselineAdminNetworkPolicy', namespaced: false },
  { group: 'policy.networking.k8s.io', version: 'v1alpha2', resource: 'clusternetworkpolicies', kind: 'ClusterNetworkPolicy', namespaced: false },
  { group: 'projectcalico.org', version: 'v3', resource: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true },
  { group: 'projectcalico.org', version: 'v3', resource: 'globalnetworkpolicies', kind: 'GlobalNetworkPolicy', namespaced: false },
  { group: 'crd.projectcalico.org', version: 'v1', resource: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true },
  { group: 'crd.projectcalico.org', version: 'v1', resource: 'globalnetworkpolicies', kind: 'GlobalNetworkPolicy', namespaced: false },
  { group: 'portcullis.dev', version: 'v1alpha1', resource: 'portpolicies', kind: 'PortPolicy', namespaced: false },
  { group: 'wgpolicyk8s.io', version: 'v1alpha2', resource: 'policyreports', kind: 'PolicyReport', namespaced: true },
  { group: 'wgpolicyk8s.io', version: 'v1alpha2', resource: 'clusterpolicyreports', kind: 'ClusterPolicyReport', namespaced: false },
  { group: 'openreports.io', version: 'v1alpha1', resource: 'reports', kind: 'Report', namespaced: true },
  { group: 'openreports.io', version: 'v1alpha1', resource: 'clusterreports', kind: 'ClusterReport', namespaced: false },
  { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', kind: 'Lease', namespaced: true },
];

export interface RequestInfo {
  /** The bearer token of the kubeconfig user that made the call ('' without one). */
  user: string;
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'delete';
  /** API group, '' for the core group. */
  group: string;
  resource: string;
  subresource: string | null;
  namespace: string | null;
  name: string | null;
}

export interface FakeApiServerOptions {
  resources?: readonly ServedResource[];
  /** Return true to answer 403 Forbidden. */
  forbid?: (req: RequestInfo) => boolean;
  /** How many events the watch history keeps; older versions get 410 Gone. */
  historySize?: number;
  /** With allowWatchBookmarks, a BOOKMARK this often (the real server: about every minute). */
  bookmarkIntervalMs?: number;
  port?: number;
  /**
   * Serve HTTPS, as every real API server does: `ca` signed `cert` (kubeconfig() then carries
   * it as certificate-authority-data), and client certificates signed by `clientCa` are
   * accepted as the user `cert:<CN>` (the API server takes the user name from the CN).
   */
  tls?: { cert: string; key: string; ca: string; clientCa?: string };
}

/** Kinds whose status only the /status subresource writes (the rest take it from the body). */
const STATUS_SUBRESOURCE = new Set([
  'portpolicies',
  'pods',
  'services',
  'nodes',
  'namespaces',
  'deployments',
  'replicasets',
  'statefulsets',
  'daemonsets',
  'jobs',
  'cronjobs',
  'replicationcontrollers',
]);

interface HistoryEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  res: ServedResource;
  object: Obj;
}

interface Watcher {
  res: ServedResource;
  namespace: string | null;
  selector: ((o: Obj) => boolean) | null;
  out: http.ServerResponse;
}

const key = (ns: string | null | undefined, name: string) => `${ns ?? ''}/${name}`;

function status(code: number, reason: string, message: string): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/** `a=b,c=d` and `a!=b` label selectors, the forms the code under test sends. */
function parseSelector(text: string | null): ((o: Obj) => boolean) | null {
  if (!text) return null;
  const terms = text.split(',').map((t) => {
    const ne = /^([^!=]+)!=(.*)$/.exec(t);
    if (ne) return (l: Obj) => l[ne[1]] !== ne[2];
    const eq = /^([^!=]+)==?(.*)$/.exec(t);
    if (eq) return (l: Obj) => l[eq[1]] === eq[2];
    return (l: Obj) => Object.hasOwn(l, t);
  });
  return (o) => terms.every((f) => f(o.metadata?.labels ?? {}));
}

/** Objects by `namespace/name`; seeded objects stay JSON text until something reads them (benchmarks). */
class Collection {
  private readonly objects = new Map<string, Obj | string>();
  private sorted: string[] | null = null;
  keys(): string[] {
    this.sorted ??= [...this.objects.keys()].sort();
    return this.sorted;
  }
  get(k: string): Obj | undefined {
    const v = this.objects.get(k);
    if (typeof v !== 'string') return v;
    const o = JSON.parse(v) as Obj;
    this.objects.set(k, o);
    return o;
  }
  json(k: string): string | undefined {
    const v = this.objects.get(k);
    return typeof v === 'string' || v === undefined ? v : JSON.stringify(v);
  }
  has(k: string): boolean {
    return this.objects.has(k);
  }
  values(): Obj[] {
    return this.keys().map((k) => this.get(k)!);
  }
  set(k: string, o: Obj | string) {
    if (!this.objects.has(k)) this.sorted = null;
    this.objects.set(k, o);
  }
  delete(k: string) {
    if (this.objects.delete(k)) this.sorted = null;
  }
}

export class FakeApiServer {
  private readonly server: http.Server | https.Server;
  private readonly tls: FakeApiServerOptions['tls'];
  private readonly resources: readonly ServedResource[];
  // By resource, not its plural: networkpolicies are served by networking.k8s.io and by Calico.
  private readonly data = new Map<ServedResource, Collection>();
  private history: HistoryEvent[] = [];
  /** Versions at or below this are gone from the history. */
  private compactedRv = 0;
  private rv = 1;
  private readonly watchers = new Set<Watcher>();
  private uidCounter = 0;
  forbid: (req: RequestInfo) => boolean;
  /** Return true to never answer (a partition, an overloaded server): the request hangs until the client gives up. */
  stall: (req: RequestInfo) => boolean = () => false;
  readonly historySize: number;
  readonly bookmarkIntervalMs: number;
  /** Every request, in order: tests assert on writes with it. */
  readonly requests: { method: string; path: string; user: string; info?: RequestInfo }[] = [];
  private logRequests = true;

  private constructor(opts: FakeApiServerOptions) {
    this.resources = opts.resources ?? DEFAULT_RESOURCES;
    this.forbid = opts.forbid ?? (() => false);
    this.historySize = opts.historySize ?? 10_000;
    this.bookmarkIntervalMs = opts.bookmarkIntervalMs ?? 60_000;
    for (const r of this.resources) this.data.set(r, new Collection());
    this.tls = opts.tls;
    const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.handle(req, res).catch((err) => {
        if (!res.headersSent) this.send(res, 500, status(500, 'InternalError', String(err)));
        else res.destroy();
      });
    };
    this.server = opts.tls
      ? https.createServer(
          { cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.clientCa, requestCert: Boolean(opts.tls.clientCa), rejectUnauthorized: false },
          listener,
        )
      : http.createServer(listener);
  }

  static async start(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const s = new FakeApiServer(opts);
    await new Promise<void>((resolve) => s.server.listen(opts.port ?? 0, '127.0.0.1', resolve));
    return s;
  }

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /**
   * A kubeconfig for this server; `token` identifies the user to `forbid`, and so does a client
   * certificate (`cert:<CN>`). Over HTTPS the cluster entry carries the CA as kind writes it.
   */
  kubeconfig(opts: { token?: string; namespace?: string; context?: string; clientCert?: { cert: string; key: string } } = {}): string {
    const context = opts.context ?? 'fake';
    const b64 = (pem: string) => Buffer.from(pem).toString('base64');
    const user: Obj = opts.token ? { token: opts.token } : {};
    if (opts.clientCert) Object.assign(user, { 'client-certificate-data': b64(opts.clientCert.cert), 'client-key-data': b64(opts.clientCert.key) });
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'fake',
          cluster: this.tls ? { server: this.url, 'certificate-authority-data': b64(this.tls.ca) } : { server: this.url, 'insecure-skip-tls-verify': true },
        },
      ],
      users: [{ name: 'user', user }],
      contexts: [{ name: context, context: { cluster: 'fake', user: 'user', namespace: opts.namespace } }],
      'current-context': context,
    });
  }

  /** Stops recording requests (benchmarks). */
  quiet(): void {
    this.logRequests = false;
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  private resourceFor(apiVersion: string, kind: string): ServedResource {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    const r = this.resources.find((x) => x.group === group && x.version === version && x.kind === kind);
    if (!r) throw new Error(`fake API server does not serve ${apiVersion} ${kind}`);
    return r;
  }

  /** Adds or replaces an object (ADDED or MODIFIED to watchers). Returns the stored copy. */
  put(object: Obj): Obj {
    const res = this.resourceFor(object.apiVersion, object.kind);
    const ns = res.namespaced ? (object.metadata.namespace ?? 'default') : null;
    const coll = this.data.get(res)!;
    const k = key(ns, object.metadata.name);
    const old = coll.get(k);
    const stored = structuredClone(object);
    stored.metadata = { ...stored.metadata, uid: old?.metadata.uid ?? stored.metadata.uid ?? `uid-${++this.uidCounter}` };
    if (ns !== null) stored.metadata.namespace = ns;
    stored.metadata.creationTimestamp ??= old?.metadata.creationTimestamp ?? new Date().toISOString();
    stored.metadata.generation = (old?.metadata.generation ?? 0) + 1;
    this.commit(res, old ? 'MODIFIED' : 'ADDED', k, stored);
    return stored;
  }

  /**
   * Adds many objects without watch history, as if they existed before any client came:
   * for benchmarks (150,000 pods). Clients must list after this.
   */
  seed(objects: Iterable<Obj>): void {
    for (const object of objects) {
      const res = this.resourceFor(object.apiVersion, object.kind);
      const ns = res.namespaced ? (object.metadata.namespace ?? 'default') : null;
      object.metadata.uid ??= `uid-${++this.uidCounter}`;
      object.metadata.resourceVersion = String(++this.rv);
      if (ns !== null) object.metadata.namespace = ns;
      // Kept as the JSON the list serves: 150,000 pods as objects would need gigabytes.
      this.data.get(res)!.set(key(ns, object.metadata.name), JSON.stringify(object));
    }
    this.compactedRv = this.rv;
    this.history = [];
  }

  remove(apiVersion: string, kind: string, namespace: string | null, name: string): boolean {
    const res = this.resourceFor(apiVersion, kind);
    const k = key(res.namespaced ? namespace : null, name);
    const old = this.data.get(res)!.get(k);
    if (!old) return false;
    this.commit(res, 'DELETED', k, structuredClone(old));
    return true;
  }

  get(apiVersion: string, kind: string, namespace: string | null, name: string): Obj | undefined {
    const res = this.resourceFor(apiVersion, kind);
    return this.data.get(res)!.get(key(res.namespaced ? namespace : null, name));
  }

  list(apiVersion: string, kind: string, namespace?: string): Obj[] {
    const res = this.resourceFor(apiVersion, kind);
    return this.data
      .get(res)!
      .values()
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace);
  }

  /** Closes every open watch connection abruptly, as a restarting API server or a proxy does. */
  dropWatches(): void {
    for (const w of this.watchers) w.out.destroy();
    this.watchers.clear();
  }

  /** Forgets the watch history (etcd compaction): watches and continue tokens from before now get 410. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history = [];
  }

  /** Sends a BOOKMARK with the current version to every watch that asked for bookmarks. */
  bookmark(): void {
    for (const w of this.watchers) if ((w as Watcher & { bookmarks?: boolean }).bookmarks) this.writeEvent(w, 'BOOKMARK', this.bookmarkObject(w.res));
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  async close(): Promise<void> {
    this.dropWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private commit(res: ServedResource, type: HistoryEvent['type'], k: string, object: Obj) {
    const rv = ++this.rv;
    object.metadata.resourceVersion = String(rv);
    const coll = this.data.get(res)!;
    if (type === 'DELETED') coll.delete(k);
    else coll.set(k, object);
    const ev: HistoryEvent = { rv, type, res, object };
    this.history.push(ev);
    if (this.history.length > this.historySize) {
      const dropped = this.history.splice(0, this.history.length - this.historySize);
      this.compactedRv = dropped[dropped.length - 1].rv;
    }
    for (const w of this.watchers) if (this.matches(w, ev)) this.writeEvent(w, type, object);
  }

  private matches(w: Watcher, ev: HistoryEvent): boolean {
    return ev.res === w.res && (w.namespace === null || ev.object.metadata.namespace === w.namespace) && (!w.selector || w.selector(ev.object));
  }

  private writeEvent(w: Watcher, type: string, object: Obj) {
    if (!w.out.destroyed) w.out.write(JSON.stringify({ type, object }) + '\n');
  }

  private bookmarkObject(res: ServedResource): Obj {
    return { kind: res.kind, apiVersion: res.group ? `${res.group}/${res.version}` : res.version, metadata: { resourceVersion: String(this.rv) } };
  }

  private send(out: http.ServerResponse, code: number, body: Obj) {
    const text = JSON.stringify(body);
    out.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    out.end(text);
  }

  /** Splits /api/v1/... and /apis/g/v/... into resource, namespace, name and subresource. */
  private route(pathname: string): { res: ServedResource; namespace: string | null; name: string | null; sub: string | null } | null {
    const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === 'api') [group, version, rest] = ['', parts[1], parts.slice(2)];
    else if (parts[0] === 'apis') [group, version, rest] = [parts[1], parts[2], parts.slice(3)];
    else return null;
    let namespace: string | null = null;
    // /namespaces/{ns}/{resource}... is namespaced; /namespaces and /namespaces/{name} are the Namespace kind.
    if (rest[0] === 'namespaces' && rest.length >= 3 && !(group === '' && rest.length === 3 && rest[2] === 'status')) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const res = this.resources.find((r) => r.group === group && r.version === version && r.resource === rest[0]);
    if (!res || (namespace !== null && !res.namespaced)) return null;
    return { res, namespace, name: rest[1] ?? null, sub: rest[2] ?? null };
  }

  private async handle(req: http.IncomingMessage, out: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://x');
    const socket = req.socket as TLSSocket;
    const cn = this.tls?.clientCa && socket.authorized ? socket.getPeerCertificate()?.subject?.CN : undefined;
    const user = /^Bearer (.*)$/.exec(req.headers.authorization ?? '')?.[1] ?? (cn ? `cert:${String(cn)}` : '');
    const logged = { method: req.method ?? '', path: url.pathname + url.search, user, info: undefined as RequestInfo | undefined };
    if (this.logRequests) this.requests.push(logged);
    const route = this.route(url.pathname);
    if (!route) return this.send(out, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const { res, namespace, name, sub } = route;
    const q = url.searchParams;
    const watch = q.get('watch') === '1' || q.get('watch') === 'true';
    const verb: RequestInfo['verb'] =
      req.method === 'GET'
        ? name
          ? 'get'
          : watch
            ? 'watch'
            : 'list'
        : req.method === 'POST'
          ? 'create'
          : req.method === 'PUT'
            ? 'update'
            : req.method === 'DELETE'
              ? 'delete'
              : 'get';
    logged.info = { user, verb, group: res.group, resource: res.resource, subresource: sub, namespace, name };
    if (this.stall(logged.info)) return;
    if (this.forbid(logged.info)) {
      const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
      const who = `system:serviceaccount:test:${user || 'anonymous'}`;
      return this.send(
        out,
        403,
        status(403, 'Forbidden', `${res.resource} is forbidden: User "${who}" cannot ${verb} resource "${res.resource}" in API group "${res.group}" ${scope}`),
      );
    }
    const coll = this.data.get(res)!;
    if (verb === 'watch') return this.serveWatch(out, res, namespace, q);
    if (verb === 'list') return this.serveList(out, res, coll, namespace, q);
    const body: Obj | undefined = req.method === 'POST' || req.method === 'PUT' ? await readJson(req) : {};
    if (body === undefined) return this.send(out, 400, status(400, 'BadRequest', 'body is not JSON'));
    const k = key(res.namespaced ? namespace : null, name ?? body?.metadata?.name ?? '');
    const current = coll.get(k);
    const notFound = () => this.send(out, 404, status(404, 'NotFound', `${res.resource}${res.group ? '.' + res.group : ''} "${name}" not found`));
    switch (verb) {
      case 'get':
        return current ? this.send(out, 200, current) : notFound();
      case 'delete':
        if (!current) return notFound();
        this.commit(res, 'DELETED', k, structuredClone(current));
        return this.send(out, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, kind: res.resource } });
      case 'create': {
        if (!body?.metadata?.name) return this.send(out, 422, status(422, 'Invalid', `${res.kind} is invalid: metadata.name: Required value`));
        if (current)
          return this.send(out, 409, status(409, 'AlreadyExists', `${res.resource}${res.group ? '.' + res.group : ''} "${body.metadata.name}" already exists`));
        const created = {
          ...body,
          metadata: { ...body.metadata, uid: `uid-${++this.uidCounter}`, creationTimestamp: new Date().toISOString(), generation: 1 },
        };
        if (res.namespaced) created.metadata.namespace = namespace;
        delete created.metadata.resourceVersion;
        this.commit(res, 'ADDED', k, created);
        return this.send(out, 201, created);
      }
      case 'update': {
        if (!current) return notFound();
        const sent = body.metadata?.resourceVersion;
        if (sent && sent !== current.metadata.resourceVersion) {
          return this.send(
            out,
            409,
            status(
              409,
              'Conflict',
              `Operation cannot be fulfilled on ${res.resource}${res.group ? '.' + res.group : ''} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
            ),
          );
        }
        const updated: Obj =
          sub === 'status'
            ? { ...structuredClone(current), status: body.status }
            : {
                ...body,
                status: STATUS_SUBRESOURCE.has(res.resource) ? current.status : body.status,
                metadata: {
                  ...body.metadata,
                  uid: current.metadata.uid,
                  creationTimestamp: current.metadata.creationTimestamp,
                  generation: current.metadata.generation + 1,
                },
              };
        if (res.namespaced) updated.metadata.namespace = namespace;
        this.commit(res, 'MODIFIED', k, updated);
        return this.send(out, 200, updated);
      }
    }
  }

  private serveList(out: http.ServerResponse, res: ServedResource, coll: Collection, namespace: string | null, q: URLSearchParams) {
    const limit = Number(q.get('limit') ?? 0);
    const selector = parseSelector(q.get('labelSelector'));
    let listRv = this.rv;
    let start = 0;
    const keys = coll.keys();
    const token = q.get('continue');
    if (token) {
      let parsed: { rv: number; after: string };
      try {
        parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
      } catch {
        return this.send(out, 400, status(400, 'BadRequest', 'invalid continue token'));
      }
      // The real server serves every page from the first page's snapshot; when that version
      // has been compacted, the token has expired (410) and the client must list again.
      if (parsed.rv < this.compactedRv) {
        return this.send(
          out,
          410,
          status(
            410,
            'Expired',
            'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
          ),
        );
      }
      listRv = parsed.rv;
      start = upperBound(keys, parsed.after);
    }
    const items: string[] = [];
    let i = start;
    const prefix = namespace === null ? null : `${namespace}/`;
    for (; i < keys.length && (limit <= 0 || items.length < limit); i++) {
      if (prefix !== null && !keys[i].startsWith(prefix)) continue;
      if (selector && !selector(coll.get(keys[i])!)) continue;
      items.push(keys[i]);
    }
    let more = false;
    for (let j = i; j < keys.length; j++) {
      if ((prefix === null || keys[j].startsWith(prefix)) && (!selector || selector(coll.get(keys[j])!))) {
        more = true;
        break;
      }
    }
    const metadata: Obj = { resourceVersion: String(listRv) };
    if (more) metadata.continue = Buffer.from(JSON.stringify({ rv: listRv, after: keys[i - 1] })).toString('base64url');
    // Stream the page: a 500-pod page is a few MB, and one string per page keeps memory flat.
    out.writeHead(200, { 'Content-Type': 'application/json' });
    const apiVersion = res.group ? `${res.group}/${res.version}` : res.version;
    out.write(`{"kind":"${res.kind}List","apiVersion":"${apiVersion}","metadata":${JSON.stringify(metadata)},"items":[`);
    // Like the real server for built-in kinds, items carry no apiVersion/kind of their own
    // unless they were stored with them.
    out.write(items.map((k) => coll.json(k)).join(','));
    out.end(']}');
  }

  private serveWatch(out: http.ServerResponse, res: ServedResource, namespace: string | null, q: URLSearchParams) {
    const from = q.get('resourceVersion');
    const w: Watcher & { bookmarks?: boolean } = { res, namespace, selector: parseSelector(q.get('labelSelector')), out };
    w.bookmarks = q.get('allowWatchBookmarks') === 'true';
    out.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    out.flushHeaders();
    if (from === null || from === '' || from === '0') {
      // No version: the current state as ADDED events, then changes.
      const coll = this.data.get(res)!;
      for (const k of coll.keys()) {
        const o = coll.get(k)!;
        if ((namespace === null || o.metadata.namespace === namespace) && (!w.selector || w.selector(o))) this.writeEvent(w, 'ADDED', o);
      }
    } else {
      const fromRv = Number(from);
      if (fromRv < this.compactedRv) {
        this.writeEvent(w, 'ERROR', status(410, 'Expired', `too old resource version: ${fromRv} (${this.compactedRv + 1})`));
        out.end();
        return;
      }
      for (const ev of this.history) if (ev.rv > fromRv && this.matches(w, ev)) this.writeEvent(w, ev.type, ev.object);
    }
    this.watchers.add(w);
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    const timers: NodeJS.Timeout[] = [];
    if (timeout > 0) timers.push(setTimeout(() => out.end(), timeout * 1000));
    if (w.bookmarks) timers.push(setInterval(() => this.writeEvent(w, 'BOOKMARK', this.bookmarkObject(res)), this.bookmarkIntervalMs));
    out.on('close', () => {
      timers.forEach((t) => clearTimeout(t));
      this.watchers.delete(w);
    });
  }
}

function upperBound(keys: string[], after: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid] <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

async function readJson(req: http.IncomingMessage): Promise<Obj | undefined> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}
