// Both processes' /metrics as Prometheus reads them: `promtool check metrics` (Debian's
// prometheus package; .ci/run installs it) finds no problem, counters are counters named
// _total, and each process says which build it is. Real servers: the webhook through its test
// harness, the controller against the test API server.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { BUILD_INFO } from '../../src/build-info.js';
import { startController, type Controller } from '../../src/controller/controller.js';
import { controllerReadiness, controllerRegistry } from '../../src/controller/ops.js';
import { startOpsServer, type OpsServer } from '../../src/server/ops-app.js';
import { connectKube } from '../../src/k8s/client.js';
import { loadDefaultSpec, loadPolicyPaths } from '../../src/sources/policy-files.js';
import { namespace, pod, service } from '../support/cluster-objects.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { startHarness, type Harness } from '../webhook/harness.js';
import { webPod } from '../webhook/objects.js';
import { admissionReview } from '../webhook/reviews.js';
import { ManualClock } from '../support/clock.js';

function promtool(text: string): { status: number | null; problems: string[] } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool cannot run (${r.error.message}); install Debian's prometheus package (scripts/install-test-tools.sh)`);
  return { status: r.status, problems: `${r.stdout}${r.stderr}`.split('\n').filter(Boolean) };
}

/** `# TYPE name type` lines: name → type. */
const types = (text: string) => Object.fromEntries([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));

const buildInfo = `portcullis_build_info{version="${BUILD_INFO.version}",revision="${BUILD_INFO.commit ?? 'unknown'}"} 1`;

// The clock the controller reads; the timestamp gauge must show it, not the wall clock.
const AUDIT_CLOCK = new Date('2026-11-25T18:00:00.250Z');

describe('/metrics of both processes', () => {
  let webhook: Harness;
  let fake: FakeApiServer;
  let controller: Controller;
  let ops: OpsServer;
  const texts: Record<'webhook' | 'controller', string> = { webhook: '', controller: '' };

  beforeAll(async () => {
    webhook = await startHarness();
    await webhook.post('/validate', admissionReview({ object: webPod({ hostPorts: { metrics: 10250 } }) }));
    await webhook.post('/validate', '{', { raw: true });
    texts.webhook = (await webhook.ops('/metrics')).text;

    fake = await FakeApiServer.start();
    fake.put(namespace('shop'));
    fake.put(pod('shop', 'debug', [{ containerPort: 10255, hostPort: 10255 }]));
    fake.put(service('shop', 'web', [30080]));
    const defaults = await loadDefaultSpec();
    controller = startController({
      client: await connectKube({ kubeconfig: fake.kubeconfig({ token: 'a' }) }),
      defaults,
      filePolicies: (await loadPolicyPaths([], defaults)).policies,
      leaseNamespace: 'portcullis-system',
      identity: 'controller-metrics',
      leaseDurationMs: 1000,
      renewDeadlineMs: 700,
      retryPeriodMs: 50,
      debounceMs: 20,
      clock: new ManualClock({ start: AUDIT_CLOCK.getTime(), realSleeps: true }),
    });
    ops = await startOpsServer({ port: 0, host: '127.0.0.1', registry: controllerRegistry(controller), readiness: controllerReadiness(controller) });
    await controller.firstReportSet;
    await controller.idle();
    texts.controller = await (await fetch(`http://127.0.0.1:${ops.port}/metrics`)).text();
  }, 30_000);
  afterAll(async () => {
    await ops?.close();
    await controller?.stop();
    await fake?.close();
    await webhook?.close();
  });

  it.each(['webhook', 'controller'] as const)('%s: promtool check metrics finds no problem', (process) => {
    expect(promtool(texts[process])).toEqual({ status: 0, problems: [] });
  });

  it('promtool does fail on what prom-client exports by default, so the check above can fail', () => {
    const r = promtool(
      '# HELP nodejs_active_handles_total Total number of active handles.\n# TYPE nodejs_active_handles_total gauge\nnodejs_active_handles_total 3\n',
    );
    expect(r).toEqual({ status: 3, problems: ['nodejs_active_handles_total non-counter metrics should not have "_total" suffix'] });
  });

  it.each(['webhook', 'controller'] as const)('%s: exports portcullis_build_info with the version and commit', (process) => {
    expect({ type: types(texts[process]).portcullis_build_info, line: texts[process].split('\n').find((l) => l.startsWith('portcullis_build_info{')) }).toEqual(
      {
        type: 'gauge',
        line: buildInfo,
      },
    );
  });

  it.each(['webhook', 'controller'] as const)('%s: every counter is named _total and nothing else is', (process) => {
    const wrong = Object.entries(types(texts[process])).filter(([name, type]) => (type === 'counter') !== name.endsWith('_total'));
    expect(wrong).toEqual([]);
  });

  it('controller: its counts are counters, with values', () => {
    const t = types(texts.controller);
    const sample = (name: string) => Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(texts.controller)?.[1]);
    expect({
      types: [
        'portcullis_controller_report_writes_total',
        'portcullis_controller_audit_runs_total',
        'portcullis_controller_lists_total',
        'portcullis_controller_watch_failures_total',
      ].map((n) => t[n]),
      gauges: [
        'portcullis_controller_last_successful_audit_timestamp_seconds',
        'portcullis_controller_last_audit_duration_seconds',
        'portcullis_controller_pending_scopes',
      ].map((n) => t[n]),
      writes: sample('portcullis_controller_report_writes_total{operation="create",result="ok"}'),
      auditRuns: sample('portcullis_controller_audit_runs_total') >= 1,
      podLists: sample('portcullis_controller_lists_total{resource="pods"}') >= 1,
      lastSuccessfulAudit: sample('portcullis_controller_last_successful_audit_timestamp_seconds'),
      pending: sample('portcullis_controller_pending_scopes'),
    }).toEqual({
      types: ['counter', 'counter', 'counter', 'counter'],
      gauges: ['gauge', 'gauge', 'gauge'],
      // shop's report; no cluster-scoped object was audited, so no cluster report.
      writes: 1,
      auditRuns: true,
      podLists: true,
      lastSuccessfulAudit: AUDIT_CLOCK.getTime() / 1000,
      pending: 0,
    });
  });
});
