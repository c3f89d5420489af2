// The writers on real engine output: `portcullis scan` of the shipped examples, run in
// process through runScan with captured output, checked against each format's schema and
// against the json format's findings.
import { XMLValidator } from 'fast-xml-parser';
import { parseAllDocuments } from 'yaml';
import { runScan } from '../../src/cmd/scan.js';
import type { ReportFlavor } from '../../src/sinks/reports/policyreport.js';
import { checkJunit, checkReport, checkSarif, checkScanJson } from './schemas.js';

const root = new URL('../../', import.meta.url).pathname;

async function scan(format: string): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const cwd = process.cwd();
  process.chdir(root); // relative paths in reports, as a user running from the repository gets
  try {
    const status = await runScan(
      ['examples/manifests'],
      { policy: ['examples/policies'], format, failOn: 'deny' },
      {
        stdout: { write: (s: string) => (out += s) },
        stderr: { write: (s: string) => (err += s) },
        stdoutColor: false,
        now: () => new Date('2026-11-25T12:00:00Z'),
      },
    );
    return { status, out, err };
  } finally {
    process.chdir(cwd);
  }
}

interface JsonFinding {
  rule: string;
  action: string;
  resource: { name: string };
  path: string;
  value: number | null;
  source: { file: string; line: number } | null;
}

describe('reports of the shipped examples', () => {
  let json: { findings: JsonFinding[]; summary: { findings: Record<string, number>; skipped: number; skippedKinds: Record<string, number> } };
  beforeAll(async () => {
    const r = await scan('json');
    expect(r.err).toBe('');
    json = JSON.parse(r.out);
    expect(checkScanJson(json)).toEqual([true, []]);
    expect(json.findings.length).toBeGreaterThan(0);
  });

  it('sarif is valid SARIF 2.1.0 with one result per finding, each on its file and line', async () => {
    const log = JSON.parse((await scan('sarif')).out);
    expect(checkSarif(log)).toEqual([true, []]);
    const results = log.runs[0].results;
    expect(results.map((r: any) => [r.ruleId, r.locations[0].physicalLocation.artifactLocation.uri, r.locations[0].physicalLocation.region.startLine])).toEqual(
      json.findings.map((f) => [f.rule, f.source!.file, f.source!.line]),
    );
    const prints = results.map((r: any) => r.partialFingerprints['portcullisFinding/v1']);
    expect(new Set(prints).size).toBe(prints.length);
  });

  it('junit is valid against the Jenkins xunit JUnit schema and fails exactly the deny findings', async () => {
    const { out } = await scan('junit');
    expect(XMLValidator.validate(out)).toBe(true);
    expect(await checkJunit(out)).toEqual([true, []]);
    const failures = Number(/<testsuites [^>]*failures="(\d+)"/.exec(out)![1]);
    expect(failures).toBe(json.summary.findings.deny);
  });

  it.each<{ format: string; flavor: ReportFlavor }>([
    { format: 'policyreport', flavor: 'wgpolicyk8s' },
    { format: 'openreports', flavor: 'openreports' },
  ])('$format objects validate against the CRD schema and hold every finding', async ({ format, flavor }) => {
    const docs = parseAllDocuments((await scan(format)).out).map((d) => d.toJS());
    for (const d of docs) expect(checkReport[flavor](d)).toEqual([true, []]);
    const fails = docs.flatMap((d) => d.results).filter((r: any) => r.result === 'fail' || r.result === 'error');
    expect(fails.length).toBe(json.findings.length);
    expect(docs.flatMap((d) => d.results).some((r: any) => r.result === 'pass')).toBe(true);
    // Policy Reporter's id for a result across every report: present on each, never twice.
    const ids = docs.flatMap((d) => d.results).map((r: any) => r.properties?.resultID);
    expect({ missing: ids.filter((id: unknown) => typeof id !== 'string').length, unique: new Set(ids).size === ids.length }).toEqual({
      missing: 0,
      unique: true,
    });
  });

  it('table lists every finding once and ends with the summary, then the kinds skipped', async () => {
    const { out } = await scan('table');
    const rows = out.split('\n').filter((l) => /^ +\d+ {2}(deny|warn|audit) /.test(l));
    expect(rows.length).toBe(json.findings.length);
    const [summary, skipped] = out.trimEnd().split('\n').slice(-2);
    expect(summary).toMatch(/^\d+ resources checked, \d+ skipped, 0 input errors: \d+ deny, \d+ warn, \d+ audit$/);
    const named = Object.entries(json.summary.skippedKinds).sort(([ka, a], [kb, b]) => b - a || (ka < kb ? -1 : 1));
    expect(skipped).toBe(`skipped: ${named.map(([k, n]) => `${n} ${k}`).join(', ')}`);
  });

  it('json names the kinds skipped, and their counts sum to summary.skipped', () => {
    const kinds = json.summary.skippedKinds;
    expect(Object.values(kinds).reduce((a, b) => a + b, 0)).toBe(json.summary.skipped);
    expect(kinds).toEqual({ 'v1/Namespace': 4, '(not a Kubernetes object)': 1, 'kustomize.config.k8s.io/v1beta1/Kustomization': 1 });
  });
});
