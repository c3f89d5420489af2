// Findings → the webhook's answer. Deciding only: it returns the response and what it
// decided as data; the HTTP layer logs and counts it.
import type { Finding, RuleId } from '../../engine/types.js';
import { allowed, denied, type AdmissionResponse } from './response.js';

export type Verdict =
  /** At least one deny finding that is not carried over from the old object. */
  | 'denied'
  /** Allowed with warnings from warn or carried-over findings. */
  | 'warned'
  /** Allowed; audit findings recorded in auditAnnotations. */
  | 'audited'
  | 'allowed'
  /** /mutate answered with a patch. */
  | 'patched'
  /** Not evaluated: DELETE, CONNECT, a subresource, or a kind portcullis does not check. */
  | 'skipped'
  /** Not an acceptable AdmissionReview (malformed JSON, missing uid, too large, too slow). */
  | 'invalid'
  /** An internal error: answered 500 so failurePolicy decides. */
  | 'error';

export interface WarningLimits {
  maxWarnings: number;
  maxWarningChars: number;
}

export interface DecideInput {
  uid: string;
  /** The object's kind, to word what a carried-over finding means. */
  kind: string;
  /** True when the object carries a pod template (new Pods are made from it). */
  hasPodTemplate: boolean;
  findings: readonly Finding[];
  /** On UPDATE: Finding.key of every finding the old object already had; null otherwise. */
  previous: ReadonlySet<string> | null;
  limits: WarningLimits;
}

export interface Decision {
  response: AdmissionResponse;
  verdict: Verdict;
  /** Rules with a finding, sorted, for the decision log. */
  rules: RuleId[];
  /** Deny findings allowed because the old object already had them. */
  carriedOver: Finding[];
}

/** `...` clipped to `max` code points, so one long path or message never loses the warning. */
export function clip(text: string, max: number): string {
  // UTF-16 length bounds the code-point count from above: the common case needs no split.
  if (text.length <= max) return text;
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** At most `max` code points; counted without splitting the text into an array (most messages are longer than a warning). */
function fits(text: string, max: number): boolean {
  if (text.length <= max) return true;
  let points = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
    if (++points > max) return false;
  }
  return true;
}

const valueText = (f: Finding) => (f.value === null ? '' : ` ${f.value}`);

/** One line per deny finding in status.message: rule, policy, path, value and what to do. */
function denialMessage(deny: readonly Finding[]): string {
  // A rule that could not check the object (status error) has no path to point at.
  const lines = deny.map((f) => `- ${f.rule} (policy ${f.policy})${f.path === '' ? '' : ` at ${f.path}`}${f.value === null ? '' : ` = ${f.value}`}: ${f.message}`);
  const what = deny.length === 1 ? '1 violation' : `${deny.length} violations`;
  return `portcullis denied this ${deny[0].resource.kind}: ${what}\n${lines.join('\n')}`;
}

/**
 * Ever shorter ways to say where a finding is, for warnings that must stay under 120
 * characters: the full path; inside a pod spec, the path from `containers[i]` on (the prefix
 * is the same for every finding of the object); then without the final field name.
 */
function places(path: string): string[] {
  const inPodSpec = path.replace(/^spec\.(?:jobTemplate\.spec\.)?(?:template\.spec\.)?(?=(?:containers|initContainers|ephemeralContainers)\[)/, '');
  if (inPodSpec === path) return [path];
  const port = inPodSpec.replace(/\.(?:hostPort|containerPort)$/, '');
  return port === inPodSpec ? [path, inPodSpec] : [path, inPodSpec, port];
}

/** The first candidate that fits, else the last one clipped. */
function firstFitting(candidates: string[], max: number): string {
  return candidates.find((c) => fits(c, max)) ?? clip(candidates[candidates.length - 1], max);
}

function carriedOverWarning(f: Finding, kind: string, hasPodTemplate: boolean, max: number): string {
  // Said as the issue words it for templates, and in the same terms for a Pod itself.
  const meaning = hasPodTemplate ? 'new Pods from this template will be denied' : kind === 'Pod' ? 'new Pods like this will be denied' : `a new ${kind} like this will be denied`;
  const where = f.path === '' ? [] : places(f.path).map((p) => ` at ${p}`);
  return firstFitting([...where, ''].map((at) => `${f.rule}${valueText(f)}${at} predates this update; ${meaning}`), max);
}

function findingWarning(f: Finding, max: number): string {
  const where = f.path === '' ? [] : places(f.path).map((p) => ` at ${p}`);
  return firstFitting([...where, ''].map((at) => `${f.rule}${at}: ${f.message}`), max);
}

/** Few and short: past the limit, the last warning says how many were left out. */
function limitWarnings(warnings: string[], limits: WarningLimits): string[] {
  const unique = [...new Set(warnings)];
  if (unique.length <= limits.maxWarnings) return unique;
  const kept = unique.slice(0, limits.maxWarnings - 1);
  kept.push(`portcullis: ${unique.length - kept.length} more findings; run portcullis scan on this object to see them all`);
  return kept;
}

/**
 * Audit annotations, one per rule: the key is the rule id (no '/', at most 63 characters;
 * the API server prefixes it with the webhook's name), the value a JSON list of where.
 */
function auditAnnotations(audit: readonly Finding[]): Record<string, string> {
  const byRule = new Map<string, { policy: string; path: string; value: number | null; message: string }[]>();
  for (const f of audit) {
    const list = byRule.get(f.rule) ?? [];
    list.push({ policy: f.policy, path: f.path, value: f.value, message: f.message });
    byRule.set(f.rule, list);
  }
  return Object.fromEntries([...byRule].map(([rule, list]) => [rule, JSON.stringify(list)]));
}

export function decide(input: DecideInput): Decision {
  const { uid, findings, previous, limits } = input;
  if (findings.length === 0) return { response: allowed(uid), verdict: 'allowed', rules: [], carriedOver: [] };
  const deny: Finding[] = [];
  const carriedOver: Finding[] = [];
  const warn: Finding[] = [];
  const audit: Finding[] = [];
  for (const f of findings) {
    if (f.action === 'deny') (previous?.has(f.key) ? carriedOver : deny).push(f);
    else if (f.action === 'warn') warn.push(f);
    else audit.push(f);
  }
  const rules = [...new Set(findings.map((f) => f.rule))].sort();
  const warnings = limitWarnings(
    [
      ...carriedOver.map((f) => carriedOverWarning(f, input.kind, input.hasPodTemplate, limits.maxWarningChars)),
      ...warn.map((f) => findingWarning(f, limits.maxWarningChars)),
    ],
    limits,
  );
  const notes = { warnings, auditAnnotations: auditAnnotations(audit) };
  if (deny.length > 0) return { response: denied(uid, denialMessage(deny), notes), verdict: 'denied', rules, carriedOver };
  const verdict: Verdict = warnings.length > 0 ? 'warned' : audit.length > 0 ? 'audited' : 'allowed';
  return { response: allowed(uid, notes), verdict, rules, carriedOver };
}
