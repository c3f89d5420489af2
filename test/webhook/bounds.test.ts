// The cost of answering is bounded by the limits, not by what the caller sends: answer
// sizes, log line sizes and metric labels, asserted without timing (test:hostile times them).
import { SERVE_DEFAULTS, answerLimits } from '../../src/config/serve.js';
import type { Finding } from '../../src/engine/types.js';
import { decide } from '../../src/sinks/admission/decide.js';
import { RULE_CATALOG } from '../../src/engine/rules/index.js';
import { createMetrics, kindLabel } from '../../src/sinks/metrics.js';
import { LOG_LINE_MAX_BYTES, logText } from '../../src/server/log-text.js';
import { startHarness, type Harness } from './harness.js';
import { manyContainerPod, repeatedRulePolicy, scatteredExceptPolicy } from './hostile-objects.js';
import { webPod } from './objects.js';
import { admissionReview, type Obj } from './reviews.js';

const limits = answerLimits(SERVE_DEFAULTS);
const codePoints = (s: string) => Array.from(s).length;

const finding = (i: number, over: Partial<Finding> = {}): Finding => ({
  rule: 'hostport-reserved',
  status: 'fail',
  action: 'deny',
  policy: 'p',
  tenant: null,
  resource: { apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'many' },
  path: `spec.containers[${i}].ports[0].hostPort`,
  value: 10250,
  message: 'hostPort 10250/TCP clashes with kubelet-api (kubelet); pick a port outside the reserved ports',
  source: null,
  key: `hostport-reserved|c:c${i}|10250/TCP|kubelet-api`,
  ...over,
});
const many = (n: number, over: (i: number) => Partial<Finding> = () => ({})) => Array.from({ length: n }, (_, i) => finding(i, over(i)));

describe('decide: an answer of a fixed size whatever the findings', () => {
  const decideOn = (findings: Finding[]) => decide({ uid: 'u', kind: 'Pod', hasPodTemplate: false, findings, previous: null, limits }).response;

  it.each([
    {
      name: '100,000 identical denials on as many containers',
      findings: many(100_000),
      lines: 1,
      more: 0,
      first: /^- hostport-reserved \(policy p\) at spec\.containers\[0\]\.ports\[0\]\.hostPort = 10250 \(and 99999 more like it\): hostPort 10250/,
    },
    {
      name: '3,000 denials on distinct ports',
      findings: many(3000, (i) => ({ value: 20000 + i })),
      lines: null,
      more: null,
      first: /^- hostport-reserved \(policy p\) at spec\.containers\[0\]\.ports\[0\]\.hostPort = 20000: /,
    },
    {
      name: 'one denial whose message is a megabyte',
      findings: [finding(0, { message: `opens the kubelet to ${'10.0.0.1/32, '.repeat(80_000)}` })],
      lines: 1,
      more: 0,
      first: /^- hostport-reserved .{100,}…$/,
    },
  ])('$name', ({ findings, lines, more, first }) => {
    const r = decideOn(findings);
    expect(r.allowed).toBe(false);
    const message = r.status!.message;
    expect(codePoints(message)).toBeLessThanOrEqual(limits.maxMessageChars);
    const [head, ...rest] = message.split('\n');
    expect(head).toBe(`portcullis denied this Pod: ${findings.length === 1 ? '1 violation' : `${findings.length} violations`}`);
    expect(rest[0]).toMatch(first);
    for (const l of rest) expect(codePoints(l)).toBeLessThanOrEqual(512);
    // Every finding is shown or counted: the lines' own counts plus the last line's.
    const countOf = (l: string) =>
      l.match(/^- and (\d+) more violations?;/) ? Number(RegExp.$1) : 1 + Number(l.match(/\(and (\d+) more like it\)/)?.[1] ?? 0);
    expect(rest.reduce((n, l) => n + countOf(l), 0)).toBe(findings.length);
    if (lines !== null) expect(rest.filter((l) => !l.startsWith('- and ')).length).toBe(lines);
    if (more !== null) expect(rest.some((l) => l.startsWith('- and '))).toBe(more > 0);
  });

  it.each([
    { name: '50,000 identical warnings', findings: many(50_000, () => ({ action: 'warn', rule: 'hostport-not-allowed' })), warnings: 1 },
    {
      name: '50,000 warnings on distinct ports',
      findings: many(50_000, (i) => ({ action: 'warn', rule: 'hostport-not-allowed', value: i, message: `hostPort ${i} is not allowed` })),
      warnings: limits.maxWarnings,
    },
  ])('warnings: $name', ({ findings, warnings }) => {
    const r = decideOn(findings);
    expect(r.allowed).toBe(true);
    expect(r.warnings).toHaveLength(warnings);
    for (const w of r.warnings!) expect(codePoints(w)).toBeLessThanOrEqual(limits.maxWarningChars);
    if (warnings === 1) expect(r.warnings![0]).toMatch(/^hostport-not-allowed and 49999 more: hostPort 10250/);
    else expect(r.warnings![warnings - 1]).toBe(`portcullis: ${50_000 - (warnings - 1)} more findings; run portcullis scan on this object to see them all`);
  });

  it.each([
    { name: '50,000 identical audit findings', findings: many(50_000, () => ({ action: 'audit' })), entries: 1 },
    { name: '50,000 audit findings on distinct ports', findings: many(50_000, (i) => ({ action: 'audit', value: i })), entries: null },
  ])('audit annotations: $name', ({ findings, entries }) => {
    const r = decideOn(findings);
    const value = r.auditAnnotations!['hostport-reserved'];
    expect(codePoints(value)).toBeLessThanOrEqual(limits.maxAnnotationChars);
    const list: Obj[] = JSON.parse(value);
    // Every finding is listed or counted.
    expect(list.reduce((n, e) => n + (e.more ?? e.count ?? 1), 0)).toBe(findings.length);
    if (entries !== null) expect(list).toHaveLength(entries);
    else expect(list[list.length - 1]).toEqual({ more: expect.any(Number) });
  });
});

describe('logText: a caller value within its byte budget in the JSON line', () => {
  const jsonBytes = (s: string) => Buffer.byteLength(JSON.stringify(s)) - 2;
  it.each([
    { name: 'a short name as is', text: 'web-7d4b9c8f6-x2x9z', max: 96, out: 'web-7d4b9c8f6-x2x9z' },
    { name: 'a long name cut', text: 'a'.repeat(1000), max: 96, out: `${'a'.repeat(93)}…` },
    { name: 'control characters counted escaped', text: '\u0001'.repeat(100), max: 96, out: `${'\u0001'.repeat(15)}…` },
    { name: 'never half a surrogate pair', text: '🔒'.repeat(100), max: 96, out: `${'🔒'.repeat(7)}…` },
    { name: 'an object is named by its type', text: { toString: 1 }, max: 96, out: '(object)' },
    { name: 'missing is empty', text: undefined, max: 96, out: '' },
  ])('$name', ({ text, max, out }) => {
    const got = logText(text, max);
    expect(got).toBe(out);
    expect(jsonBytes(got)).toBeLessThanOrEqual(max);
  });
});

describe('metric labels from fixed sets', () => {
  it.each([
    { name: 'a checked kind', gvk: { group: '', version: 'v1', kind: 'Pod' }, label: 'Pod' },
    { name: 'a checked kind of a group', gvk: { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' }, label: 'NetworkPolicy' },
    { name: 'a kind portcullis does not check', gvk: { group: '', version: 'v1', kind: 'ConfigMap' }, label: 'other' },
    { name: 'a checked name in the wrong group', gvk: { group: 'evil.example', version: 'v1', kind: 'Pod' }, label: 'other' },
    { name: 'a megabyte kind', gvk: { group: '', version: 'v1', kind: 'K'.repeat(1 << 20) }, label: 'other' },
    { name: 'no kind', gvk: null, label: 'none' },
  ])('kind: $name → $label', ({ gvk, label }) => {
    expect(kindLabel(gvk)).toBe(label);
  });

  it('counts caller-chosen values under other, never as series of their own', async () => {
    const metrics = createMetrics({ rules: RULE_CATALOG, processDefaults: false });
    for (let i = 0; i < 1000; i++) {
      metrics.countRequest(`endpoint-${i}`, { group: 'x', version: 'v1', kind: `Kind${i}` }, `OP${i}`, `verdict-${i}`);
      metrics.countFinding(`rule-${i}`, `action-${i}`);
      metrics.observeLatency(`endpoint-${i}`, 0.001);
    }
    const text = await metrics.registry.metrics();
    expect(text).toContain('portcullis_admission_requests_total{endpoint="other",kind="other",operation="other",verdict="other"} 1000');
    expect(text).toContain('portcullis_findings_total{rule="other",action="other"} 1000');
    expect(text).toContain('portcullis_admission_duration_seconds_count{endpoint="other"} 1000');
    expect(text).not.toMatch(/Kind\d|OP\d|verdict-|rule-|endpoint-/);
  });
});

describe('on the real server', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  /** The answer's bytes: the denial message, warnings and annotations at their caps, and the envelope. */
  const ANSWER_MAX_BYTES = 4096 * 3 + 16 * 1024;

  const linesAbout = (uidPrefix: string) => h.rawLogs.filter((l) => JSON.parse(l).uid?.startsWith?.(uidPrefix));

  it.each([
    // 20,000 containers keep the suite quick; the sizes do not grow with the count (test:hostile sends 100,000).
    { name: 'a Pod with 20,000 containers on hostPort 10250', object: manyContainerPod(20_000), kind: 'Pod', more: /\(and 19999 more like it\)/ },
    { name: 'a NetworkPolicy repeating one rule 5,000 times', object: repeatedRulePolicy(5000), kind: 'NetworkPolicy', more: /\(and 4999 more like it\)/ },
    // The finding names five excepts and counts the rest.
    { name: 'a NetworkPolicy with 5,000 scattered excepts', object: scatteredExceptPolicy(5000), kind: 'NetworkPolicy', more: / and 4995 more\); / },
  ])('$name: denied with a bounded answer and log line', async ({ object, kind, more }) => {
    const uid = `bounded-${kind}-${Math.random()}`;
    const res = await h.post('/validate', admissionReview({ object, uid }));
    expect(res.status).toBe(200);
    expect(res.json.response.uid).toBe(uid);
    expect(res.json.response.allowed).toBe(false);
    expect(res.json.response.status.message).toMatch(new RegExp(`^portcullis denied this ${kind}: `));
    expect(res.json.response.status.message).toMatch(more);
    expect(Buffer.byteLength(res.text)).toBeLessThanOrEqual(ANSWER_MAX_BYTES);
    const lines = linesAbout(uid);
    expect(lines).toHaveLength(1);
    expect(Buffer.byteLength(lines[0])).toBeLessThanOrEqual(LOG_LINE_MAX_BYTES);
  });

  const hostile = (mutate: (review: Obj) => void, uid: string): Obj => {
    const review = admissionReview({ object: webPod({ hostPorts: { metrics: 10250 } }), uid });
    mutate(review);
    return review;
  };

  it.each([
    { name: 'a megabyte name', change: (r: Obj) => (r.request.name = 'n'.repeat(1 << 20)), status: 200, allowed: false },
    { name: 'a megabyte namespace', change: (r: Obj) => (r.request.namespace = 'team-a'.repeat(200_000)), status: 200, allowed: false },
    // Not a kind portcullis checks: skipped, as the API server's ConfigMaps are.
    {
      name: 'a megabyte kind',
      change: (r: Obj) => (r.request.kind.kind = r.request.object.kind = 'K'.repeat(1 << 20)),
      status: 200,
      allowed: true,
    },
    // Not the kind request.kind names: refused, its kind shown by its type only.
    { name: 'a megabyte kind inside the object only', change: (r: Obj) => (r.request.object.kind = 'Pod'.repeat(300_000)), status: 400, allowed: false },
    { name: 'a generateName that is an object', change: (r: Obj) => (r.request.object.metadata.generateName = { toString: 1 }), status: 200, allowed: false },
    { name: 'a name of control characters', change: (r: Obj) => (r.request.name = '\u0000\u001b[31m'.repeat(50_000)), status: 200, allowed: false },
    { name: 'a uid of 100,000 characters', change: (r: Obj) => (r.request.uid = `${r.request.uid}${'u'.repeat(100_000)}`), status: 400, allowed: false },
  ])('$name: answered, the answer and every log line bounded', async ({ change, status, allowed }) => {
    const uid = `hostile-${Math.random()}`;
    const before = h.rawLogs.length;
    const res = await h.post('/validate', hostile(change, uid));
    expect(res.status).toBe(status);
    expect(res.json.kind).toBe('AdmissionReview');
    expect(res.json.response.allowed).toBe(allowed);
    expect(Buffer.byteLength(res.text)).toBeLessThanOrEqual(ANSWER_MAX_BYTES);
    const lines = h.rawLogs.slice(before);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(Buffer.byteLength(l)).toBeLessThanOrEqual(LOG_LINE_MAX_BYTES);
    expect(lines.filter((l) => ['error', 'fatal'].includes(JSON.parse(l).level))).toEqual([]);
  });

  it('counts caller-chosen kinds as other: none reaches /metrics', async () => {
    const kinds = Array.from({ length: 50 }, (_, i) => `Caller${i}Kind${'x'.repeat(i * 10)}`);
    for (const kind of kinds) {
      const review = admissionReview({ object: { apiVersion: 'v1', kind, metadata: { name: 'x', namespace: 'team-a' } } });
      expect((await h.post('/validate', review)).status).toBe(200);
    }
    const text = (await h.ops('/metrics')).text;
    for (const kind of kinds) expect(text).not.toContain(kind);
    expect(text).toMatch(/portcullis_admission_requests_total\{endpoint="validate",kind="other",operation="CREATE",verdict="skipped"\} ([5-9]\d|\d{3,})/);
  });
});
