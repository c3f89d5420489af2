// The benchmark's controller process: the real controller with its shipped defaults, timed
// from before it connects to the moment its first complete report set is written. Prints one
// JSON line with the time, the peak RSS and what it wrote, then stops.
import { readFile } from 'node:fs/promises';
import { startController } from '../src/controller/controller.js';
import { CONTROLLER_DEFAULTS } from '../src/config/controller.js';
import { connectKube } from '../src/k8s/client.js';
import { loadDefaultSpec, loadPolicyPaths } from '../src/sources/policy-files.js';

const started = performance.now();
const [kubeconfigFile, policyFile] = process.argv.slice(2);
const defaults = await loadDefaultSpec(policyFile);
const { policies } = await loadPolicyPaths([policyFile], defaults);
const client = await connectKube({ kubeconfig: await readFile(kubeconfigFile, 'utf8') });
let peakRss = 0;
let atPeak: NodeJS.MemoryUsage | null = null;
let peakAt = 0;
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  if (m.rss > peakRss) {
    peakRss = m.rss;
    atPeak = m;
    peakAt = (performance.now() - started) / 1000;
  }
}, 50);
const c = startController({
  client,
  defaults,
  filePolicies: policies,
  leaseNamespace: 'portcullis-system',
  identity: 'bench',
  leaseDurationMs: CONTROLLER_DEFAULTS.leaseDurationMs,
  renewDeadlineMs: CONTROLLER_DEFAULTS.renewDeadlineMs,
  retryPeriodMs: CONTROLLER_DEFAULTS.retryPeriodMs,
  debounceMs: CONTROLLER_DEFAULTS.debounceMs,
  writeQps: CONTROLLER_DEFAULTS.writeQps,
  writeBurst: CONTROLLER_DEFAULTS.writeBurst,
  tuning: { pageSize: CONTROLLER_DEFAULTS.pageSize },
});
let syncedAt = 0;
void Promise.all(c.informers().map((i) => i.whenSynced())).then(() => (syncedAt = performance.now()));
await c.firstReportSet;
const firstReportSet = performance.now();
clearInterval(sampler);
(globalThis as { gc?: () => void }).gc?.();
const retainedHeap = process.memoryUsage().heapUsed;
const cached = Object.fromEntries(c.informers().map((i) => [i.type.resource, i.size]));
const findings = Object.fromEntries(c.stats.findings);
// maxRSS is the kernel's peak for this process (KiB), which the sampler could miss between ticks.
const maxRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
process.stdout.write(
  JSON.stringify({
    syncSeconds: (syncedAt - started) / 1000,
    firstReportSetSeconds: (firstReportSet - started) / 1000,
    peakRssBytes: maxRss,
    heapUsedBytes: retainedHeap,
    atPeak,
    peakAtSeconds: peakAt,
    reportsWritten: c.stats.writes.create.ok + c.stats.writes.update.ok,
    scopes: c.stats.scopesAudited,
    cached,
    findings,
  }) + '\n',
);
await c.stop();
process.exit(0);
