import { FORMATS } from '../../src/sinks/reports/index.js';
import { writeJson } from '../../src/sinks/reports/json.js';
import { writeJunit } from '../../src/sinks/reports/junit.js';
import { writePolicyReports } from '../../src/sinks/reports/policyreport.js';
import { writeSarif } from '../../src/sinks/reports/sarif.js';
import type { ReportWriter } from '../../src/sinks/reports/scan-result.js';
import { writeTable } from '../../src/sinks/reports/table.js';
import { FIXTURE_RULES, FIXTURE_TOOL, fixtureScan, WRITER_OPTIONS } from './fixture.js';
import { expectGolden } from './golden.js';

const rows: { name: string; golden: string; write: ReportWriter }[] = [
  { name: 'table', golden: 'table.txt', write: (r) => writeTable(r) },
  { name: 'table in colour', golden: 'table-color.txt', write: (r) => writeTable(r, { color: true }) },
  { name: 'json', golden: 'scan.json', write: writeJson },
  { name: 'sarif', golden: 'scan.sarif', write: (r) => writeSarif(r, FIXTURE_RULES, FIXTURE_TOOL) },
  { name: 'junit (fail on deny)', golden: 'junit.xml', write: writeJunit },
  { name: 'junit (fail on warn)', golden: 'junit-fail-on-warn.xml', write: (r, o) => writeJunit(r, { ...o, failOn: 'warn' }) },
  { name: 'policyreport', golden: 'policyreport.yaml', write: (r, o) => writePolicyReports(r, o, 'wgpolicyk8s') },
  { name: 'openreports', golden: 'openreports.yaml', write: (r, o) => writePolicyReports(r, o, 'openreports') },
];

describe('report goldens', () => {
  it.each(rows)('$name', ({ golden, write }) => {
    expectGolden(golden, write(fixtureScan(), WRITER_OPTIONS));
  });

  it.each(rows)('$name does not change its input', ({ write }) => {
    const scan = fixtureScan();
    const before = JSON.stringify(scan);
    write(scan, WRITER_OPTIONS);
    expect(JSON.stringify(scan)).toBe(before);
  });
});

describe('format registry', () => {
  it.each([
    { name: 'table', writer: writeTable, evaluations: false },
    { name: 'json', writer: writeJson, evaluations: false },
    { name: 'junit', writer: writeJunit, evaluations: true },
  ] as const)('$name is the writer itself (evaluations: $evaluations)', ({ name, writer, evaluations }) => {
    expect(FORMATS[name].write).toBe(writer);
    expect(FORMATS[name].needsEvaluations).toBe(evaluations);
  });

  it.each([
    { name: 'policyreport', golden: 'policyreport.yaml' },
    { name: 'openreports', golden: 'openreports.yaml' },
  ] as const)('$name keeps evaluations and writes its golden', ({ name, golden }) => {
    expect(FORMATS[name].needsEvaluations).toBe(true);
    expectGolden(golden, FORMATS[name].write(fixtureScan(), WRITER_OPTIONS));
  });

  it('lists exactly the formats the scan command offers (html has its own golden in test/html)', () => {
    expect(
      Object.keys(FORMATS)
        .filter((n) => n !== 'html')
        .sort(),
    ).toEqual(['json', 'junit', 'openreports', 'policyreport', 'sarif', 'table']);
  });

  it('no format but html needs the port map', () => {
    const needing = Object.entries(FORMATS)
      .filter(([, f]) => f.needsPortMap)
      .map(([n]) => n);
    expect(needing.filter((n) => n !== 'html')).toEqual([]);
  });
});
