import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { Action } from '../../src/engine/types.js';
import { escapeXml, writeJunit } from '../../src/sinks/reports/junit.js';
import { FINDINGS, fixtureScan, WRITER_OPTIONS } from './fixture.js';
import { readGolden } from './golden.js';
import { checkJunit } from './schemas.js';

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase'].includes(name) });

interface Case {
  name: string;
  classname: string;
  failure?: unknown;
  error?: unknown;
  skipped?: unknown;
  'system-out'?: string;
}
interface Suite {
  name: string;
  tests: string;
  failures: string;
  errors: string;
  skipped: string;
  testcase: Case[];
}

function parse(xml: string): { root: Record<string, string>; suites: Suite[] } {
  expect(XMLValidator.validate(xml)).toBe(true);
  const doc = parser.parse(xml);
  return { root: doc.testsuites, suites: doc.testsuites.testsuite };
}

describe('junit writer', () => {
  it.each<{ name: string; text: string; escaped: string }>([
    { name: 'markup characters', text: `<a href="x">&'</a>`, escaped: '&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;' },
    { name: 'an entity is escaped, not kept', text: '&amp;', escaped: '&amp;amp;' },
    { name: 'control characters are not XML: replaced', text: 'bell\u0007 esc\u001b[31m', escaped: 'bell\uFFFD esc\uFFFD[31m' },
    { name: 'tabs, newlines and non-ASCII stay', text: 'a\tb\nc é 😀', escaped: 'a\tb\nc é 😀' },
  ])('escapes $name', ({ text, escaped }) => {
    expect(escapeXml(text)).toBe(escaped);
  });

  it('a message full of markup and control characters still gives well-formed XML that reads back', () => {
    const nasty = 'x <y> & "z" \u0000\u001b]8;;';
    const scan = { ...fixtureScan(), evaluations: [], errors: [], findings: [{ ...FINDINGS[0], action: 'deny' as const, message: nasty }] };
    const { suites } = parse(writeJunit(scan, WRITER_OPTIONS));
    const failure = suites[0].testcase[0].failure as Record<string, string>;
    expect(failure.message).toBe('x <y> & "z" \uFFFD\uFFFD]8;;');
  });

  it.each<{ name: string; failOn: Action | 'never' | undefined; failures: number }>([
    { name: 'default: deny findings fail', failOn: undefined, failures: 2 },
    { name: 'fail on deny', failOn: 'deny', failures: 2 },
    { name: 'fail on warn: deny and warn fail', failOn: 'warn', failures: 4 },
    { name: 'fail on audit: every violation fails', failOn: 'audit', failures: 7 },
    { name: 'fail on never: deny still shown as failures', failOn: 'never', failures: 2 },
  ])('$name', ({ failOn, failures }) => {
    const { root, suites } = parse(writeJunit(fixtureScan(), { ...WRITER_OPTIONS, failOn }));
    expect(Number(root.failures)).toBe(failures);
    expect(suites.reduce((n, s) => n + s.testcase.filter((c) => c.failure !== undefined).length, 0)).toBe(failures);
  });

  it('counts agree with the cases: rule error and input errors are errors, exemptions skipped', () => {
    const { root, suites } = parse(writeJunit(fixtureScan(), WRITER_OPTIONS));
    const cases = suites.flatMap((s) => s.testcase);
    expect(Number(root.tests)).toBe(cases.length);
    expect(Number(root.errors)).toBe(3);
    expect(root.skipped).toBeUndefined();
    expect(suites.reduce((n, s) => n + Number(s.skipped), 0)).toBe(1);
    for (const s of suites) {
      expect(Number(s.tests)).toBe(s.testcase.length);
      expect(Number(s.errors)).toBe(s.testcase.filter((c) => c.error !== undefined).length);
      expect(Number(s.skipped)).toBe(s.testcase.filter((c) => c.skipped !== undefined).length);
    }
    expect(suites.map((s) => s.name)).toEqual([
      'nodeport-range',
      'nodeport-not-allowed',
      'hostport-reserved',
      'hostport-not-allowed',
      'netpol-sensitive-exposure',
      'input',
    ]);
  });

  it('every finding and every pass is a case: findings + outcomes + input errors', () => {
    const scan = fixtureScan();
    const outcomes = scan.evaluations!.reduce((n, e) => n + e.outcomes.length, 0);
    const { root } = parse(writeJunit(scan, WRITER_OPTIONS));
    expect(Number(root.tests)).toBe(scan.findings.length + outcomes + scan.errors.length);
  });

  it('without evaluations only findings and errors are cases', () => {
    const scan = { ...fixtureScan(), evaluations: undefined };
    const { root } = parse(writeJunit(scan, WRITER_OPTIONS));
    expect(Number(root.tests)).toBe(scan.findings.length + scan.errors.length);
  });

  it('two findings on one rule path are told apart by their port', () => {
    const { suites } = parse(writeJunit(fixtureScan(), WRITER_OPTIONS));
    const names = suites.find((s) => s.name === 'netpol-sensitive-exposure')!.testcase.map((c) => c.name);
    expect(names.filter((n) => n.startsWith('NetworkPolicy team-b/allow-egress spec.egress[0] (1025'))).toEqual([
      'NetworkPolicy team-b/allow-egress spec.egress[0] (10250) in examples/team-b/netpol.yaml',
      'NetworkPolicy team-b/allow-egress spec.egress[0] (10255) in examples/team-b/netpol.yaml',
    ]);
  });

  it('a case names its file, and its failure text the line: the schema has no file or line attributes', () => {
    const withSource = FINDINGS.find((f) => f.source !== null && f.rule === 'hostport-reserved' && f.action === 'deny')!;
    const { suites } = parse(writeJunit({ ...fixtureScan(), evaluations: [], errors: [], findings: [withSource] }, WRITER_OPTIONS));
    const c = suites[0].testcase[0] as Case & Record<string, unknown>;
    expect({ name: c.name, file: c.file, line: c.line, source: /^source: (\S+)$/m.exec((c.failure as Record<string, string>)['#text'])?.[1] }).toEqual({
      name: expect.stringMatching(/ in examples\/team-a\/web\.yaml$/),
      file: undefined,
      line: undefined,
      source: 'examples/team-a/web.yaml:20',
    });
  });

  it('a clean scan is an empty, valid document', async () => {
    const scan = { ...fixtureScan(), findings: [], errors: [], evaluations: [] };
    const xml = writeJunit(scan, WRITER_OPTIONS);
    expect({ tests: parse(xml).root.tests, schema: await checkJunit(xml) }).toEqual({ tests: '0', schema: [true, []] });
  });
});

describe('junit against the Jenkins xunit JUnit schema (junit-10.xsd)', () => {
  it.each(['junit.xml', 'junit-fail-on-warn.xml'])('the golden %s is valid', async (name) => {
    expect(await checkJunit(readGolden(name))).toEqual([true, []]);
  });

  it.each<{ name: string; edit: (xml: string) => string; error: RegExp }>([
    { name: 'skipped on <testsuites>', edit: (xml) => xml.replace('<testsuites ', '<testsuites skipped="1" '), error: /attribute 'skipped' is not allowed/ },
    { name: 'file on <testcase>', edit: (xml) => xml.replace('<testcase ', '<testcase file="a.yaml" '), error: /attribute 'file' is not allowed/ },
    { name: 'line on <testcase>', edit: (xml) => xml.replace('<testcase ', '<testcase line="3" '), error: /attribute 'line' is not allowed/ },
  ])('the schema can fail: it refuses $name', async ({ edit, error }) => {
    const [valid, errors] = await checkJunit(edit(writeJunit(fixtureScan(), WRITER_OPTIONS)));
    expect({ valid, errors }).toEqual({ valid: false, errors: [expect.stringMatching(error)] });
  });
});
