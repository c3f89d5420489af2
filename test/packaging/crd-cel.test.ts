// The CRD's CEL rules (x-kubernetes-validations): run with the test evaluator of Kubernetes'
// CEL environment on valid and invalid policies, agreeing with the loader, and kept within
// the API server's cost limits for a CRD, estimated the way it estimates them.
import { parse } from '@bufbuild/cel';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadPolicy } from '../../src/engine/policy/load.js';
import { PORT_POLICY_API_VERSION } from '../../src/engine/policy/schema.js';
import { portPolicyCrd } from '../../src/k8s/crd.js';
import { evaluate } from '../support/k8s-cel/index.js';
import { REPO_ROOT } from './kustomize.js';

type Obj = Record<string, any>;

const schema = (portPolicyCrd() as Obj).spec.versions[0].schema.openAPIV3Schema as Obj;

interface RuleSite {
  /** `spec.tenants[].allowedHostPorts[]` */
  at: string;
  rules: { rule: string; message: string }[];
  maxLength: number | undefined;
  /** How many values the rule can run on in one object: the product of the maxItems above it; null when unbounded. */
  cardinality: number | null;
}

function ruleSites(s: Obj, at: string, cardinality: number | null, out: RuleSite[] = []): RuleSite[] {
  if (s['x-kubernetes-validations']) out.push({ at, rules: s['x-kubernetes-validations'], maxLength: s.maxLength, cardinality });
  for (const [k, v] of Object.entries((s.properties as Obj) ?? {})) ruleSites(v, at ? `${at}.${k}` : k, cardinality, out);
  const times = (bound: number | undefined) => (cardinality === null || bound === undefined ? null : cardinality * bound);
  if (s.items) ruleSites(s.items, `${at}[]`, times(s.maxItems), out);
  if (typeof s.additionalProperties === 'object') ruleSites(s.additionalProperties, `${at}{}`, times(s.maxProperties), out);
  return out;
}

const sites = ruleSites(schema, '', 1);

/** Every rule of the schema run on the values it sits on, as the API server does: `path: message`. */
function celProblems(value: unknown, s: Obj = schema, at = ''): string[] {
  if (value === undefined || value === null) return [];
  const out: string[] = [];
  for (const { rule, message } of s['x-kubernetes-validations'] ?? []) {
    let ok: unknown;
    try {
      ok = evaluate(rule, { self: value });
    } catch (err) {
      ok = `evaluation error: ${(err as Error).message}`;
    }
    if (ok !== true) out.push(`${at}: ${ok === false ? message : String(ok)}`);
  }
  if (Array.isArray(value) && s.items) value.forEach((v, i) => out.push(...celProblems(v, s.items, `${at}[${i}]`)));
  else if (typeof value === 'object' && s.properties) {
    for (const [k, v] of Object.entries(value as Obj)) if (s.properties[k]) out.push(...celProblems(v, s.properties[k], at ? `${at}.${k}` : k));
  }
  return out;
}

const doc = (spec: Obj) => ({ apiVersion: PORT_POLICY_API_VERSION, kind: 'PortPolicy', metadata: { name: 'p' }, spec });

describe('PortPolicy CRD CEL rules', () => {
  it('sit on every port range of the schema', () => {
    expect(sites.map((s) => s.at).sort()).toEqual(
      [
        'spec.nodePortRange',
        'spec.reservedPorts[].ports',
        'spec.sensitivePorts[].ports',
        'spec.tenants[].allowedHostPorts[]',
        'spec.tenants[].nodePortRange',
      ].sort(),
    );
  });

  const shipped = [
    'policies/default.yaml',
    'examples/policies/portpolicy.yaml',
    'manifests/base/workload/policy.yaml',
    'manifests/overlays/audit/workload/policy.yaml',
    'manifests/overlays/enforce/workload/policy.yaml',
  ].flatMap((f) =>
    parseAllDocuments(readFileSync(path.join(REPO_ROOT, f), 'utf8')).map((d, i) => ({ name: `${f} #${i}`, policy: d.toJS() as Obj, problems: [] as string[] })),
  );
  const tenant = (extra: Obj) => ({ tenants: [{ name: 't', namespaces: ['t'], ...extra }] });
  const entry = (ports: string) => ({ name: 'x', ports, component: 'c' });
  // What the API server would answer, rule by rule; the loader must refuse the same at the same path.
  const cases = [
    {
      name: 'a single port and ranges at the edges',
      policy: doc({ nodePortRange: '1-65535', ...tenant({ allowedHostPorts: ['1', '65535', '8000-8080'] }) }),
      problems: [],
    },
    { name: 'a reversed nodePortRange', policy: doc({ nodePortRange: '32767-30000' }), problems: ['spec.nodePortRange: a range "lo-hi" needs lo <= hi'] },
    { name: 'port 0', policy: doc({ profiles: [], reservedPorts: [entry('0')] }), problems: ['spec.reservedPorts[0].ports: ports are 1-65535'] },
    { name: 'port 99999', policy: doc({ sensitivePorts: [{ name: 's', ports: '99999' }] }), problems: ['spec.sensitivePorts[0].ports: ports are 1-65535'] },
    {
      name: 'a range past 65535',
      policy: doc(tenant({ allowedHostPorts: ['80', '65000-65536'] })),
      problems: ['spec.tenants[0].allowedHostPorts[1]: ports are 1-65535'],
    },
    {
      name: 'a reversed range with a high end in bounds',
      policy: doc(tenant({ nodePortRange: '70000-80' })),
      problems: ['spec.tenants[0].nodePortRange: a range "lo-hi" needs lo <= hi'],
    },
    {
      name: 'a range from 0, reversed',
      policy: doc(tenant({ allowedHostPorts: ['9-0'] })),
      problems: ['spec.tenants[0].allowedHostPorts[0]: a range "lo-hi" needs lo <= hi'],
    },
  ];
  it.each([...shipped, ...cases])('$name', ({ policy, problems }) => {
    expect(celProblems(policy)).toEqual(problems);
    const loaded = loadPolicy(policy);
    expect(loaded.ok ? [] : loaded.problems.map((p) => p.path)).toEqual(problems.map((p) => p.slice(0, p.indexOf(': '))));
  });

  // The pattern (OpenAPI) names these; the API server still runs CEL on them, which must not
  // add an evaluation error.
  it.each(['80-x', 'abc', '', '1--2', '123456', '99999999999-1'])('leave %j, which the pattern refuses, to the pattern', (text) => {
    expect(celProblems(doc({ nodePortRange: text }))).toEqual([]);
    expect(loadPolicy(doc({ nodePortRange: text })).ok).toBe(false);
  });

  it.each([
    { name: 'tenants', spec: { tenants: Array.from({ length: 1001 }, (_, i) => ({ name: `t${i}`, namespaces: [`n${i}`] })) }, path: 'spec.tenants' },
    {
      name: "a tenant's allowedHostPorts",
      spec: tenant({ allowedHostPorts: Array.from({ length: 65 }, (_, i) => String(i + 1)) }),
      path: 'spec.tenants[0].allowedHostPorts',
    },
    { name: 'reservedPorts', spec: { profiles: [], reservedPorts: Array.from({ length: 1001 }, (_, i) => entry(String(i + 1))) }, path: 'spec.reservedPorts' },
    { name: 'exemptions', spec: { exemptions: Array.from({ length: 1001 }, (_, i) => ({ namespaces: [`n${i}-*`], reason: 'r' })) }, path: 'spec.exemptions' },
  ])('the loader refuses more $name than the CRD allows, as the API server does', ({ spec, path: at }) => {
    const loaded = loadPolicy(doc(spec));
    expect(loaded.ok ? [] : loaded.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      expect.stringMatching(new RegExp(`^${at.replace(/[[\]]/g, '\\$&')}: must NOT have more than \\d+ items$`)),
    ]);
  });

  describe('cost, as the API server estimates it when the CRD is created', () => {
    // apiextensions-apiserver (pkg/apis/apiextensions/validation): a rule's estimated cost times
    // its cardinality (the product of maxItems above it) must stay under 10,000,000
    // (StaticEstimatedCostLimit), and all rules together under 100,000,000
    // (StaticEstimatedCRDCostLimit). Without a maxItems above it the cardinality is as many
    // items as fit in a 3 MiB request, which is what the bounds are for.
    const PER_RULE_LIMIT = 10_000_000;
    const CRD_LIMIT = 100_000_000;
    // k8s.io/apiserver/pkg/apis/cel/config.go RuntimeCELCostBudget: all rules on one object.
    const RUNTIME_BUDGET = 10_000_000;
    // cel-go common/cost.go.
    const STRING_TRAVERSAL = 0.1;
    const REGEX_LENGTH = 0.25;
    // A string's size in the estimate is its maxLength; counted here as 4 bytes a character
    // (UTF-8's widest), which can only overestimate.
    const BYTES_PER_CHAR = 4;
    const CONSTANT_TIME = new Set(['_||_', '_&&_', '!_', '_<=_', '_>=_', '_<_', '_>_', '_==_', '_!=_', 'int']);

    /**
     * An upper bound of cel-go's static estimate (checker/cost.go) for the shapes our rules use:
     * identifiers 1, constants 0, a constant-time call 1 plus its arguments (cel-go charges
     * `||` and `&&` their operands only), `matches` and Kubernetes' `find` on `self`
     * ceil((size + 1) x 0.1) x ceil(regex length x 0.25) plus their arguments. Any other
     * function fails the test: its cost must be modelled before it is used.
     */
    function estimate(e: Obj, selfBytes: number): number {
      const kind = e.exprKind.case;
      if (kind === 'constExpr') return 0;
      if (kind === 'identExpr') return 1;
      if (kind !== 'callExpr') throw new Error(`no cost model for a ${kind}`);
      const call = e.exprKind.value as { function: string; target?: Obj; args: Obj[] };
      const operands = [...(call.target ? [call.target] : []), ...call.args].reduce((sum, a) => sum + estimate(a, selfBytes), 0);
      if (call.function === 'matches' || call.function === 'find') {
        const target = call.target?.exprKind;
        const regex = call.args[0]?.exprKind;
        if (target?.case !== 'identExpr' || target.value.name !== 'self' || regex?.case !== 'constExpr')
          throw new Error(`${call.function} is modelled on self with a constant regex only`);
        return operands + 1 + Math.ceil((selfBytes + 1) * STRING_TRAVERSAL) * Math.ceil(regex.value.constantKind.value.length * REGEX_LENGTH);
      }
      if (CONSTANT_TIME.has(call.function)) return 1 + operands;
      throw new Error(`no cost model for ${call.function}`);
    }

    const costs = sites.flatMap((s) =>
      s.rules.map((r) => ({
        at: s.at,
        message: r.message,
        cardinality: s.cardinality,
        cost: estimate(parse(r.rule).expr as Obj, (s.maxLength ?? Infinity) * BYTES_PER_CHAR),
      })),
    );

    it('every rule sits under maxItems bounds and on a string with a maxLength', () => {
      expect(sites.filter((s) => s.cardinality === null || s.maxLength === undefined).map((s) => s.at)).toEqual([]);
    });

    it.each(costs)('$at ($message): cost x cardinality under the per-rule limit', ({ cost, cardinality }) => {
      expect(cost * cardinality!).toBeLessThan(PER_RULE_LIMIT);
    });

    it('all rules together under the CRD limit, and so one object under the runtime budget', () => {
      const total = costs.reduce((sum, c) => sum + c.cost * c.cardinality!, 0);
      expect(total).toBeLessThan(CRD_LIMIT);
      expect(total).toBeLessThan(RUNTIME_BUDGET);
    });

    it.each([
      { name: 'a function without a cost model', rule: 'self.split("-").size() > 0' },
      { name: 'a regex on something other than self', rule: "'a'.matches('a')" },
    ])('the estimate refuses $name', ({ rule }) => {
      expect(() => estimate(parse(rule).expr as Obj, 44)).toThrow();
    });

    it('the estimate grows with the string and the regex', () => {
      const rule = parse("self.matches('^[0-9]+$')").expr as Obj;
      expect(estimate(rule, 400)).toBeGreaterThan(estimate(rule, 44));
      expect(estimate(parse("self.matches('^[0-9]+(-[0-9]+)?$')").expr as Obj, 44)).toBeGreaterThan(estimate(rule, 44));
    });
  });
});
