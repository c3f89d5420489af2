// The admission handler: a parsed AdmissionReview and what it depends on in, the reply and
// a record of the decision out. Pure: no I/O, no logging, no metrics; the HTTP layer
// decodes, gathers the cluster facts, encodes, logs and counts.
import fastJsonPatch from 'fast-json-patch';
import { checkedKind } from '../engine/facts/kinds.js';
import { evaluate, type EvaluateOptions } from '../engine/evaluate.js';
import type { CompiledPolicy } from '../engine/policy/model.js';
import { remediate } from '../engine/remediate.js';
import type { Action, ClusterFacts, Finding, RuleId } from '../engine/types.js';
import { decide, clip, type AnswerLimits, type Verdict } from '../sinks/admission/decide.js';
import { allowed, denied, errored, patched, reviewOf, type AdmissionResponse, type AdmissionReviewResponse } from '../sinks/admission/response.js';
import { admissionResource, type AdmissionRequest, type ParsedReview, type ReviewProblem } from '../sources/admission.js';
import type { NodePortAllocator } from '../engine/remediate.js';
import type { PortPolicySpec } from '../engine/policy/model.js';
import { admitPortPolicy, isPortPolicy } from './policy-admission.js';

const ONLY_FINDINGS: EvaluateOptions = { outcomes: false };

export type Endpoint = 'validate' | 'mutate';

export interface AdmitDeps {
  policies: readonly CompiledPolicy[];
  cluster: ClusterFacts;
  /** Set when the request's namespace could not be read in the cluster: label-selected tenancy cannot be decided. */
  namespaceLookupError: string | null;
  /**
   * The NodePort allocator for one request; a dryRun request gets one that reserves nothing.
   * null without a cluster: nodePortAllocation then leaves node ports to the API server.
   */
  allocator: ((opts: { dryRun: boolean }) => NodePortAllocator) | null;
  limits: AnswerLimits;
  /** The shipped default policy's spec: what a PortPolicy object's omitted fields default to (absent: none). */
  policyDefaults?: PortPolicySpec;
}

export interface FindingCount {
  rule: RuleId;
  action: Action;
  count: number;
}

/** What was decided, for the decision log line and the metrics. */
export interface AdmissionRecord {
  uid: string;
  kind: string;
  namespace: string;
  name: string;
  operation: string;
  dryRun: boolean;
  /** The kind is one portcullis checks (bounds the metrics' kind label). */
  checked: boolean;
  verdict: Verdict;
  rules: RuleId[];
  /** Findings per rule and action, for the metrics: one entry per pair, however many findings. */
  findingCounts: FindingCount[];
  /** Findings in all. */
  findings: number;
  warnings: number;
  patchOps: number;
  /** The status message of a denial or error. */
  message: string | null;
}

export interface Admission {
  /** 200 for every judged request (a denial included); 400 for input that cannot be judged. */
  httpStatus: number;
  review: AdmissionReviewResponse;
  record: AdmissionRecord;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Who asked for what: the fields every log line about a request starts with. */
export type RequestIdentity = Pick<AdmissionRecord, 'uid' | 'kind' | 'namespace' | 'name' | 'operation' | 'dryRun'> & {
  /** The requesting user's name; '' when the review has none. */
  user: string;
  /** How many groups the user is in: the list itself can be long and says little in a log. */
  groups: number;
};

/**
 * The request's identity for logs: what a tenant's object is called before it has a name.
 * The object's metadata is the caller's: anything that is not a string is no name.
 */
export function requestIdentity(request: AdmissionRequest): RequestIdentity {
  const meta = (request.object ?? request.oldObject)?.metadata;
  const generateName = text(meta?.generateName);
  const name = request.name || text(meta?.name) || (generateName ? `${generateName}*` : '');
  const groups = request.userInfo?.groups;
  return {
    uid: request.uid,
    kind: request.kind.kind,
    namespace: request.namespace,
    name,
    operation: request.operation,
    dryRun: request.dryRun,
    user: text(request.userInfo?.username),
    groups: Array.isArray(groups) ? groups.length : 0,
  };
}

/**
 * The API server's uids are UUIDs (36 characters). A longer one comes from another caller;
 * echoing it would make the answer as large as the uid, so the request is refused.
 */
export const MAX_UID_CHARS = 128;

/** Namespace names are DNS labels of at most 63 characters; a longer one is quoted clipped. */
const NAMESPACE_CHARS = 63;

function countFindings(findings: readonly Finding[]): FindingCount[] {
  const counts: FindingCount[] = [];
  for (const f of findings) {
    const c = counts.find((e) => e.rule === f.rule && e.action === f.action);
    if (c === undefined) counts.push({ rule: f.rule, action: f.action, count: 1 });
    else c.count++;
  }
  return counts;
}

export function invalid(problem: ReviewProblem, httpStatus = 400): Admission {
  return {
    httpStatus,
    review: reviewOf(problem.apiVersion, errored(problem.uid, httpStatus, problem.message)),
    record: {
      uid: problem.uid,
      kind: '',
      namespace: '',
      name: '',
      operation: '',
      dryRun: false,
      checked: false,
      verdict: 'invalid',
      rules: [],
      findingCounts: [],
      findings: 0,
      warnings: 0,
      patchOps: 0,
      message: problem.message,
    },
  };
}

/**
 * The record is written out field by field: spreading the identity and the extras into it
 * (several shapes through one spread site) costs about 3% of the webhook's CPU under the load of
 * `npm run bench:webhook` (a `node --cpu-prof` profile; docs/decisions.md).
 */
function answer(
  parsed: ParsedReview,
  checked: boolean,
  response: AdmissionResponse,
  verdict: Verdict,
  extra: Partial<Pick<AdmissionRecord, 'rules' | 'findingCounts' | 'findings' | 'patchOps'>> = {},
): Admission {
  const id = requestIdentity(parsed.request);
  return {
    httpStatus: 200,
    review: reviewOf(parsed.apiVersion, response),
    record: {
      uid: id.uid,
      kind: id.kind,
      namespace: id.namespace,
      name: id.name,
      operation: id.operation,
      dryRun: id.dryRun,
      checked,
      verdict,
      rules: extra.rules ?? [],
      findingCounts: extra.findingCounts ?? [],
      findings: extra.findings ?? 0,
      warnings: response.warnings?.length ?? 0,
      patchOps: extra.patchOps ?? 0,
      message: response.status?.message ?? null,
    },
  };
}

const apiVersionOf = (k: AdmissionRequest['kind']) => (k.group ? `${k.group}/${k.version}` : k.version);

export function admit(endpoint: Endpoint, parsed: ParsedReview | ReviewProblem, deps: AdmitDeps): Admission {
  if (!parsed.ok) return invalid(parsed);
  const { request } = parsed;
  const { uid } = request;
  if (uid.length > MAX_UID_CHARS) {
    return invalid({
      ok: false,
      apiVersion: parsed.apiVersion,
      uid: '',
      message: `request.uid is longer than ${MAX_UID_CHARS} characters; the API server sends a UUID`,
    });
  }
  if (isPortPolicy(request.kind)) {
    const judged =
      endpoint === 'validate' ? admitPortPolicy(request, deps.policyDefaults ?? {}, deps.limits) : { response: allowed(uid), verdict: 'skipped' as const };
    return answer(parsed, true, judged.response, judged.verdict);
  }
  const kind = checkedKind(apiVersionOf(request.kind), request.kind.kind);
  // DELETE cannot add a port; status and scale cannot change one; CONNECT carries no object.
  if (request.operation === 'DELETE' || request.operation === 'CONNECT' || request.subResource !== '' || kind === null || request.object === null) {
    return answer(parsed, kind !== null, allowed(uid), 'skipped');
  }
  if (deps.namespaceLookupError !== null && deps.policies.some((p) => p.hasLabelTenants)) {
    const message =
      `portcullis cannot tell the tenant of namespace "${clip(request.namespace, NAMESPACE_CHARS)}": ${deps.namespaceLookupError}. ` +
      'Tenants are chosen by namespace labels, so the request is denied rather than judged without them; retry, and ask an admin if it persists.';
    return answer(parsed, true, denied(uid, message), 'denied');
  }
  const resource = admissionResource(request, request.object);

  if (endpoint === 'mutate') {
    if (!deps.policies.some((p) => p.remediation.netpolCarveOut || p.remediation.dropOutOfRangeNodePort || p.remediation.nodePortAllocation)) {
      return answer(parsed, true, allowed(uid), 'allowed');
    }
    const result = remediate({
      object: request.object,
      namespace: resource.namespace,
      oldObject: request.operation === 'UPDATE' ? request.oldObject : null,
      policies: deps.policies,
      cluster: deps.cluster,
      allocator: deps.allocator?.({ dryRun: request.dryRun }) ?? null,
    });
    if (result.denial !== null) return answer(parsed, true, denied(uid, clip(result.denial, deps.limits.maxMessageChars)), 'denied');
    // Edit a copy, diff it against the original: the patch is exactly what changed.
    const patch = fastJsonPatch.compare(request.object, result.object);
    const max = deps.limits.maxWarnings;
    const notes = [
      ...result.changes.slice(0, max).map((c) => `portcullis changed ${c}`),
      ...result.skipped.slice(0, max).map((s) => `portcullis left as is: ${s}`),
    ];
    const warnings = notes.slice(0, max).map((n) => clip(n, deps.limits.maxWarningChars));
    const response = patched(uid, patch, { warnings });
    return answer(parsed, true, response, patch.length > 0 ? 'patched' : 'allowed', { patchOps: patch.length });
  }

  // An admission answer tells only findings: pass and skip records would be built for nothing.
  const evaluation = evaluate(resource, deps.policies, deps.cluster, ONLY_FINDINGS);
  let previous: Set<string> | null = null;
  if (request.operation === 'UPDATE' && request.oldObject && evaluation.findings.some((f) => f.action === 'deny')) {
    // Only a deny can be excused by the old object. Matched by Finding.key (rule, container or rule identity, port, protocol), never by
    // list index: inserting a container shifts every index after it.
    const old = evaluate(admissionResource(request, request.oldObject), deps.policies, deps.cluster, ONLY_FINDINGS);
    previous = new Set(old.findings.map((f) => f.key));
  }
  const decision = decide({
    uid,
    kind: request.kind.kind,
    hasPodTemplate: kind.type === 'workload' && request.kind.kind !== 'Pod',
    findings: evaluation.findings,
    previous,
    limits: deps.limits,
  });
  return answer(parsed, true, decision.response, decision.verdict, {
    rules: decision.rules,
    findingCounts: countFindings(evaluation.findings),
    findings: evaluation.findings.length,
  });
}
