// PortPolicy objects at admission: the webhook runs the loader the policy files and the
// cluster's policy set use (engine/policy/load.ts) on a created or updated PortPolicy, and
// denies one it would refuse, naming each problem by its field path. Pure, like admit().
import { isDeepStrictEqual } from 'node:util';
import type { PolicyProblem, PortPolicySpec } from '../engine/policy/model.js';
import { loadPolicy } from '../engine/policy/load.js';
import { PORT_POLICY_API_VERSION, PORT_POLICY_KIND } from '../engine/policy/schema.js';
import { clip, type AnswerLimits, type Verdict } from '../sinks/admission/decide.js';
import { allowed, denied, type AdmissionResponse } from '../sinks/admission/response.js';
import type { AdmissionRequest, GroupVersionKind } from '../sources/admission.js';

export interface PolicyAdmission {
  response: AdmissionResponse;
  verdict: Verdict;
}

/** The version the loader reads; the webhook entry asks for it (matchPolicy Equivalent converts others). */
export const isPortPolicy = (kind: GroupVersionKind): boolean => kind.kind === PORT_POLICY_KIND && `${kind.group}/${kind.version}` === PORT_POLICY_API_VERSION;

/**
 * One problem line. A loader message can quote what the policy holds (a tenant's name, a
 * port text), and a field's value is the writer's to make long: past this a line is clipped.
 */
const LINE_CHARS = 512;

/** Room kept for the last line ("- and 100000 more; ..."). */
const MORE_RESERVE = 120;

const line = (p: PolicyProblem) => clip(`- ${p.path || '(the object)'}: ${p.message}`, LINE_CHARS);

/** A heading and one line per problem while they fit in `max` code points; then the count of the rest. */
function problemText(heading: string, problems: readonly PolicyProblem[], max: number): string {
  let text = heading;
  let shown = 0;
  for (const p of problems) {
    const next = `${text}\n${line(p)}`;
    if (next.length > max - MORE_RESERVE) break;
    text = next;
    shown++;
  }
  if (shown < problems.length)
    text += `\n- and ${problems.length - shown} more; \`portcullis scan --policy FILE\` on the object saved to a file lists them all`;
  return clip(text, max);
}

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/**
 * A CREATE or UPDATE of a PortPolicy: denied with the loader's problems when it does not load,
 * allowed (with the loader's warnings) when it does. An UPDATE that leaves an invalid spec as
 * it was is allowed with the problems as warnings: the object got in while this webhook was
 * not asked (down under failurePolicy Ignore, or before it was installed), and refusing its
 * metadata changes would also refuse the removal of a finalizer, so it could never be deleted.
 */
export function admitPortPolicy(request: AdmissionRequest, defaults: PortPolicySpec, limits: AnswerLimits): PolicyAdmission {
  const { uid, object } = request;
  if ((request.operation !== 'CREATE' && request.operation !== 'UPDATE') || request.subResource !== '' || object === null) {
    return { response: allowed(uid), verdict: 'skipped' };
  }
  const name = typeof object.metadata.name === 'string' && object.metadata.name !== '' ? object.metadata.name : request.name;
  // What the cluster's policy set compiles (cluster/policies.ts): the status and the rest of
  // the metadata are the API server's, not the policy's.
  const loaded = loadPolicy({ apiVersion: object.apiVersion, kind: object.kind, metadata: { name }, spec: object.spec }, defaults);
  const warnings = (problems: readonly PolicyProblem[], prefix: string) =>
    problems.slice(0, limits.maxWarnings).map((p) => clip(`${prefix}${p.path}: ${p.message}`, limits.maxWarningChars));
  if (loaded.ok) {
    if (loaded.warnings.length === 0) return { response: allowed(uid), verdict: 'allowed' };
    return { response: allowed(uid, { warnings: warnings(loaded.warnings, '') }), verdict: 'warned' };
  }
  if (request.operation === 'UPDATE' && request.oldObject !== null && isDeepStrictEqual(request.oldObject.spec, object.spec)) {
    const heading = `portcullis ignores this PortPolicy: its spec does not load (${count(loaded.problems.length, 'problem')})`;
    return {
      response: allowed(uid, { warnings: [clip(heading, limits.maxWarningChars), ...warnings(loaded.problems, 'invalid: ')].slice(0, limits.maxWarnings) }),
      verdict: 'warned',
    };
  }
  const heading = `portcullis denied this PortPolicy: ${count(loaded.problems.length, 'problem')}, each at its field path`;
  return { response: denied(uid, problemText(heading, loaded.problems, limits.maxMessageChars)), verdict: 'denied' };
}
