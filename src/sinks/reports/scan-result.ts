// What a scan (offline or --cluster) hands to the report writers. Each writer is a pure
// function from a ScanResult to a string; writing it out is the caller's job.
import type { CompiledPolicy } from '../../engine/policy/model.js';
import type { RuleCatalog } from '../../engine/rules/rule.js';
import type { Action, Evaluation, Finding, InputError, PortUse, ResourceRef } from '../../engine/types.js';

export type { InputError } from '../../engine/types.js';

export interface ScanSummary {
  /** Kubernetes objects checked, List items included. */
  resources: number;
  /** Documents of kinds the engine does not check, and non-Kubernetes documents. */
  skipped: number;
  /**
   * The skipped documents by `apiVersion/kind`, NOT_A_KUBERNETES_OBJECT for documents that are
   * none, OTHER_KINDS past the bound (see run.ts); the counts sum to `skipped`.
   */
  skippedKinds: Record<string, number>;
  errors: number;
  findings: Record<Action, number>;
}

/**
 * The network-policy rule that netpol-sensitive-exposure findings point at, as written in the
 * object (a finding carries only the rule's path); kept for html.
 */
export interface RuleExcerpt {
  resource: ResourceRef;
  /** The rule's path, equal to its findings' `path`: spec.egress[0], specs[1].ingress[0]. */
  path: string;
  /** The object's value at `path`, unchanged: the rule's peers and ports as written. */
  rule: unknown;
}

export interface ScanResult {
  policies: readonly CompiledPolicy[];
  /** Sorted by file, line and path. */
  findings: Finding[];
  errors: InputError[];
  summary: ScanSummary;
  /** One per resource checked; kept only when the format needs pass results (policyreport, html). */
  evaluations?: Evaluation[];
  /** Every hostPort and nodePort in use; kept only for the html format. */
  portUses?: PortUse[];
  /** Namespace → tenant name per policy, for reports that group by tenant; kept for html. */
  namespaces?: { name: string; tenants: Record<string, string | null> }[];
  /** One per network-policy rule with findings (see ruleExcerpts in html/exposures.ts); kept for html. */
  exposures?: RuleExcerpt[];
  /** When the scan ran; passed in (a clock) so writers stay pure and goldens stable. */
  generatedAt: Date;
}

/** What a writer is told beside the scan's result. */
export interface WriterOptions {
  /** The rules the report describes, from the registry: the door passes them in. */
  rules: RuleCatalog;
  /** ANSI colour in the table format; the caller decides (terminal, --no-color). */
  color?: boolean;
  /** The scan's --fail-on threshold: JUnit marks findings at or above it as failures. */
  failOn?: Action | 'never';
}

export type ReportWriter = (result: ScanResult, options: WriterOptions) => string;

/** The skippedKinds key of documents that are no Kubernetes object. */
export const NOT_A_KUBERNETES_OBJECT = '(not a Kubernetes object)';
/** The skippedKinds key of kinds past the bound on distinct keys, or with names too long to be real. */
export const OTHER_KINDS = '(other kinds)';
