// A test evaluator for ValidatingAdmissionPolicy: Kubernetes' CEL environment on top of
// @bufbuild/cel (the CEL implementation the match-condition tests already use). It covers
// what the exported policies and the documented library examples need:
// - variables `object`, `oldObject`, `request`, `params`, `namespaceObject`, `authorizer`-less
//   (not used), and `variables` (spec.variables, each evaluated once, on first use, as the
//   API server does: a variable no expression reaches is never evaluated);
// - Kubernetes' libraries: IP and CIDR (net.ts), lists (`sum`, `min`, `max`, `indexOf`,
//   `lastIndexOf`, `isSorted`), regex (`find`, `findAll`), and the cel-go strings
//   extension (bufbuild's `@bufbuild/cel/ext` strings: `lowerAscii`, `join`, `split`, ...);
// - the admission semantics of the policy and binding: matchConstraints (resource rules,
//   namespaceSelector, objectSelector), the binding's matchResources, matchConditions,
//   validations with messageExpression, failurePolicy and validationActions.
// It does not model the API server's cost accounting (estimates are written in docs/vap.md)
// nor optional field syntax (`?.`), which bufbuild's parser lacks and the exports avoid.
import {
  CelScalar,
  celFunc,
  celList,
  celMap,
  celMethod,
  isCelError,
  isCelList,
  listType,
  parse,
  plan,
  celEnv,
  type CelInput,
  type CelList,
  type CelValue,
} from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { NET_FUNCS } from './net.js';

type Obj = Record<string, any>;

const LIST = listType(CelScalar.DYN);

const listItems = (l: CelList): CelValue[] => Array.from(l);

function compare(a: CelValue, b: CelValue): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return Number(a) - Number(b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new Error('no such overload: values not comparable');
}

/** Kubernetes' list library (k8s.io/apiserver/pkg/cel/library/lists.go). */
const LIST_FUNCS = [
  celMethod('sum', LIST, [], CelScalar.DYN, function () {
    const items = listItems(this);
    if (items.length === 0) return 0n;
    if (items.every((x) => typeof x === 'bigint')) return items.reduce((a, b) => a + b, 0n);
    return items.reduce<number>((a, b) => a + Number(b), 0);
  }),
  celMethod('min', LIST, [], CelScalar.DYN, function () {
    const items = listItems(this);
    if (items.length === 0) throw new Error('min called on empty list');
    return items.reduce((a, b) => (compare(b, a) < 0 ? b : a));
  }),
  celMethod('max', LIST, [], CelScalar.DYN, function () {
    const items = listItems(this);
    if (items.length === 0) throw new Error('max called on empty list');
    return items.reduce((a, b) => (compare(b, a) > 0 ? b : a));
  }),
  celMethod('isSorted', LIST, [], CelScalar.BOOL, function () {
    const items = listItems(this);
    return items.every((x, i) => i === 0 || compare(items[i - 1], x) <= 0);
  }),
  celMethod('indexOf', LIST, [CelScalar.DYN], CelScalar.INT, function (v) {
    return BigInt(listItems(this).findIndex((x) => x === v));
  }),
  celMethod('lastIndexOf', LIST, [CelScalar.DYN], CelScalar.INT, function (v) {
    const items = listItems(this);
    for (let i = items.length - 1; i >= 0; i--) if (items[i] === v) return BigInt(i);
    return -1n;
  }),
];

/** Kubernetes' regex library (regex.go): RE2 syntax, which JS RegExp reads for these patterns. */
const REGEX_FUNCS = [
  celMethod('find', CelScalar.STRING, [CelScalar.STRING], CelScalar.STRING, function (re) {
    return new RegExp(re).exec(this)?.[0] ?? '';
  }),
  celMethod('findAll', CelScalar.STRING, [CelScalar.STRING], LIST, function (re) {
    return [...this.matchAll(new RegExp(re, 'g'))].map((m) => m[0]);
  }),
];

export const K8S_FUNCS = [...strings, ...NET_FUNCS, ...LIST_FUNCS, ...REGEX_FUNCS];

const env = celEnv({ funcs: K8S_FUNCS });

/** JSON → CEL values as the API server hands them over: objects are maps, integers int64. */
export function toCel(v: unknown): CelInput {
  if (Array.isArray(v)) return v.map(toCel);
  // As JSON carries them: a field holding undefined is no field at all.
  if (v !== null && typeof v === 'object') return new Map(Object.entries(v).flatMap(([k, x]) => (x === undefined ? [] : [[k, toCel(x)] as const])));
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  return v as CelInput;
}

export type Compiled = (bindings: Record<string, CelInput>) => CelValue;

const compiledCache = new Map<string, Compiled>();

/** Parses and plans once; the returned function throws an Error carrying CEL's message on a runtime error. */
export function compile(expression: string): Compiled {
  let c = compiledCache.get(expression);
  if (c) return c;
  const parsed = parse(expression);
  const run = plan(env, parsed);
  c = (bindings) => {
    const out = run(bindings);
    if (isCelError(out)) throw new Error(out.message);
    return out;
  };
  compiledCache.set(expression, c);
  return c;
}

/** Evaluates one expression with the given variables; a CEL error comes back as a thrown Error. */
export const evaluate = (expression: string, bindings: Record<string, unknown> = {}): CelValue =>
  compile(expression)(Object.fromEntries(Object.entries(bindings).map(([k, v]) => [k, toCel(v)])));

/** spec.variables as the `variables` map: each variable evaluated on first read, errors kept and rethrown. */
class LazyVariables extends Map<string, CelInput> {
  private readonly done = new Map<string, { value?: CelValue; error?: Error }>();
  constructor(
    private readonly defs: ReadonlyMap<string, string>,
    private readonly scope: () => Record<string, CelInput>,
  ) {
    super();
  }
  override get(name: string): CelInput | undefined {
    const expression = this.defs.get(name);
    if (expression === undefined) return undefined;
    let r = this.done.get(name);
    if (!r) {
      try {
        r = { value: compile(expression)(this.scope()) };
      } catch (err) {
        r = { error: err as Error };
      }
      this.done.set(name, r);
    }
    if (r.error) throw new Error(`variable ${name}: ${r.error.message}`);
    return r.value;
  }
  override has(name: string): boolean {
    return this.defs.has(name);
  }
}

// --- admission ---------------------------------------------------------------------------

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    if (e.operator === 'In' && !(has && (e.values ?? []).includes(labels[e.key]))) return false;
    if (e.operator === 'NotIn' && has && (e.values ?? []).includes(labels[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

export interface AdmissionAttributes {
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  /** group/version/resource of the request, as the API server resolves the kind. */
  resource: { group: string; version: string; resource: string };
  kind: { group: string; version: string; kind: string };
  namespace: string | null;
  object: Obj | null;
  oldObject: Obj | null;
  /** The Namespace object of a namespaced request; null for cluster-scoped ones. */
  namespaceObject: Obj | null;
  userInfo?: { username: string; groups?: string[] };
  subResource?: string;
}

export interface Outcome {
  /** The binding's validationActions when at least one validation failed, else []. */
  actions: string[];
  messages: string[];
  /** Expressions that errored (each one also counts as a failure under failurePolicy Fail). */
  errors: string[];
}

interface ResourceRule {
  apiGroups?: string[];
  apiVersions?: string[];
  resources?: string[];
  operations?: string[];
}

interface MatchResources {
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  resourceRules?: ResourceRule[];
  excludeResourceRules?: ResourceRule[];
}

const anyOf = (list: string[] | undefined, v: string) => list === undefined || list.includes('*') || list.includes(v);

function ruleMatches(r: ResourceRule, a: AdmissionAttributes): boolean {
  const resource = a.subResource ? `${a.resource.resource}/${a.subResource}` : a.resource.resource;
  return anyOf(r.apiGroups, a.resource.group) && anyOf(r.apiVersions, a.resource.version) && anyOf(r.resources, resource) && anyOf(r.operations, a.operation);
}

function matchResources(m: MatchResources | undefined, a: AdmissionAttributes, requireRules: boolean): boolean {
  if (!m) return !requireRules;
  if (requireRules && !(m.resourceRules ?? []).some((r) => ruleMatches(r, a))) return false;
  if (!requireRules && m.resourceRules && !m.resourceRules.some((r) => ruleMatches(r, a))) return false;
  if ((m.excludeResourceRules ?? []).some((r) => ruleMatches(r, a))) return false;
  // namespaceSelector applies to namespaced requests only (cluster-scoped objects other than
  // Namespaces are never skipped by it).
  if (a.namespace !== null && m.namespaceSelector) {
    if (!selects(m.namespaceSelector, (a.namespaceObject?.metadata?.labels as Record<string, string>) ?? {})) return false;
  }
  if (m.objectSelector) {
    const labelsOf = (o: Obj | null) => (o?.metadata?.labels as Record<string, string>) ?? {};
    const candidates = [a.object, a.oldObject].filter((o) => o !== null);
    if (!candidates.some((o) => selects(m.objectSelector, labelsOf(o)))) return false;
  }
  return true;
}

/**
 * What one ValidatingAdmissionPolicy with one binding does to one request, as the API server
 * does it (k8s.io/apiserver/pkg/admission/plugin/policy/validating): null when the policy or
 * binding does not match, else the failed validations with the binding's actions.
 */
export function admit(policy: Obj, binding: Obj, a: AdmissionAttributes, params: Obj | null = null): Outcome | null {
  const spec = policy.spec;
  if (!matchResources(spec.matchConstraints, a, true)) return null;
  if (!matchResources(binding.spec.matchResources, a, false)) return null;
  const base: Record<string, CelInput> = {
    object: toCel(a.object),
    oldObject: toCel(a.oldObject),
    params: toCel(params),
    namespaceObject: toCel(a.namespaceObject),
    request: toCel({
      operation: a.operation,
      kind: a.kind,
      resource: a.resource,
      namespace: a.namespace ?? '',
      name: a.object?.metadata?.name ?? a.oldObject?.metadata?.name ?? '',
      userInfo: a.userInfo ?? { username: 'tester', groups: [] },
    }),
  };
  const defs = new Map<string, string>((spec.variables ?? []).map((v: Obj) => [v.name, v.expression]));
  const scope: Record<string, CelInput> = { ...base };
  scope.variables = celMap(new LazyVariables(defs, () => scope));
  const failClosed = (spec.failurePolicy ?? 'Fail') === 'Fail';
  const actions: string[] = binding.spec.validationActions;
  const out: Outcome = { actions: [], messages: [], errors: [] };
  for (const mc of spec.matchConditions ?? []) {
    let v: CelValue;
    try {
      v = compile(mc.expression)(scope);
    } catch (err) {
      out.errors.push(`matchCondition ${mc.name}: ${(err as Error).message}`);
      if (failClosed) return { ...out, actions, messages: [`matchCondition ${mc.name} errored`] };
      return null;
    }
    if (v !== true) return null;
  }
  for (const val of spec.validations ?? []) {
    let ok: CelValue;
    try {
      ok = compile(val.expression)(scope);
    } catch (err) {
      out.errors.push(`${val.expression.slice(0, 80)}: ${(err as Error).message}`);
      if (failClosed) out.messages.push(`expression errored: ${(err as Error).message}`);
      continue;
    }
    if (ok === true) continue;
    if (ok !== false) {
      out.errors.push(`${val.expression.slice(0, 80)}: returned ${String(ok)}, not a bool`);
      if (failClosed) out.messages.push('expression did not return a bool');
      continue;
    }
    let message: string = val.message ?? `failed expression: ${val.expression}`;
    if (val.messageExpression) {
      try {
        const m = compile(val.messageExpression)(scope);
        // The API server keeps the static message when messageExpression errors or is empty.
        if (typeof m === 'string' && m.trim() !== '') message = m;
      } catch (err) {
        out.errors.push(`messageExpression: ${(err as Error).message}`);
      }
    }
    out.messages.push(message);
  }
  if (out.messages.length > 0) out.actions = actions;
  return out;
}

export { celList, isCelList, celFunc };
