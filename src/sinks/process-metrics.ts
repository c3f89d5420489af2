// What both processes (webhook and controller) export about themselves: prom-client's process
// and Node metrics, and portcullis_build_info. Shared so that both pass `promtool check
// metrics` the same way.
import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client';
import { BUILD_INFO, type BuildInfo } from '../build-info.js';

// prom-client exports these sums as gauges named *_total, which promtool rejects ("non-counter
// metrics should not have _total suffix"). They are dropped rather than renamed: each is the
// sum over the type label of the gauge of the same name without _total
// (sum(nodejs_active_handles) is nodejs_active_handles_total).
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export function registerProcessMetrics(registry: Registry, opts: { defaults?: boolean; build?: BuildInfo } = {}): void {
  if (opts.defaults ?? true) {
    collectDefaultMetrics({ register: registry });
    for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
  }
  const build = opts.build ?? BUILD_INFO;
  // The usual info-metric shape (Prometheus' own prometheus_build_info): always 1, the facts in
  // labels, so `* on(instance) group_left(version)` joins them onto other series.
  new Gauge({
    name: 'portcullis_build_info',
    help: 'Always 1; the version and the git commit (revision, "unknown" outside a git build) of the running portcullis.',
    labelNames: ['version', 'revision'],
    registers: [registry],
  }).set({ version: build.version, revision: build.commit ?? 'unknown' }, 1);
}
