// Puts the webhook together: policies, certificate, the two apps on their servers, the
// watchers that reload, and the drain. Everything it talks to is passed in (logger, clock,
// cluster view), so tests run it whole in-process.
import { STATUS_CODES, type RequestListener } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { ClusterView } from '../cluster/view.js';
import { UsageError } from '../runtime/usage-error.js';
import { answerLimits, type ServeConfig } from '../config/serve.js';
import { errored, reviewOf } from '../sinks/admission/response.js';
import { RULE_CATALOG } from '../engine/rules/index.js';
import { createMetrics, type WebhookMetrics } from '../sinks/metrics.js';
import { ADMISSION_API_VERSION } from '../sources/admission.js';
import { NodePortReservations } from '../cluster/allocator.js';
import type { NodePortAllocator } from '../engine/remediate.js';
import { drain, trackUnusedConnections, type DrainResult } from './drain.js';
import { LOG } from './log-keys.js';
import { listen } from './listen.js';
import { startOpsServer, type ReadyChecks } from './ops-app.js';
import { openPolicyStore, type PolicyReload, type PolicyStore } from './policy-store.js';
import { certificateInfo, certificateReloader, checkPair, readPair, selfSignedPair, TLS_PROFILE, type ReloadResult, type TlsPair } from './tls.js';
import { limitConnections } from './connections.js';
import { watchPaths, type Watcher } from './watch.js';
import { loadDefaultSpec } from '../sources/policy-files.js';
import { createWebhookApp } from './webhook-app.js';

export interface ServerDeps {
  logger: Logger;
  metrics?: WebhookMetrics;
  /** The cluster caches when running in a cluster; null or absent: files, name-based tenancy, assumed node addresses. */
  view?: ClusterView | null;
  /** Milliseconds, monotonic. */
  clock?: () => number;
  /** The drain's waits (its delay and grace deadline); tests hold or advance them. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

export interface RunningServer {
  webhookPort: number;
  opsPort: number;
  webhook: HttpsServer;
  metrics: WebhookMetrics;
  readiness(): Readiness;
  /** Set when no certificate was given: the self-signed certificate clients must trust. */
  selfSigned: { cert: string; certFile: string } | null;
  reloadPolicies(): Promise<PolicyReload>;
  reloadCertificate(): Promise<ReloadResult>;
  /** The SIGTERM path: readiness false, keep serving briefly, stop accepting, finish in flight. */
  drain(opts?: { drainDelayMs?: number }): Promise<DrainResult>;
  /** Stops the watchers and the ops server; closes the webhook server if drain did not. */
  close(): Promise<void>;
}

export interface Readiness {
  /** A policy set has been loaded (the last good one stays in force after a bad reload). */
  policy: boolean;
  /** The HTTPS server is listening with a valid certificate. */
  tls: boolean;
  /** The cluster caches have synced; true when running without a cluster. */
  cluster: boolean;
  /** SIGTERM received: the pod must leave the Service's endpoints. */
  draining: boolean;
}

/** The webhook's /readyz answer: ready while every check holds and it is not draining. */
export const webhookReadiness = (r: Readiness): ReadyChecks => ({ ready: r.policy && r.tls && r.cluster && !r.draining, checks: { ...r } });

/**
 * Requests Node refuses before express sees them (headers not complete within
 * headersTimeout, a malformed request line, headers over 16 KiB) get an AdmissionReview
 * error too, instead of Node's empty reply: the client learns what was wrong.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex, halfClosedTimeoutMs: number): void {
  if (!answerable(err, socket)) {
    socket.destroy();
    return;
  }
  const [status, message] = clientErrorAnswer(err);
  const body = JSON.stringify(reviewOf(ADMISSION_API_VERSION, errored('', status, message)));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  // end() closes our side only; a client that never closes its own would keep the socket forever.
  const reap = setTimeout(() => socket.destroy(), halfClosedTimeoutMs);
  reap.unref();
  socket.once('close', () => clearTimeout(reap));
}

/** Whether an HTTP answer can still go out on the socket of a client error. */
function answerable(err: NodeJS.ErrnoException, socket: Duplex): boolean {
  // Node's own handler writes only when nothing of a response has gone out; same here.
  const started = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  // The https server hands TLS failures (a handshake timeout, no suite in common) to this
  // handler too: there is no HTTP to answer on a connection that never became secure.
  const tls = err.code?.startsWith('ERR_TLS_') === true || err.code?.startsWith('ERR_SSL_') === true;
  return !(err.code === 'ECONNRESET' || tls || !socket.writable || started);
}

/** The status and message for a request Node refused. */
function clientErrorAnswer(err: NodeJS.ErrnoException): [number, string] {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'the request did not arrive in time'];
  if (err.code === 'HPE_HEADER_OVERFLOW') return [431, 'the request headers are too large'];
  return [400, `the request is not valid HTTP/1.1 (${err.code ?? 'parse error'})`];
}

/** The view's own allocator when it has one (the live view), else reservations over its ports in use. */
function allocatorFor(view: ClusterView | null, config: ServeConfig, clock: () => number, random?: () => number) {
  if (!view) return null;
  const own = (view as ClusterView & { allocator?: (o: { dryRun: boolean }) => NodePortAllocator }).allocator;
  if (typeof own === 'function') return (o: { dryRun: boolean }) => own.call(view, o);
  const reservations = new NodePortReservations(() => view.nodePortsInUse(), { ttlMs: config.reservationTtlMs, now: clock, random });
  return (o: { dryRun: boolean }) => reservations.forRequest(o);
}

/** The policy files, loaded and checked: a policy that does not load stops the start. */
async function openPolicies(config: ServeConfig, logger: Logger): Promise<PolicyStore> {
  const opened = await openPolicyStore(config.policyPaths);
  if ('errors' in opened) throw new UsageError(`the policy does not load:\n${opened.errors.join('\n')}`);
  const store = opened.store;
  for (const w of opened.warnings) logger.warn({ [LOG.component]: 'policy' }, w);
  logger.info({ [LOG.component]: 'policy', [LOG.policies]: store.current().map((p) => p.name), [LOG.file]: store.paths }, 'policy loaded');
  return store;
}

/** The certificate and key files given, or null: serve makes a self-signed pair. */
const certificateFiles = (config: ServeConfig): { cert: string; key: string } | null =>
  config.tlsCert !== null && config.tlsKey !== null ? { cert: config.tlsCert, key: config.tlsKey } : null;

/** The serving pair: the files given, checked, or a self-signed pair clients must be told to trust. */
async function servingPair(files: { cert: string; key: string } | null): Promise<{ pair: TlsPair; selfSigned: RunningServer['selfSigned'] }> {
  if (files === null) {
    const made = await selfSignedPair().catch((err: Error) => {
      throw new UsageError(err.message);
    });
    return { pair: made, selfSigned: { cert: made.cert, certFile: made.certFile } };
  }
  let pair: TlsPair;
  try {
    pair = await readPair(files.cert, files.key);
  } catch (err) {
    throw new UsageError(`cannot read the TLS certificate or key: ${(err as Error).message}`);
  }
  const problem = checkPair(pair);
  if (problem !== null) throw new UsageError(`the TLS certificate and key do not load: ${problem}`);
  return { pair, selfSigned: null };
}

/** The HTTPS server for the webhook app, with its timeouts, client-error answers and connection cap. */
function webhookServer(config: ServeConfig, pair: TlsPair, app: RequestListener, metrics: WebhookMetrics) {
  const webhook = createHttpsServer(
    {
      ...pair,
      // Longer than the API server's webhook client idle timeout (Go's 90 s): a server that
      // closes first races the client's next request on that connection, which then fails.
      keepAliveTimeout: 120_000,
      // Backstops for stalled clients: headers late, or a request not complete in 30 s (the API
      // server's longest webhook timeout; the body deadline answers first). Both answer 408
      // with a JSON body (answerClientError). Node checks them every connectionsCheckingInterval
      // (30 s by default, which could double the wait): every second here.
      requestTimeout: 30_000,
      headersTimeout: config.headersTimeoutMs,
      connectionsCheckingInterval: 1_000,
      handshakeTimeout: config.tlsHandshakeTimeoutMs,
      ...TLS_PROFILE,
    },
    app,
  );
  webhook.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket, config.halfClosedTimeoutMs));
  // A handshake that timed out, or a client offering nothing of the profile (TLS 1.0/1.1, CBC suites only).
  webhook.on('tlsClientError', (err: NodeJS.ErrnoException) =>
    metrics.countConnection(err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT' ? 'handshake-timeout' : 'handshake-failed'),
  );
  const connections = limitConnections(webhook, { max: config.maxConnections, onEvent: (e) => metrics.countConnection(e) });
  metrics.observeOpenConnections(() => connections.open());
  const unused = trackUnusedConnections(webhook, 'secureConnection');
  return { webhook, unused };
}

/** Reloads the policy files, counting and logging a change; a bad set keeps the last good one. */
function countedPolicyReload(store: PolicyStore, metrics: WebhookMetrics, logger: Logger) {
  return async (): Promise<PolicyReload> => {
    const r = await store.reload();
    if (!r.changed) return r;
    metrics.policyReloads.inc({ result: r.ok ? 'success' : 'failure' });
    if (r.ok) {
      for (const w of r.warnings) logger.warn({ [LOG.component]: 'policy' }, w);
      logger.info({ [LOG.component]: 'policy', [LOG.policies]: r.policies.map((p) => p.name) }, 'policy reloaded');
    } else {
      logger.error({ [LOG.component]: 'policy', [LOG.errors]: r.errors }, 'policy reload refused; the last good policy stays in force');
    }
    return r;
  };
}

/** Reloads the certificate files given (none for a self-signed pair), counting and logging a change; a bad pair keeps the one in use. */
function countedCertificateReload(files: { cert: string; key: string } | null, pair: TlsPair, webhook: HttpsServer, metrics: WebhookMetrics, logger: Logger) {
  const certReloader = files ? certificateReloader(files.cert, files.key, pair, (p) => webhook.setSecureContext({ ...p, ...TLS_PROFILE })) : null;
  return async (): Promise<ReloadResult> => {
    if (!certReloader) return { changed: false };
    const r = await certReloader();
    if (!r.changed) return r;
    metrics.certificateReloads.inc({ result: r.ok ? 'success' : 'failure' });
    if (r.ok) logger.info({ [LOG.component]: 'tls', [LOG.certificate]: r.info }, 'certificate reloaded');
    else logger.error({ [LOG.component]: 'tls', err: r.error }, 'new certificate refused; the one in use stays');
    return r;
  };
}

/** Watches the policy files and the certificate files given, reloading on a change. */
async function startWatchers(
  config: ServeConfig,
  policyPaths: readonly string[],
  files: { cert: string; key: string } | null,
  reload: { policies: () => Promise<unknown>; certificate: () => Promise<unknown> },
  logger: Logger,
): Promise<Watcher[]> {
  const watchOpts = (what: string) => ({
    debounceMs: config.reloadDebounceMs,
    pollMs: config.reloadPollMs,
    onError: (err: Error, dir: string) => logger.warn({ [LOG.component]: what, err: err.message, dir }, 'cannot watch; relying on the periodic re-check'),
  });
  const logThrow = (what: string) => (err: unknown) => logger.error({ [LOG.component]: what, err }, 'reload failed');
  const watchers: Watcher[] = [await watchPaths(policyPaths, () => void reload.policies().catch(logThrow('policy')), watchOpts('policy'))];
  if (files) {
    watchers.push(await watchPaths([files.cert, files.key], () => void reload.certificate().catch(logThrow('tls')), watchOpts('tls')));
  }
  return watchers;
}

/** Policies → certificate → webhook app and server → listening → ops server → reloaders and watchers → drain. */
export async function startServer(config: ServeConfig, deps: ServerDeps): Promise<RunningServer> {
  const logger = deps.logger;
  const clock = deps.clock ?? (() => performance.now());
  const metrics = deps.metrics ?? createMetrics({ rules: RULE_CATALOG });
  const view = deps.view ?? null;

  const store = await openPolicies(config, logger);
  const files = certificateFiles(config);
  const { pair, selfSigned } = await servingPair(files);

  let draining = false;
  let tlsReady = false;
  const readiness = (): Readiness => ({
    policy: store.current().length > 0 || (view?.policies()?.length ?? 0) > 0,
    tls: tlsReady,
    cluster: view ? view.synced() : true,
    draining,
  });

  const app = createWebhookApp({
    logger,
    metrics,
    policies: () => view?.policies() ?? store.current(),
    view,
    allocator: allocatorFor(view, config, clock, deps.random),
    limits: answerLimits(config),
    policyDefaults: await loadDefaultSpec(),
    bodyLimitBytes: config.bodyLimitBytes,
    bodyBytesInFlight: config.bodyBytesInFlight,
    defaultTimeoutMs: config.defaultTimeoutMs,
    timeoutBudgetShare: config.timeoutBudgetShare,
    clock,
    draining: () => draining,
  });
  const { webhook, unused } = webhookServer(config, pair, app, metrics);
  const webhookPort = await listen(webhook, config.port, config.host, 'the webhook (HTTPS)');
  tlsReady = true;
  const ops = await startOpsServer({
    port: config.metricsPort,
    host: config.host,
    registry: metrics.registry,
    readiness: () => webhookReadiness(readiness()),
  }).catch(async (err) => {
    webhook.close();
    throw err;
  });
  const opsPort = ops.port;
  logger.info({ [LOG.component]: 'server', webhookPort, opsPort, [LOG.certificate]: certificateInfo(pair.cert) }, 'serving');

  const reloadPolicies = countedPolicyReload(store, metrics, logger);
  const reloadCertificate = countedCertificateReload(files, pair, webhook, metrics, logger);
  const watchers = await startWatchers(config, store.paths, files, { policies: reloadPolicies, certificate: reloadCertificate }, logger);

  let drained: Promise<DrainResult> | null = null;
  const drainOnce = (opts: { drainDelayMs?: number } = {}) =>
    (drained ??= drain(webhook, {
      beginDraining: () => {
        draining = true;
        logger.info(
          { [LOG.component]: 'server', drainDelayMs: opts.drainDelayMs ?? config.drainDelayMs, gracePeriodMs: config.gracePeriodMs },
          'draining: readiness is false',
        );
      },
      drainDelayMs: opts.drainDelayMs ?? config.drainDelayMs,
      gracePeriodMs: config.gracePeriodMs,
      clock,
      sleep: deps.sleep,
      closeIdle: () => {
        webhook.closeIdleConnections();
        unused.closeUnused();
      },
    }).then((r) => {
      logger.info({ [LOG.component]: 'server', ...r }, 'drained: webhook server closed');
      return r;
    }));

  return {
    webhookPort,
    opsPort,
    webhook,
    metrics,
    readiness,
    selfSigned,
    reloadPolicies,
    reloadCertificate,
    drain: drainOnce,
    async close() {
      for (const w of watchers) w.close();
      if (webhook.listening) {
        webhook.closeAllConnections();
        await new Promise<void>((resolve) => webhook.close(() => resolve()));
      }
      await ops.close();
    },
  };
}
