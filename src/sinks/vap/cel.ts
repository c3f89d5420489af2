// Building CEL text from policy data: literals, globs, label selectors, and the lenient
// number and protocol reading the engine's facts do (src/engine/facts/object.ts). Every
// expression built here guards its field reads with has() and type(), so no object the API
// server stores makes it error (an error goes to failurePolicy: Fail, a denial).
import type { LabelSelector } from '../../engine/match.js';

/** A CEL string literal: single-quoted, with backslash escapes for quotes, backslashes and controls. */
export function str(text: string): string {
  let out = "'";
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === "'" || ch === '\\') out += `\\${ch}`;
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}'`;
}

export const list = (items: readonly string[]): string => `[${items.join(', ')}]`;

/**
 * A name glob (src/engine/match.ts: `*` any run, `?` one character) as a CEL boolean on `subject`:
 * a literal becomes an equality, a glob an RE2 pattern anchored at both ends.
 */
export function globMatch(subject: string, glob: string): string {
  if (glob === '*') return 'true';
  if (!/[*?]/.test(glob)) return `${subject} == ${str(glob)}`;
  // The engine's JS `.` stops at line breaks and so does RE2's; names have none anyway.
  return `${subject}.matches(${str(`^${globRegex(glob)}$`)})`;
}

/** The regular expression a glob stands for, unanchored (RE2 and JS read it alike). */
export const globRegex = (glob: string): string =>
  glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');

export function globsMatch(subject: string, globs: readonly string[]): string {
  if (globs.includes('*')) return 'true';
  const literals = globs.filter((g) => !/[*?]/.test(g));
  const patterns = globs.filter((g) => /[*?]/.test(g));
  const terms = [
    ...(literals.length > 0 ? [literals.length === 1 ? `${subject} == ${str(literals[0])}` : `${subject} in ${list(literals.map(str))}`] : []),
    ...patterns.map((g) => globMatch(subject, g)),
  ];
  return terms.length === 0 ? 'false' : terms.length === 1 ? terms[0] : `(${terms.join(' || ')})`;
}

/** Kubernetes label-selector semantics on a CEL map of labels (every term must hold). */
export function selectorMatch(labels: string, selector: LabelSelector): string {
  const terms: string[] = [];
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) terms.push(`(${str(k)} in ${labels} && ${labels}[${str(k)}] == ${str(v)})`);
  for (const e of selector.matchExpressions ?? []) {
    const key = str(e.key);
    const values = list((e.values ?? []).map(str));
    if (e.operator === 'In') terms.push(`(${key} in ${labels} && ${labels}[${key}] in ${values})`);
    else if (e.operator === 'NotIn') terms.push(`(!(${key} in ${labels}) || !(${labels}[${key}] in ${values}))`);
    else if (e.operator === 'Exists') terms.push(`${key} in ${labels}`);
    else terms.push(`!(${key} in ${labels})`);
  }
  return terms.length === 0 ? 'true' : terms.join(' && ');
}

/**
 * A port number as the engine reads it: an int, or a string of digits (surrounding spaces
 * allowed); anything else reads as 0, which every fact skips. The API server only ever hands
 * over ints (a string fails decoding); the string form serves files given to `scan`. Nine
 * digits at most so int() cannot overflow.
 */
export const portNumber = (field: string): string =>
  `(type(${field}) == int ? ${field} : (type(${field}) == string && ${field}.trim().matches('^[0-9]{1,9}$') ? int(${field}.trim()) : 0))`;

/** `has(x.f) ? <read x.f> : 0`, the whole chain guarded. */
export const portAt = (obj: string, field: string): string => `(has(${obj}.${field}) ? ${portNumber(`${obj}.${field}`)} : 0)`;

/** `obj.field` when it is a list, else []. */
export const listAt = (obj: string, field: string): string => `(has(${obj}.${field}) && type(${obj}.${field}) == list ? ${obj}.${field} : [])`;

/** `obj.field` when it is a map, else {}. */
export const mapAt = (obj: string, field: string): string => `(has(${obj}.${field}) && type(${obj}.${field}) == map ? ${obj}.${field} : {})`;

/** A dotted path of maps from `root`, {} as soon as a step is missing or not a map. */
export function mapPath(root: string, path: readonly string[]): string {
  if (path.length === 0) return root;
  const guards: string[] = [];
  let at = root;
  for (const key of path) {
    guards.push(`has(${at}.${key})`, `type(${at}.${key}) == map`);
    at = `${at}.${key}`;
  }
  return `(${guards.join(' && ')} ? ${at} : {})`;
}

/** A range test with the bounds compiled in. */
export const inRange = (value: string, lo: number, hi: number): string => (lo === hi ? `${value} == ${lo}` : `(${value} >= ${lo} && ${value} <= ${hi})`);

// --- finding records -------------------------------------------------------------------------
// A rule's findings are compiled to a list of lists of records (per container, then per port;
// a Service's in one inner list), each `{'count': n, 'carried': bool, 'message': text}`: the
// findings of one port, whether the old object already had them (UPDATE), and the message of
// the first. CEL in the API server has no flatten or fold that every supported release
// offers, so the two levels are walked with nested macros.

/** True when some record satisfies `pred` (written on the variable `f`). */
export const anyRecord = (records: string, pred: string): string => `${records}.exists(l, l.exists(f, ${pred}))`;

/** The first record satisfying `pred`; evaluate only when anyRecord holds. */
export const firstRecord = (records: string, pred: string): string => `${records}.filter(l, l.exists(f, ${pred}))[0].filter(f, ${pred})[0]`;

/** The findings counted by the records satisfying `pred`. */
export const countRecords = (records: string, pred: string): string => `${records}.map(l, l.filter(f, ${pred}).map(f, f.count).sum()).sum()`;
