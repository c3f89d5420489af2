// `portcullis controller` configuration: one typed object, every default here with its reason.
import { UsageError } from '../cmd/exit.js';
import type { ReportFlavor } from '../sinks/reports/policyreport.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface ControllerConfig {
  policyPaths: string[];
  metricsPort: number;
  logLevel: LogLevel;
  kubeContext: string | null;
  leaseNamespace: string;
  leaseName: string;
  flavor: ReportFlavor;
  /** client-go's leader-election defaults: a dead leader is replaced within about 15 s. */
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** Changes within this window are audited together: a rollout touches many objects at once. */
  debounceMs: number;
  /**
   * Report writes per second and burst. A policy change rewrites one report per namespace;
   * 20/s with a burst of 50 keeps a 1,000-namespace cluster's rewrite under a minute without
   * crowding the API server's priority-and-fairness share of a workload controller.
   */
  writeQps: number;
  writeBurst: number;
  /**
   * Items per list page: client-go's 500. A page of 500 pods is 2-5 MB of JSON, parsed and
   * stripped before the next page is asked for.
   */
  pageSize: number;
}

export const CONTROLLER_DEFAULTS: Omit<ControllerConfig, 'policyPaths' | 'kubeContext'> = {
  metricsPort: 8080,
  logLevel: 'info',
  leaseNamespace: 'portcullis-system',
  leaseName: 'portcullis-controller',
  flavor: 'wgpolicyk8s',
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
  debounceMs: 1_000,
  writeQps: 20,
  writeBurst: 50,
  pageSize: 500,
};

function port(value: unknown, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`controller: ${flag} must be a port number, got "${String(value)}"`);
  return n;
}

/** From commander's options for `portcullis controller`. */
export function controllerConfig(opts: Record<string, unknown>): ControllerConfig {
  return {
    ...CONTROLLER_DEFAULTS,
    policyPaths: (opts.policy as string[] | undefined) ?? [],
    metricsPort: opts.metricsPort === undefined ? CONTROLLER_DEFAULTS.metricsPort : port(opts.metricsPort, '--metrics-port'),
    logLevel: (opts.logLevel as LogLevel | undefined) ?? CONTROLLER_DEFAULTS.logLevel,
    kubeContext: (opts.context as string | undefined) ?? null,
    leaseNamespace: (opts.leaseNamespace as string | undefined) ?? CONTROLLER_DEFAULTS.leaseNamespace,
    flavor: opts.reportFormat === 'openreports' ? 'openreports' : 'wgpolicyk8s',
  };
}
