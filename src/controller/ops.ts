// What the controller shows on its ops endpoints (--metrics-port): its Prometheus registry,
// which reads the controller's state when scraped, and its /readyz checks.
import { Counter, Gauge, Registry } from 'prom-client';
import { registerProcessMetrics } from '../sinks/process-metrics.js';
import type { Controller } from './controller.js';

/**
 * A counter whose value the controller already keeps: set to that value on every scrape.
 * prom-client's counters only go up by inc(); reset() then inc(n) writes n, and the
 * controller's numbers never go down, so the series is a true counter for rate().
 */
function mirroredCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  values: () => Iterable<[Partial<Record<L, string>>, number]>,
) {
  return new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, n] of values()) this.inc(labels, n);
    },
  });
}

export function controllerRegistry(controller: Controller): Registry {
  const registry = new Registry();
  registerProcessMetrics(registry);
  new Gauge({
    name: 'portcullis_controller_leader',
    help: '1 while this replica holds the Lease and writes reports.',
    registers: [registry],
    collect() {
      this.set(controller.isLeader() ? 1 : 0);
    },
  });
  mirroredCounter(
    registry,
    'portcullis_controller_report_writes_total',
    'Report writes since start, by operation and result.',
    ['operation', 'result'],
    function* () {
      for (const [operation, n] of Object.entries(controller.stats.writes)) {
        yield [{ operation, result: 'ok' }, n.ok];
        yield [{ operation, result: 'error' }, n.error];
      }
    },
  );
  mirroredCounter(
    registry,
    'portcullis_controller_audit_runs_total',
    'Audit runs since start (a run audits the namespaces changed since the last).',
    [],
    () => [[{}, controller.stats.auditRuns]],
  );
  new Gauge({
    name: 'portcullis_controller_last_audit_duration_seconds',
    help: 'Duration of the last audit run.',
    registers: [registry],
    collect() {
      this.set(controller.stats.lastAuditSeconds);
    },
  });
  // For staleness alerts: changes are audited as they come (there is no periodic re-audit), so
  // a quiet cluster keeps an old timestamp; stale is pending scopes and an old timestamp.
  new Gauge({
    name: 'portcullis_controller_last_successful_audit_timestamp_seconds',
    help: 'Unix time at which the last audit run ended with every report written; 0 before the first (and on followers, which do not audit).',
    registers: [registry],
    collect() {
      this.set((controller.stats.lastSuccessfulAudit?.getTime() ?? 0) / 1000);
    },
  });
  new Gauge({
    name: 'portcullis_controller_pending_scopes',
    help: 'Namespaces (and the cluster scope) changed since their reports were last written.',
    registers: [registry],
    collect() {
      this.set(controller.pendingScopes());
    },
  });
  new Gauge({
    name: 'portcullis_controller_findings',
    help: 'Findings in the cluster as last audited, by rule and action.',
    labelNames: ['rule', 'action'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [k, n] of controller.stats.findings) {
        const [rule, action] = k.split('|');
        if (n > 0) this.set({ rule, action }, n);
      }
    },
  });
  type InformerOf = ReturnType<Controller['informers']>[number];
  const perInformer = (name: string, help: string, value: (i: InformerOf) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['resource'],
      registers: [registry],
      collect() {
        for (const i of controller.informers()) this.set({ resource: i.type.resource }, value(i));
      },
    });
  const perInformerCounter = (name: string, help: string, value: (i: InformerOf) => number) =>
    mirroredCounter(registry, name, help, ['resource'], () =>
      controller.informers().map((i): [{ resource: string }, number] => [{ resource: i.type.resource }, value(i)]),
    );
  perInformer(
    'portcullis_controller_cached_objects',
    'Objects held in the cache (pods, ReplicaSets and Jobs owned by workloads are kept only when they use host ports).',
    (i) => i.size,
  );
  perInformerCounter('portcullis_controller_lists_total', 'Lists since start (a relist follows an expired watch).', (i) => i.stats.lists);
  perInformerCounter(
    'portcullis_controller_watch_failures_total',
    'Watches that failed (dropped connection, error answer) since start.',
    (i) => i.stats.failures,
  );
  perInformer('portcullis_controller_synced', '1 once the cache has listed.', (i) => (i.synced() ? 1 : 0));
  return registry;
}

/**
 * What the controller answers on /readyz (the ops server is src/server/ops-app.ts, wired in
 * cmd/controller.ts): ready once every cache has listed. Followers are ready too, so a
 * hand-over finds warm caches; leadership is not a condition.
 */
export function controllerReadiness(controller: Pick<Controller, 'synced'>): () => { ready: boolean; checks: { cluster: boolean } } {
  return () => {
    const synced = controller.synced();
    return { ready: synced, checks: { cluster: synced } };
  };
}
