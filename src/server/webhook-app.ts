// The HTTPS app: POST /validate and /mutate. It only decodes (body, JSON, review), gathers
// the cluster facts the request needs, calls the pure admit(), encodes the answer, and then
// tells (one log line, the metrics). Every throw becomes a 500 AdmissionReview.
import express, { type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { NamespaceLookupError, type ClusterView } from '../cluster/view.js';
import type { CompiledPolicy, PortPolicySpec } from '../engine/policy/model.js';
import type { NodePortAllocator } from '../engine/remediate.js';
import { NO_CLUSTER_FACTS, type ClusterFacts, type Labels } from '../engine/types.js';
import type { AnswerLimits } from '../sinks/admission/decide.js';
import { errored, reviewOf, type AdmissionReviewResponse } from '../sinks/admission/response.js';
import type { WebhookMetrics } from '../sinks/metrics.js';
import {
  ADMISSION_API_VERSION,
  parseAdmissionReview,
  type AdmissionRequest,
  type GroupVersionKind,
  type ParsedReview,
  type ReviewProblem,
} from '../sources/admission.js';
import { admit, invalid, MAX_UID_CHARS, requestIdentity, type Admission, type Endpoint, type RequestIdentity } from './admit.js';
import { BodyBudget, MAX_BODY_NESTING, nestedDeeperThan, parseGoDuration, readBody, type BodyFailure } from './body.js';
import { LOG } from './log-keys.js';
import { LOG_BUDGET, logText } from './log-text.js';

export interface WebhookAppDeps {
  logger: Logger;
  metrics: WebhookMetrics;
  /** The active policy set: the cluster's PortPolicies when any exist, else the last good files. */
  policies: () => readonly CompiledPolicy[];
  view: ClusterView | null;
  allocator: ((opts: { dryRun: boolean }) => NodePortAllocator) | null;
  limits: AnswerLimits;
  /** What a PortPolicy object's omitted fields default to, for judging PortPolicy writes. */
  policyDefaults: PortPolicySpec;
  bodyLimitBytes: number;
  /** Bytes of request bodies read at once across all connections (ServeConfig.bodyBytesInFlight). */
  bodyBytesInFlight: number;
  defaultTimeoutMs: number;
  timeoutBudgetShare: number;
  /** Milliseconds, monotonic. */
  clock: () => number;
  /** True once draining: answers carry `Connection: close` so clients move to other replicas. */
  draining: () => boolean;
}

/** The largest webhook timeout the API server allows (admissionregistration.k8s.io/v1 timeoutSeconds). */
const MAX_TIMEOUT_MS = 30_000;

const problem = (message: string, uid = ''): ReviewProblem => ({ ok: false, apiVersion: ADMISSION_API_VERSION, uid, message });

interface Facts {
  cluster: ClusterFacts;
  namespaceLookupError: string | null;
}

/**
 * The node addresses, and the request's namespace labels when a policy chooses tenants by
 * label (a cache miss costs a read from the API server), within the time left. Synchronous
 * unless a read may be needed: most requests then skip a promise and a microtask turn.
 */
function gatherFacts(view: ClusterView | null, policies: readonly CompiledPolicy[], namespace: string, timeLeftMs: number): Facts | Promise<Facts> {
  if (!view) return NO_FACTS;
  const nodeAddresses = view.nodeAddresses();
  if (namespace === '' || !policies.some((p) => p.hasLabelTenants))
    return { cluster: { namespaceLabels: () => undefined, nodeAddresses }, namespaceLookupError: null };
  return namespaceFacts(view, namespace, nodeAddresses, timeLeftMs);
}

const NO_FACTS: Facts = { cluster: NO_CLUSTER_FACTS, namespaceLookupError: null };

async function namespaceFacts(view: ClusterView, namespace: string, nodeAddresses: readonly string[], timeLeftMs: number): Promise<Facts> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const labels: Labels | undefined = await Promise.race([
      view.namespaceLabels(namespace),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new NamespaceLookupError(`reading the Namespace took longer than the ${Math.round(timeLeftMs)} ms left`)),
          Math.max(0, timeLeftMs),
        );
      }),
    ]);
    return { cluster: { namespaceLabels: (ns) => (ns === namespace ? labels : undefined), nodeAddresses }, namespaceLookupError: null };
  } catch (err) {
    if (!(err instanceof NamespaceLookupError)) throw err;
    return { cluster: { namespaceLabels: () => undefined, nodeAddresses }, namespaceLookupError: err.message };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * V8's JSON.parse messages quote the text around the error ("Unexpected token 's',
 * \"...:\"s3cr3t...\" is not valid JSON"), which may be a secret from a pod's env: the answer
 * and the log keep only the reason and the position.
 */
export function jsonErrorText(err: Error): string {
  return err.message.replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '');
}

/**
 * The time reading the body and deciding may take: a share of the API server's `timeout`
 * query parameter (a Go duration), so the answer arrives before the API server gives up.
 */
function timeBudgetMs(url: string, defaultTimeoutMs: number, share: number): number {
  const query = url.indexOf('?');
  const asked = query < 0 ? null : parseGoDuration(new URLSearchParams(url.slice(query + 1)).get('timeout'));
  // The API server sends 1-30 s (timeoutSeconds' range); a larger value from another client
  // is capped there, also because setTimeout turns anything past 2^31-1 ms into 1 ms.
  return Math.min(asked ?? defaultTimeoutMs, MAX_TIMEOUT_MS) * share;
}

/** The answer to a body that was not read whole. */
function refusedBody(
  reason: Exclude<BodyFailure, 'aborted'>,
  budgetMs: number,
  limits: Pick<WebhookAppDeps, 'bodyLimitBytes' | 'bodyBytesInFlight'>,
): Admission {
  switch (reason) {
    case 'too-large':
      return invalid(problem(`the body is larger than the ${limits.bodyLimitBytes}-byte limit (two 3 MiB objects and the review around them)`), 413);
    case 'busy':
      return invalid(problem(`the webhook holds ${limits.bodyBytesInFlight} bytes of request bodies it has not answered yet, its limit; retry`), 503);
    case 'timed-out':
      return invalid(problem(`the body did not arrive within ${Math.round(budgetMs)} ms`), 408);
  }
}

/**
 * The body as an AdmissionReview, or what keeps it from being one. It is read as JSON whatever
 * its Content-Type says: the API server always sends application/json, and `curl --data` sends
 * application/x-www-form-urlencoded unless told otherwise.
 */
function parseBody(body: Buffer): ParsedReview | ReviewProblem {
  if (nestedDeeperThan(body, MAX_BODY_NESTING)) {
    return problem(`the body is nested deeper than ${MAX_BODY_NESTING.toLocaleString('en-US')} levels; the API server sends no JSON deeper than 10,000`);
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return problem(`the body is not valid JSON: ${jsonErrorText(err as Error)}`);
  }
  return parseAdmissionReview(json);
}

/** What the answer to a throw and its log line can say of the request, as far as it was read. */
function readSoFar(parsed: ParsedReview | ReviewProblem | null): { uid: string; apiVersion: string; kind: GroupVersionKind | null; operation: string } {
  if (parsed === null) return { uid: '', apiVersion: ADMISSION_API_VERSION, kind: null, operation: 'none' };
  if (!parsed.ok) return { uid: '', apiVersion: parsed.apiVersion, kind: null, operation: 'none' };
  return { uid: parsed.request.uid, apiVersion: parsed.apiVersion, kind: parsed.request.kind, operation: parsed.request.operation };
}

/** The 500 AdmissionReview; a uid past MAX_UID_CHARS is not echoed (admit.ts). */
function internalError(apiVersion: string, uid: string): AdmissionReviewResponse {
  const echo = uid.length > MAX_UID_CHARS ? '' : uid;
  return reviewOf(apiVersion, errored(echo, 500, `portcullis failed on this request (uid ${echo || 'unknown'}); its log has the details`));
}

function send(res: Response, status: number, body: unknown, close: boolean): void {
  const json = JSON.stringify(body);
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) };
  if (close) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(json);
}

/**
 * The request's identity as log fields, in the order every line about it starts with; each
 * value is the caller's, so each is cut to its budget (log-text.ts).
 */
const identityFields = (id: RequestIdentity, endpoint: Endpoint): Record<string, unknown> => ({
  [LOG.uid]: logText(id.uid, LOG_BUDGET.uid),
  [LOG.endpoint]: endpoint,
  [LOG.kind]: logText(id.kind, LOG_BUDGET.kind),
  [LOG.namespace]: logText(id.namespace, LOG_BUDGET.namespace),
  [LOG.name]: logText(id.name, LOG_BUDGET.name),
  [LOG.operation]: id.operation,
  [LOG.dryRun]: id.dryRun,
  [LOG.user]: logText(id.user, LOG_BUDGET.username),
  [LOG.groups]: id.groups,
});

export function createWebhookApp(deps: WebhookAppDeps): express.Express {
  const { logger, metrics } = deps;
  const bodyBudget = new BodyBudget(deps.bodyBytesInFlight);

  /**
   * Metrics, and the decision line: the request's identity first (as a per-request child
   * logger would write it), then the decision, added to the same object: copying the identity
   * into a new one with a spread costs about 3% of the webhook's CPU under the load of
   * `npm run bench:webhook` (a `node --cpu-prof` profile; docs/decisions.md).
   */
  const tell = (endpoint: Endpoint, admission: Admission, latencyMs: number, id: RequestIdentity | null, gvk: GroupVersionKind | null) => {
    const r = admission.record;
    metrics.countRequest(endpoint, r.verdict === 'invalid' ? null : gvk, r.operation || 'none', r.verdict);
    metrics.observeLatency(endpoint, latencyMs / 1000);
    for (const f of r.findingCounts) metrics.countFinding(f.rule, f.action, f.count);
    const line = id === null ? { [LOG.endpoint]: endpoint, [LOG.uid]: logText(r.uid, LOG_BUDGET.uid) } : identityFields(id, endpoint);
    line[LOG.verdict] = r.verdict;
    line[LOG.rules] = r.rules;
    line[LOG.findings] = r.findings;
    line[LOG.warnings] = r.warnings;
    line[LOG.patchOps] = r.patchOps;
    line[LOG.httpStatus] = admission.httpStatus;
    line[LOG.latencyMs] = Math.round(latencyMs * 1000) / 1000;
    if (r.verdict === 'denied' || r.verdict === 'invalid') line[LOG.message] = logText(r.message, LOG_BUDGET.message);
    return line;
  };

  /** The answer, then the telling: the decision line at info, a refused request's at warn. */
  const answer = (res: Response, endpoint: Endpoint, admission: Admission, start: number, id: RequestIdentity | null, gvk: GroupVersionKind | null) => {
    // A timed-out or oversized request may still be sending: close rather than read on.
    send(res, admission.httpStatus, admission.review, deps.draining() || admission.httpStatus === 408 || admission.httpStatus === 503);
    const line = tell(endpoint, admission, deps.clock() - start, id, gvk);
    if (admission.record.verdict === 'invalid') logger.warn(line, 'admission request refused');
    else logger.info(line, 'admission decision');
  };

  /** The review's object, at debug level only: pod specs carry secrets in env. */
  const logObject = (endpoint: Endpoint, id: RequestIdentity, request: AdmissionRequest) => {
    if (logger.isLevelEnabled('debug')) logger.debug({ ...identityFields(id, endpoint), [LOG.object]: request.object }, 'admission request');
  };

  /**
   * The cluster facts the review needs within the time left, then the pure decision.
   * Synchronous unless a Namespace read is needed: most requests skip a promise.
   */
  const judge = (endpoint: Endpoint, parsed: ParsedReview | ReviewProblem, start: number, budgetMs: number): Admission | Promise<Admission> => {
    const policies = deps.policies();
    const facts = parsed.ok ? gatherFacts(deps.view, policies, parsed.request.namespace, budgetMs - (deps.clock() - start)) : NO_FACTS;
    const admitWith = (f: Facts) =>
      admit(endpoint, parsed, {
        policies,
        cluster: f.cluster,
        namespaceLookupError: f.namespaceLookupError,
        allocator: deps.allocator,
        limits: deps.limits,
        policyDefaults: deps.policyDefaults,
      });
    return facts instanceof Promise ? facts.then(admitWith) : admitWith(facts);
  };

  /** A throw anywhere in handle: logged and counted as an error, and answered 500 unless an answer went out. */
  const answerThrow = (
    res: Response,
    endpoint: Endpoint,
    err: unknown,
    start: number,
    parsed: ParsedReview | ReviewProblem | null,
    id: RequestIdentity | null,
  ) => {
    const read = readSoFar(parsed);
    const fields = id ? identityFields(id, endpoint) : { [LOG.uid]: logText(read.uid, LOG_BUDGET.uid), [LOG.endpoint]: endpoint };
    fields.err = err;
    logger.error(fields, 'internal error while answering an admission request');
    metrics.countRequest(endpoint, read.kind, read.operation, 'error');
    metrics.observeLatency(endpoint, (deps.clock() - start) / 1000);
    // 500, not a denial: the webhook configuration's failurePolicy decides.
    if (!res.headersSent) send(res, 500, internalError(read.apiVersion, read.uid), deps.draining());
  };

  /** Read the body → parse it → identify the request → gather facts and admit → answer and tell. */
  const handle = (endpoint: Endpoint) => async (req: Request, res: Response) => {
    const start = deps.clock();
    const budgetMs = timeBudgetMs(req.url, deps.defaultTimeoutMs, deps.timeoutBudgetShare);
    // What the answer to a throw echoes, as far as the request was read. The identity is the
    // fields of a child logger (controller-runtime's per-request logger), passed in each call
    // instead: a pino child per request serialises its bindings once for the one line most
    // requests get.
    let parsed: ParsedReview | ReviewProblem | null = null;
    let id: RequestIdentity | null = null;
    let releaseBody = (): void => {};
    try {
      const body = await readBody(req, deps.bodyLimitBytes, budgetMs, bodyBudget);
      if (!body.ok) {
        if (body.reason !== 'aborted') answer(res, endpoint, refusedBody(body.reason, budgetMs, deps), start, null, null); // aborted: nobody left to answer
        return;
      }
      releaseBody = body.release;
      parsed = parseBody(body.body);
      if (parsed.ok) {
        id = requestIdentity(parsed.request);
        logObject(endpoint, id, parsed.request);
      }
      let admission = judge(endpoint, parsed, start, budgetMs);
      if (admission instanceof Promise) admission = await admission;
      answer(res, endpoint, admission, start, id, parsed.ok ? parsed.request.kind : null);
    } catch (err) {
      answerThrow(res, endpoint, err, start, parsed, id);
    } finally {
      releaseBody();
    }
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.post('/validate', handle('validate'));
  app.post('/mutate', handle('mutate'));
  app.all(['/validate', '/mutate'], (req, res) => {
    res.setHeader('allow', 'POST');
    send(res, 405, { error: `method ${req.method} is not allowed; POST an AdmissionReview` }, false);
  });
  app.use((req, res) => send(res, 404, { error: `no such endpoint: ${req.method} ${req.path}; use POST /validate or POST /mutate` }, false));
  // express's own handler would answer HTML with a stack trace outside NODE_ENV=production.
  app.use((err: Error, _req: Request, res: Response, _next: (err?: unknown) => void) => {
    logger.error({ err }, 'express error outside the admission handler');
    if (!res.headersSent) send(res, 500, { error: 'internal error; the webhook log has the details' }, deps.draining());
  });
  return app;
}
