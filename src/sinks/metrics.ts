// Prometheus metrics of the webhook, on a registry of their own (tests make many servers in
// one process; prom-client's global registry would refuse the second set of names).
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface WebhookMetrics {
  registry: Registry;
  /** Per-request recording, with the labelled children cached (prom-client hashes labels on every call). */
  countRequest(endpoint: string, kind: string, operation: string, verdict: string): void;
  observeLatency(endpoint: string, seconds: number): void;
  countFinding(rule: string, action: string): void;
  requests: Counter<'endpoint' | 'kind' | 'operation' | 'verdict'>;
  latency: Histogram<'endpoint'>;
  findings: Counter<'rule' | 'action'>;
  policyReloads: Counter<'result'>;
  certificateReloads: Counter<'result'>;
}

/** Caches what `make` returns per key: labelled children are created once per label set. */
function cached<T>(make: (...labels: string[]) => T): (...labels: string[]) => T {
  const cache = new Map<string, T>();
  return (...labels) => {
    const key = labels.join('\0');
    let child = cache.get(key);
    if (child === undefined) cache.set(key, (child = make(...labels)));
    return child;
  };
}

export function createMetrics(opts: { processDefaults?: boolean } = {}): WebhookMetrics {
  const registry = new Registry();
  if (opts.processDefaults ?? true) collectDefaultMetrics({ register: registry });
  const m = {
    requests: new Counter({
      name: 'portcullis_admission_requests_total',
      help: 'Admission requests answered, by endpoint, object kind, operation and verdict.',
      labelNames: ['endpoint', 'kind', 'operation', 'verdict'],
      registers: [registry],
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
  const request = cached((endpoint, kind, operation, verdict) => m.requests.labels({ endpoint, kind, operation, verdict }));
  const latency = cached((endpoint) => m.latency.labels({ endpoint }));
  const finding = cached((rule, action) => m.findings.labels({ rule, action }));
  return {
    registry,
    ...m,
    countRequest: (endpoint, kind, operation, verdict) => request(endpoint, kind, operation, verdict).inc(),
    observeLatency: (endpoint, seconds) => latency(endpoint).observe(seconds),
    countFinding: (rule, action) => finding(rule, action).inc(),
  };
}
