// `portcullis controller` configuration: one typed object, every default here with its reason.
// Beside the webhook's (serve.ts): the log levels are one list for both processes.
import { UsageError } from '../runtime/usage-error.js';
import type { ReportFlavor } from '../sinks/reports/policyreport.js';
import type { LogLevel } from './serve.js';

export interface ControllerConfig {
  policyPaths: string[];
  metricsPort: number;
  logLevel: LogLevel;
  kubeContext: string | null;
  /** --kubeconfig: one kubeconfig file instead of $KUBECONFIG or ~/.kube/config. */
  kubeconfigFile: string | null;
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

/**
 * The V8 flags the controller's Deployment sets in NODE_OPTIONS. Listing 150,000 pods makes
 * garbage fast (every page is parsed whole, then stripped), and with V8's defaults the heap
 * grows to 230+ MB of mostly garbage before it collects; what stays is about 40 MB. A small
 * young generation (8 MB semi-spaces) collects page garbage early, and a 192 MB old-space
 * cap keeps the rest in check with 4x headroom over the caches (bench:audit: peak RSS
 * 340-360 MB without these flags, 170-190 MB with them, first report set 19-22 s vs 24-26 s).
 */
export const CONTROLLER_NODE_OPTIONS = '--max-old-space-size=192 --max-semi-space-size=8';

export const CONTROLLER_DEFAULTS: Omit<ControllerConfig, 'policyPaths' | 'kubeContext' | 'kubeconfigFile'> = {
  metricsPort: 8080,
  logLevel: 'info',
  leaseNamespace: 'portcullis-system',
  leaseName: 'portcullis-controller',
  flavor: 'wgpolicyk8s',
  // client-go's leaderelection defaults (LeaseDuration 15 s, RenewDeadline 10 s, RetryPeriod 2 s).
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
    kubeconfigFile: (opts.kubeconfig as string | undefined) ?? null,
    leaseNamespace: (opts.leaseNamespace as string | undefined) ?? CONTROLLER_DEFAULTS.leaseNamespace,
    flavor: opts.reportFormat === 'openreports' ? 'openreports' : 'wgpolicyk8s',
  };
}
