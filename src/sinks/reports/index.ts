// The report formats, by the name `--format` takes. Each writer is a pure function from a
// ScanResult and the rules (passed in by the door) to a string; the scan command writes it out.
// The flags tell the scan what it must keep while streaming, so formats that need little keep
// memory flat.
import { BUILD_INFO } from '../../build-info.js';
import { writeHtml } from './html.js';
import { writeJson } from './json.js';
import { writeJunit } from './junit.js';
import { writePolicyReports } from './policyreport.js';
import { writeSarif } from './sarif.js';
import type { ReportWriter } from './scan-result.js';
import { writeTable } from './table.js';

export interface ReportFormat {
  readonly write: ReportWriter;
  /** The scan keeps `evaluations`: the format shows pass and skip results. */
  readonly needsEvaluations: boolean;
  /** The scan keeps `portUses` and `namespaces`: the format draws the port space. */
  readonly needsPortMap: boolean;
}

export const FORMATS = {
  table: { write: writeTable, needsEvaluations: false, needsPortMap: false },
  json: { write: writeJson, needsEvaluations: false, needsPortMap: false },
  sarif: {
    write: (r, { rules }) => writeSarif(r, rules.rules, { version: BUILD_INFO.version, informationUri: new URL('/', rules.docsUrl).href }),
    needsEvaluations: false,
    needsPortMap: false,
  },
  // Passing resources become passing test cases, so a dashboard counts what was checked.
  junit: { write: writeJunit, needsEvaluations: true, needsPortMap: false },
  policyreport: { write: (r, o) => writePolicyReports(r, o, 'wgpolicyk8s'), needsEvaluations: true, needsPortMap: false },
  openreports: { write: (r, o) => writePolicyReports(r, o, 'openreports'), needsEvaluations: true, needsPortMap: false },
  html: { write: writeHtml, needsEvaluations: false, needsPortMap: true },
} as const satisfies Record<string, ReportFormat>;

export type FormatName = keyof typeof FORMATS;

export const FORMAT_NAMES = Object.keys(FORMATS) as FormatName[];

export function isFormatName(name: string): name is FormatName {
  return Object.hasOwn(FORMATS, name);
}
