// `portcullis serve` configuration: one typed object, every default in this file, every
// number with its reason. Nothing else in serve reads options or the environment.
import { UsageError } from '../runtime/usage-error.js';
import type { AnswerLimits } from '../sinks/admission/decide.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface ServeConfig {
  /** HTTPS port of /validate and /mutate. */
  port: number;
  /** Plain-HTTP port of /healthz, /readyz and /metrics. */
  metricsPort: number;
  /**
   * Address both servers bind. '' is every address, IPv6 and IPv4 (Node's default: `::`
   * where the kernel has IPv6, else 0.0.0.0): an IPv6-only cluster reaches the pod, and so
   * does a local client whose `localhost` resolves to ::1.
   */
  host: string;
  /** PEM files; both null → a self-signed certificate for localhost is made at start. */
  tlsCert: string | null;
  tlsKey: string | null;
  /** PortPolicy files or directories; empty → the shipped default policy. */
  policyPaths: string[];
  logLevel: LogLevel;
  /**
   * Run by npm (`npm start`, `npx portcullis serve`: npm sets npm_command): npm passes a SIGTERM
   * to the `sh -c` it runs the command in, and the shell dies without passing it on, leaving
   * this process running with no parent. Losing the parent is then taken as the SIGTERM.
   * Never in a pod: node is PID 1 there (the Dockerfile's ENTRYPOINT), and npm is not involved.
   */
  exitWhenOrphaned: boolean;
  /** Watch PortPolicies, Namespaces, Nodes and Services in the cluster. */
  inCluster: boolean;
  kubeContext: string | null;
  /** --kubeconfig: one kubeconfig file instead of $KUBECONFIG or ~/.kube/config. */
  kubeconfigFile: string | null;
  /**
   * 7 MiB. The API server accepts request bodies up to 3 MiB (its MaxRequestBodyBytes), so
   * no stored object's JSON is larger; an UPDATE review carries object and oldObject
   * (2 × 3 MiB) plus userInfo and options, which 1 MiB covers. controller-runtime derives
   * the same 7 MiB from etcd's 1.5 MiB limit with JSON overhead.
   */
  bodyLimitBytes: number;
  /**
   * 16 MiB: the bytes of request bodies read at once, across all connections; a body whose
   * next chunk would go past it is answered 503 and its connection closed. Without it, 40
   * connections each holding most of a 7 MiB body took the process from 120 to 349 MiB of RSS,
   * and more would pass any memory limit. The API server's reviews are rarely over a few KiB;
   * 16 MiB holds two of its largest UPDATEs (2 × 3 MiB and the review) at once. It is one of
   * the parts the pod's memory limit adds up, on top of a full old space (docs/limits.md).
   */
  bodyBytesInFlight: number;
  /**
   * Body-read deadline when the request has no `timeout` parameter: the API server's default
   * webhook timeout is 10 s, so a client that has not sent its body in 10 s has given up.
   */
  defaultTimeoutMs: number;
  /**
   * A request whose headers are not complete in this long is answered 408 (JSON) and closed.
   * The API server sends its headers at once, in one write; 10 s is its default webhook
   * timeout, after which it has given up anyway.
   */
  headersTimeoutMs: number;
  /**
   * A connection whose TLS handshake is not done in this long is closed. Node's default is
   * 120 s: 1,000 connections that never sent a ClientHello stayed open for minutes. A handshake
   * with the API server on the cluster network takes milliseconds; Go's HTTP client gives up on
   * its own after 10 s (TLSHandshakeTimeout), so 5 s never cuts one it still waits for.
   */
  tlsHandshakeTimeoutMs: number;
  /**
   * After the server has ended a connection (a 408, 400 or 431 answer), the client has this
   * long to close its side before the socket is destroyed: a client that never does would
   * otherwise hold it open for good (about 6,000 such sockets reached the memory limit).
   */
  halfClosedTimeoutMs: number;
  /**
   * Open connections at most. The API server keeps up to 25 idle connections per webhook
   * address (client-go's transport cache) and opens more only while more requests are in
   * flight: 3 API servers use about 75, and a burst of every API server's default in-flight
   * limit (400 + 200) split over two replicas about 900. At the cap the oldest connection that
   * never sent a request is closed first, then the oldest idle one; a new connection is refused
   * only while all are busy (connections.ts). An idle TLS connection costs 17-40 KiB of RSS
   * (test:hostile), so 1,000 of them are at most about 40 MiB of the pod's 384 MiB.
   */
  maxConnections: number;
  /**
   * Share of the API server's `timeout` that reading the body and looking up the namespace may
   * use, so the answer (a denial saying why, not a timeout) arrives with time to spare.
   */
  timeoutBudgetShare: number;
  /**
   * After SIGTERM, keep serving this long with /readyz false: endpoints take a few seconds to
   * drop the pod, and the API server keeps reusing keep-alive connections meanwhile. The
   * Deployment's 5 s preStop sleep already runs before SIGTERM, so 2 s more covers a client
   * that picked this pod just before the endpoints changed; without a preStop sleep, raise it.
   */
  drainDelayMs: number;
  /**
   * Everything after SIGTERM must end within this; the pod's terminationGracePeriodSeconds
   * defaults to 30 s and the manifests' preStop sleep comes out of it.
   */
  gracePeriodMs: number;
  /** Coalesces the burst of events an atomic ..data swap makes into one reload. */
  reloadDebounceMs: number;
  /** fs.watch can miss events (network and overlay filesystems): re-check files this often. */
  reloadPollMs: number;
  /**
   * The API server asks for warnings under 120 characters (AdmissionResponse.warnings), truncates
   * items over 256 and the whole set over 4 KiB (k8s.io/apiserver/pkg/endpoints/filters/warning.go):
   * at most 119 characters each, and 10 × 119 fits.
   */
  maxWarnings: number;
  maxWarningChars: number;
  /**
   * A denial's status.message: kubectl prints it whole to a person, and the API server keeps it
   * in the audit event. One line per distinct violation (identical ones on many containers or
   * rules are one line with a count), each clipped to 512 characters; past 4 KiB a last line
   * counts the violations left out. `portcullis scan` on the object lists them all.
   */
  maxMessageChars: number;
  /**
   * Each audit annotation's value (one per rule). The API server stores them in every audit
   * event of the request; a ValidatingAdmissionPolicy's audit annotation is cut at 10 KB
   * (admissionregistration.k8s.io/v1 AuditAnnotation.valueExpression), so 4 KiB per rule and
   * five rules stay within what the API server already accepts from one policy.
   */
  maxAnnotationChars: number;
  /**
   * How long an allocated NodePort stays reserved: long enough for the API server to store
   * the Service and our Service watch to see it (seconds), short enough not to leak ports.
   */
  reservationTtlMs: number;
}

export const SERVE_DEFAULTS: ServeConfig = {
  port: 8443,
  metricsPort: 8080,
  host: '',
  tlsCert: null,
  tlsKey: null,
  policyPaths: [],
  logLevel: 'info',
  exitWhenOrphaned: false,
  inCluster: false,
  kubeContext: null,
  kubeconfigFile: null,
  bodyLimitBytes: 7 * 1024 * 1024,
  bodyBytesInFlight: 16 * 1024 * 1024,
  defaultTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  tlsHandshakeTimeoutMs: 5_000,
  halfClosedTimeoutMs: 5_000,
  maxConnections: 1_000,
  timeoutBudgetShare: 0.8,
  drainDelayMs: 2_000,
  gracePeriodMs: 25_000,
  reloadDebounceMs: 250,
  reloadPollMs: 60_000,
  maxWarnings: 10,
  maxWarningChars: 119,
  maxMessageChars: 4096,
  maxAnnotationChars: 4096,
  reservationTtlMs: 30_000,
};

/** The answer's size limits, as the webhook's decide() takes them. */
export const answerLimits = (c: ServeConfig): AnswerLimits => ({
  maxWarnings: c.maxWarnings,
  maxWarningChars: c.maxWarningChars,
  maxMessageChars: c.maxMessageChars,
  maxAnnotationChars: c.maxAnnotationChars,
});

/**
 * V8 heap caps for the webhook pod. A 4 MB young generation keeps peak RSS near an empty
 * express app's (bench:webhook). The old space holds the costliest request within the body
 * limit: a Pod of 200,000 bare host ports (the engine's podSpecPorts) keeps about 280 MiB live,
 * and ran the heap out at 256 (test:hostile). Garbage fills the old space up to this cap before
 * a full collection, so the pod's memory limit is derived from it (docs/limits.md).
 */
export const SERVE_NODE_OPTIONS = '--max-semi-space-size=4 --max-old-space-size=384';

const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];

function seconds(value: unknown, flag: string, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} must be a number of seconds, got "${String(value)}"`);
  return Math.round(n * 1000);
}

function port(value: unknown, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} must be a port number 0-65535, got "${String(value)}"`);
  return n;
}

/**
 * CLI options (commander's camelCased object) and the environment → ServeConfig. Bad values
 * are UsageErrors (exit 2). In a pod (KUBERNETES_SERVICE_HOST is set by the kubelet) the
 * cluster caches are on by default.
 */
export function serveConfig(
  opts: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>> = {},
  overrides: Partial<ServeConfig> = {},
): ServeConfig {
  const tlsCert = typeof opts.tlsCert === 'string' ? opts.tlsCert : null;
  const tlsKey = typeof opts.tlsKey === 'string' ? opts.tlsKey : null;
  if ((tlsCert === null) !== (tlsKey === null))
    throw new UsageError('--tls-cert and --tls-key go together: give both, or neither for a self-signed localhost certificate');
  const logLevel = (opts.logLevel ?? SERVE_DEFAULTS.logLevel) as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const drainDelayMs = seconds(opts.drainDelay, '--drain-delay', SERVE_DEFAULTS.drainDelayMs);
  const gracePeriodMs = seconds(opts.gracePeriod, '--grace-period', SERVE_DEFAULTS.gracePeriodMs);
  if (drainDelayMs >= gracePeriodMs)
    throw new UsageError(`--drain-delay (${drainDelayMs / 1000} s) must be shorter than --grace-period (${gracePeriodMs / 1000} s)`);
  return {
    ...SERVE_DEFAULTS,
    port: opts.port === undefined ? SERVE_DEFAULTS.port : port(opts.port, '--port'),
    metricsPort: opts.metricsPort === undefined ? SERVE_DEFAULTS.metricsPort : port(opts.metricsPort, '--metrics-port'),
    tlsCert,
    tlsKey,
    policyPaths: Array.isArray(opts.policy) ? (opts.policy as string[]) : [],
    logLevel,
    exitWhenOrphaned: (env.npm_command ?? '') !== '',
    inCluster: opts.inCluster === true || typeof opts.context === 'string' || typeof opts.kubeconfig === 'string' || (env.KUBERNETES_SERVICE_HOST ?? '') !== '',
    kubeContext: typeof opts.context === 'string' ? opts.context : null,
    kubeconfigFile: typeof opts.kubeconfig === 'string' ? opts.kubeconfig : null,
    drainDelayMs,
    gracePeriodMs,
    ...overrides,
  };
}
