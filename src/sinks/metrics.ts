// Prometheus metrics of the webhook, on a registry of their own (tests make many servers in
// one process; prom-client's global registry would refuse the second set of names).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { checkedKind } from '../engine/facts/kinds.js';
import { PORT_POLICY_API_VERSION, PORT_POLICY_KIND } from '../engine/policy/schema.js';
import type { RuleCatalog } from '../engine/rules/rule.js';
import { ACTIONS } from '../engine/types.js';
import type { Verdict } from './admission/decide.js';
import { registerProcessMetrics } from './process-metrics.js';

/**
 * Every label value comes from a fixed set, whatever the request said: a caller-chosen kind
 * counted verbatim would make one series per request (20,000 kinds made 20,000 series, and
 * megabyte-long kinds ran the heap out in about 80 requests). Values outside a set are `other`.
 */
const ENDPOINTS: ReadonlySet<string> = new Set(['validate', 'mutate']);
const OPERATIONS: ReadonlySet<string> = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);
const VERDICTS: ReadonlySet<string> = new Set(['denied', 'warned', 'audited', 'allowed', 'patched', 'skipped', 'invalid', 'error'] satisfies Verdict[]);
const ACTION_SET: ReadonlySet<string> = new Set(ACTIONS);
const CONNECTION_EVENTS: ReadonlySet<string> = new Set([
  'closed-unused-at-cap',
  'closed-idle-at-cap',
  'refused-at-cap',
  'handshake-timeout',
  'handshake-failed',
]);

const label = (set: ReadonlySet<string>, value: string): string => (set.has(value) ? value : 'other');

/**
 * The kind label: the kind when the engine checks it (about fifteen names) or PortPolicy (whose
 * writes the webhook judges), `other` for any other kind, `none` when the request had no readable kind.
 */
export function kindLabel(gvk: { group: string; version: string; kind: string } | null): string {
  if (gvk === null) return 'none';
  const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
  if (apiVersion === PORT_POLICY_API_VERSION && gvk.kind === PORT_POLICY_KIND) return gvk.kind;
  return checkedKind(apiVersion, gvk.kind) === null ? 'other' : gvk.kind;
}

export interface WebhookMetrics {
  registry: Registry;
  /**
   * Per-request recording: counts are tallied here and handed to prom-client when it collects.
   * The kind is the request's kind (labelled by kindLabel), null when it could not be read.
   */
  countRequest(endpoint: string, kind: { group: string; version: string; kind: string } | null, operation: string, verdict: string): void;
  observeLatency(endpoint: string, seconds: number): void;
  countFinding(rule: string, action: string, count?: number): void;
  requests: Counter<'endpoint' | 'kind' | 'operation' | 'verdict'>;
  latency: Histogram<'endpoint'>;
  findings: Counter<'rule' | 'action'>;
  /** Connections closed or refused by a limit (connections.ts, the TLS handshake timeout). */
  countConnection(event: string): void;
  /** The number of open webhook connections, read on every scrape. */
  observeOpenConnections(read: () => number): void;
  policyReloads: Counter<'result'>;
  certificateReloads: Counter<'result'>;
}

/**
 * Counts per label set, added to the counter when it is collected (on a scrape). prom-client
 * validates and hashes the labels on every inc(), a labelled child's included: about a tenth
 * of the webhook's own work per request went to its three counts and one observation.
 */
function tally<L extends string>(names: readonly L[]) {
  const pending = new Map<string, { labels: Record<L, string>; n: number }>();
  return {
    add(n: number, ...values: string[]): void {
      const key = values.join('\0');
      let entry = pending.get(key);
      if (entry === undefined) {
        entry = { labels: Object.fromEntries(names.map((n, i) => [n, values[i]])) as Record<L, string>, n: 0 };
        pending.set(key, entry);
      }
      entry.n += n;
    },
    flushTo(counter: Counter<L>): void {
      for (const entry of pending.values()) {
        if (entry.n === 0) continue;
        counter.inc(entry.labels, entry.n);
        entry.n = 0;
      }
    },
  };
}

/** `rules` (the registry, passed in by the door) is the rule label's set. */
export function createMetrics(opts: { rules: RuleCatalog; processDefaults?: boolean }): WebhookMetrics {
  const ruleIds: ReadonlySet<string> = new Set(opts.rules.rules.map((r) => r.id));
  const registry = new Registry();
  registerProcessMetrics(registry, { defaults: opts.processDefaults ?? true });
  let readOpen = () => 0;
  const requestCounts = tally(['endpoint', 'kind', 'operation', 'verdict'] as const);
  const findingCounts = tally(['rule', 'action'] as const);
  const m = {
    requests: new Counter({
      name: 'portcullis_admission_requests_total',
      help: 'Admission requests answered, by endpoint, object kind, operation and verdict.',
      labelNames: ['endpoint', 'kind', 'operation', 'verdict'],
      registers: [registry],
      collect() {
        requestCounts.flushTo(this);
      },
    }),
    latency: new Histogram({
      name: 'portcullis_admission_duration_seconds',
      help: 'Time from the first byte of the body to the last byte of the answer.',
      labelNames: ['endpoint'],
      // Decisions take well under a millisecond; the tail up to 10 s covers slow clients
      // and namespace lookups against the API server's default webhook timeout of 10 s.
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    findings: new Counter({
      name: 'portcullis_findings_total',
      help: 'Findings in admission requests, by rule and action.',
      labelNames: ['rule', 'action'],
      registers: [registry],
      collect() {
        findingCounts.flushTo(this);
      },
    }),
    connections: new Counter({
      name: 'portcullis_connections_closed_total',
      help:
        'Webhook connections closed by a limit: closed-unused-at-cap and closed-idle-at-cap made room at the connection cap, ' +
        'refused-at-cap found every connection busy, handshake-timeout and handshake-failed never completed TLS.',
      labelNames: ['event'],
      registers: [registry],
    }),
    connectionsOpen: new Gauge({
      name: 'portcullis_connections_open',
      help: 'Webhook connections open now (TCP, before and after the TLS handshake).',
      registers: [registry],
      collect() {
        this.set(readOpen());
      },
    }),
    policyReloads: new Counter({
      name: 'portcullis_policy_reloads_total',
      help: 'Policy file reloads; result="failure" means the new files were refused and the last good policy stays.',
      labelNames: ['result'],
      registers: [registry],
    }),
    certificateReloads: new Counter({
      name: 'portcullis_certificate_reloads_total',
      help: 'Serving certificate reloads; result="failure" means the new pair was refused and the old one stays.',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
  // Both results exported from the start at 0, so an alert on failures sees the first one
  // as an increase (a series that appears at 1 has no increase to rate()).
  for (const result of ['success', 'failure']) {
    m.policyReloads.inc({ result }, 0);
    m.certificateReloads.inc({ result }, 0);
  }
  for (const event of CONNECTION_EVENTS) m.connections.inc({ event }, 0);
  const latency = new Map<string, Histogram.Internal<'endpoint'>>();
  return {
    registry,
    ...m,
    countRequest: (endpoint, kind, operation, verdict) =>
      requestCounts.add(1, label(ENDPOINTS, endpoint), kindLabel(kind), operation === 'none' ? 'none' : label(OPERATIONS, operation), label(VERDICTS, verdict)),
    observeLatency: (endpoint, seconds) => {
      const name = label(ENDPOINTS, endpoint);
      let child = latency.get(name);
      if (child === undefined) latency.set(name, (child = m.latency.labels({ endpoint: name })));
      child.observe(seconds);
    },
    countConnection: (event) => m.connections.inc({ event: label(CONNECTION_EVENTS, event) }),
    observeOpenConnections: (read) => {
      readOpen = read;
    },
    countFinding: (rule, action, count = 1) => findingCounts.add(count, label(ruleIds, rule), label(ACTION_SET, action)),
  };
}
