// The rule registry (src/engine/rules/index.ts) is the one source of what a rule is. These
// checks read every place that needs a rule's id, default action, category, lane or docs and
// compare it with the registry, so a new rule is one file and one line in RULES.
import { readFileSync, readdirSync } from 'node:fs';
import { load } from 'js-yaml';
import { loadPolicy } from '../src/engine/policy/load.js';
import type { PortPolicySpec } from '../src/engine/policy/model.js';
import { PORT_POLICY_SPEC_SCHEMA } from '../src/engine/policy/schema.js';
import { RULE_CATALOG, RULE_DOCS_URL, RULE_IDS, RULES, ruleById, ruleDocsUrl } from '../src/engine/rules/index.js';
import type { Evaluation, RuleId } from '../src/engine/types.js';
import { laneOfRule } from '../src/sinks/reports/html/model.js';
import { FORMATS } from '../src/sinks/reports/index.js';
import { scanOutputSchema } from '../src/sinks/reports/json-schema.js';
import { buildPolicyReports } from '../src/sinks/reports/policyreport.js';
import { fixtureScan } from './reports/fixture.js';

const RULES_DIR = new URL('../src/engine/rules/', import.meta.url);
const read = (relative: string) => readFileSync(new URL(`../${relative}`, import.meta.url), 'utf8');
const defaultDoc = load(read('policies/default.yaml')) as { spec: PortPolicySpec };
const rows = RULES.map((rule) => ({ name: rule.id, rule }));

describe('the rule registry', () => {
  it('lists each rule once', () => {
    expect(new Set(RULE_IDS).size).toBe(RULES.length);
    expect(RULE_IDS).toEqual(RULES.map((r) => r.id));
  });

  it('lists every rule file, and every rule it lists has a file named by its id', () => {
    const files = readdirSync(RULES_DIR).filter((f) => f.endsWith('.ts') && f !== 'index.ts' && f !== 'rule.ts');
    expect(files.sort()).toEqual(RULE_IDS.map((id) => `${id}.ts`).sort());
  });

  it.each(rows)('$name: its file opens with a paragraph on the risk, starting with its id', ({ rule }) => {
    expect(readFileSync(new URL(`${rule.id}.ts`, RULES_DIR), 'utf8')).toMatch(new RegExp(`^// ${rule.id}: \\S`));
  });

  it('looks a rule up by its id', () => {
    for (const rule of RULES) expect(ruleById(rule.id)).toBe(rule);
  });
});

describe('everything derived from the registry', () => {
  it("the policy schema's rules are the registry's ids, in its order", () => {
    expect(Object.keys(PORT_POLICY_SPEC_SCHEMA.properties.rules.properties)).toEqual(RULE_IDS);
  });

  it("the scan output schema's rule enum is the registry's ids, in its order", () => {
    expect(scanOutputSchema(RULE_CATALOG).properties.findings.items.properties.rule.enum).toEqual(RULE_IDS);
  });

  it("a policy that names no rule runs each at the registry's default action", () => {
    const r = loadPolicy({ apiVersion: 'portcullis.dev/v1alpha1', kind: 'PortPolicy', metadata: { name: 'p' }, spec: {} });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.policy.rules).toEqual(Object.fromEntries(RULES.map((rule) => [rule.id, rule.defaultAction])));
  });

  it('a policy that names a rule overrides only that rule', () => {
    const r = loadPolicy({ apiVersion: 'portcullis.dev/v1alpha1', kind: 'PortPolicy', metadata: { name: 'p' }, spec: { rules: { [RULE_IDS[0]]: 'off' } } });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.policy.rules).toEqual(Object.fromEntries(RULES.map((rule, i) => [rule.id, i === 0 ? 'off' : rule.defaultAction])));
  });

  it.each(rows)("$name: policies/default.yaml agrees with the registry's default action", ({ rule }) => {
    const written = defaultDoc.spec.rules?.[rule.id];
    expect({ rule: rule.id, action: written ?? rule.defaultAction }).toEqual({ rule: rule.id, action: rule.defaultAction });
    const r = loadPolicy(defaultDoc);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.policy.rules[rule.id]).toBe(rule.defaultAction);
  });

  it('policies/default.yaml names no rule the registry does not have', () => {
    expect(Object.keys(defaultDoc.spec.rules ?? {}).filter((id) => !RULE_IDS.includes(id as RuleId))).toEqual([]);
  });

  it.each(rows)("$name: PolicyReport results carry the registry's category", ({ rule }) => {
    const resource = { apiVersion: 'v1', kind: 'Service', namespace: 'a', name: 'web' };
    const evaluation: Evaluation = { resource, source: null, findings: [], outcomes: [{ policy: 'default', rule: rule.id, status: 'pass', tenant: null }] };
    const [report] = buildPolicyReports([evaluation], { rules: RULE_CATALOG, generatedAt: new Date(0) });
    expect((report as unknown as { results: { rule: string; category: string }[] }).results).toMatchObject([{ rule: rule.id, category: rule.category }]);
  });

  it.each(rows)("$name: the port map draws its findings in the registry's lane", ({ rule }) => {
    expect(laneOfRule(RULE_CATALOG, rule.id)).toBe(rule.lane ?? undefined);
  });

  it("SARIF lists every rule with the registry's title, default level and docs link", () => {
    const driver = JSON.parse(FORMATS.sarif.write(fixtureScan(), { rules: RULE_CATALOG })).runs[0].tool.driver;
    const level = { deny: 'error', warn: 'warning', audit: 'note' } as const;
    expect(
      driver.rules.map((r: { id: string; shortDescription: { text: string }; helpUri: string; defaultConfiguration: { level: string } }) => [
        r.id,
        r.shortDescription.text,
        r.helpUri,
        r.defaultConfiguration.level,
      ]),
    ).toEqual(RULES.map((r) => [r.id, r.title, ruleDocsUrl(r.id), level[r.defaultAction]]));
  });

  it('every docs link has its section in docs/rules.md, and every section is a rule', () => {
    const headings = [...read('docs/rules.md').matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(headings).toEqual(RULE_IDS);
    expect(RULE_DOCS_URL.endsWith('/rules.md')).toBe(true);
  });
});
