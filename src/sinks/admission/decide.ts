// Findings → the webhook's answer. Deciding only: it returns the response and what it
// decided as data; the HTTP layer logs and counts it.
import type { Finding, RuleId } from '../../engine/types.js';
import { collapse, type FindingGroup } from './collapse.js';
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

/** Fixed upper sizes of what an answer tells, whatever the object holds (ServeConfig has the reasons). */
export interface AnswerLimits {
  maxWarnings: number;
  maxWarningChars: number;
  /** status.message of a denial, in code points, the line counting what was left out included. */
  maxMessageChars: number;
  /** Each audit annotation's value, in code points. */
  maxAnnotationChars: number;
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
  limits: AnswerLimits;
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
  // 2 × max UTF-16 units hold at least max code points: a megabyte text is never split whole.
  const head = text.length > 2 * max ? text.slice(0, 2 * max) : text;
  const chars = Array.from(head);
  return chars.length <= max && head === text ? text : `${chars.slice(0, max - 1).join('')}…`;
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

/**
 * One line of a denial or one entry of an annotation: kubectl prints the message as is, for
 * a person to read. A network-policy finding names the rule's peers, which a caller can make
 * megabytes long: past this the text is clipped, and `portcullis scan` shows it whole.
 */
const LINE_CHARS = 512;

/** The object's kind as it spells it (caller-chosen): Kubernetes kinds are short CamelCase names. */
const KIND_CHARS = 63;

/** Room kept for the line saying how many were left out ("- and 100000 more violations; ..."). */
const MORE_RESERVE = 100;

const moreLikeIt = (count: number) => (count > 1 ? ` (and ${count - 1} more like it)` : '');

/**
 * One line per distinct deny finding in status.message: rule, policy, path, value, how many
 * more like it, and what to do. Lines are added while they fit in `max` characters; past
 * that the last line counts the violations left out.
 */
function denialMessage(groups: readonly FindingGroup[], total: number, kind: string, max: number): string {
  let text = `portcullis denied this ${clip(kind, KIND_CHARS)}: ${total === 1 ? '1 violation' : `${total} violations`}`;
  let shown = 0;
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    const f = g.first;
    // A rule that could not check the object (status error) has no path to point at.
    const line = clip(
      `- ${f.rule} (policy ${f.policy})${f.path === '' ? '' : ` at ${f.path}`}${f.value === null ? '' : ` = ${f.value}`}${moreLikeIt(g.count)}: ${f.message}`,
      LINE_CHARS,
    );
    // The last line needs no room for a count after it. Lengths in UTF-16 units bound code points from above.
    const room = i === groups.length - 1 ? max : max - MORE_RESERVE;
    if (text.length + 1 + line.length > room) break;
    text += `\n${line}`;
    shown += g.count;
  }
  if (shown < total)
    text += `\n- and ${total - shown} more ${total - shown === 1 ? 'violation' : 'violations'}; run portcullis scan on this object to see them all`;
  return text;
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

const andMore = (count: number) => (count > 1 ? ` and ${count - 1} more` : '');

function carriedOverWarning(g: FindingGroup, kind: string, hasPodTemplate: boolean, max: number): string {
  const f = g.first;
  // This update is allowed; the warning says what comes next: new Pods from the template (or
  // a new object like this one) will be denied.
  const meaning = hasPodTemplate
    ? 'new Pods from this template will be denied'
    : kind === 'Pod'
      ? 'new Pods like this will be denied'
      : `a new ${clip(kind, KIND_CHARS)} like this will be denied`;
  const where = f.path === '' ? [] : places(f.path).map((p) => ` at ${p}`);
  return firstFitting(
    [...where, ''].map((at) => `${f.rule}${valueText(f)}${at}${andMore(g.count)} predates this update; ${meaning}`),
    max,
  );
}

function findingWarning(g: FindingGroup, max: number): string {
  const f = g.first;
  const where = f.path === '' ? [] : places(f.path).map((p) => ` at ${p}`);
  // The message is clipped first: the candidates are built from it, and it may be megabytes.
  const message = clip(f.message, max);
  return firstFitting(
    [...where, ''].map((at) => `${f.rule}${at}${andMore(g.count)}: ${message}`),
    max,
  );
}

/**
 * Few and short: at most `maxWarnings`, each under `maxWarningChars`; repeated texts once (the
 * API server drops repeats anyway). Past the limit, the last warning says how many findings
 * were left out; the groups past it are counted, not worded.
 */
function warningsOf(carried: readonly FindingGroup[], warn: readonly FindingGroup[], input: DecideInput): string[] {
  const { maxWarnings, maxWarningChars } = input.limits;
  const kept = new Map<string, number>();
  let left = 0;
  const add = (g: FindingGroup, word: (g: FindingGroup) => string) => {
    if (kept.size > maxWarnings) {
      left += g.count;
      return;
    }
    const text = word(g);
    kept.set(text, (kept.get(text) ?? 0) + g.count);
  };
  for (const g of carried) add(g, (c) => carriedOverWarning(c, input.kind, input.hasPodTemplate, maxWarningChars));
  for (const g of warn) add(g, (w) => findingWarning(w, maxWarningChars));
  if (kept.size <= maxWarnings && left === 0) return [...kept.keys()];
  const texts = [...kept];
  while (texts.length > Math.max(0, maxWarnings - 1)) left += texts.pop()![1];
  const warnings = texts.map(([text]) => text);
  if (maxWarnings > 0) warnings.push(clip(`portcullis: ${left} more findings; run portcullis scan on this object to see them all`, maxWarningChars));
  return warnings;
}

/** Room kept in an annotation for the entry counting what was left out (`,{"more":100000}`). */
const ANNOTATION_MORE_RESERVE = 24;

/**
 * Audit annotations, one per rule: the key is the rule id (no '/', at most 63 characters;
 * the API server prefixes it with the webhook's name), the value a JSON list of where, one
 * entry per distinct finding with its `count` when it repeats, within `max` characters;
 * past that a last entry `{"more": n}` counts the findings left out.
 */
function auditAnnotations(audit: readonly FindingGroup[], max: number): Record<string, string> {
  const byRule = new Map<string, FindingGroup[]>();
  for (const g of audit) {
    const list = byRule.get(g.first.rule);
    if (list === undefined) byRule.set(g.first.rule, [g]);
    else list.push(g);
  }
  const annotations: Record<string, string> = {};
  for (const [rule, list] of byRule) {
    const entries: string[] = [];
    let length = 2;
    let left = 0;
    for (let i = 0; i < list.length; i++) {
      const { first: f, count } = list[i];
      if (left > 0) {
        left += count;
        continue;
      }
      const entry = JSON.stringify({
        policy: f.policy,
        path: clip(f.path, LINE_CHARS),
        value: f.value,
        message: clip(f.message, LINE_CHARS),
        ...(count > 1 ? { count } : {}),
      });
      const room = i === list.length - 1 ? max : max - ANNOTATION_MORE_RESERVE;
      if (length + entry.length + 1 > room) left += count;
      else {
        entries.push(entry);
        length += entry.length + 1;
      }
    }
    if (left > 0) entries.push(JSON.stringify({ more: left }));
    annotations[rule] = `[${entries.join(',')}]`;
  }
  return annotations;
}

export function decide(input: DecideInput): Decision {
  const { uid, findings, previous, limits } = input;
  if (findings.length === 0) return { response: allowed(uid), verdict: 'allowed', rules: [], carriedOver: [] };
  const deny: Finding[] = [];
  const carriedOver: Finding[] = [];
  const warn: Finding[] = [];
  const audit: Finding[] = [];
  const ruleSet = new Set<RuleId>();
  for (const f of findings) {
    ruleSet.add(f.rule);
    if (f.action === 'deny') (previous?.has(f.key) ? carriedOver : deny).push(f);
    else if (f.action === 'warn') warn.push(f);
    else audit.push(f);
  }
  const rules = [...ruleSet].sort();
  const warnings = warningsOf(collapse(carriedOver), collapse(warn), input);
  const notes = { warnings, auditAnnotations: auditAnnotations(collapse(audit), limits.maxAnnotationChars) };
  if (deny.length > 0) {
    return {
      response: denied(uid, denialMessage(collapse(deny), deny.length, deny[0].resource.kind, limits.maxMessageChars), notes),
      verdict: 'denied',
      rules,
      carriedOver,
    };
  }
  const verdict: Verdict = warnings.length > 0 ? 'warned' : audit.length > 0 ? 'audited' : 'allowed';
  return { response: allowed(uid, notes), verdict, rules, carriedOver };
}
