// `portcullis controller`: the background audit. Loads the fallback policies, connects to the
// cluster (in-cluster service account, or the kubeconfig and --context), starts the caches,
// the leader election and the ops server, and on SIGTERM/SIGINT stops writing, hands the
// Lease over and exits.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { startController } from '../controller/controller.js';
import { controllerConfig } from '../config/controller.js';
import { controllerReadiness, controllerRegistry } from '../controller/ops.js';
import { connectKube } from '../k8s/client.js';
import { formatPolicyError, loadDefaultSpec, loadPolicyPaths } from '../sources/policy-files.js';
import { createLogger } from '../server/logger.js';
import { startOpsServer } from '../server/ops-app.js';
import { EXIT_CLEAN, EXIT_USAGE } from './exit.js';
import { shutdownSignal } from './shutdown-signal.js';

export async function runController(opts: Record<string, unknown>): Promise<number> {
  const config = controllerConfig(opts);
  // The webhook's logger, so both processes write one shape (ISO time, level by name).
  const log = createLogger(config.logLevel);
  const defaults = await loadDefaultSpec();
  const loaded = await loadPolicyPaths(config.policyPaths, defaults);
  for (const w of loaded.warnings) log.warn({ policy: formatPolicyError(w) }, 'policy warning');
  if (loaded.errors.length > 0) {
    for (const e of loaded.errors) process.stderr.write(`${formatPolicyError(e)}\n`);
    return EXIT_USAGE;
  }
  let client;
  try {
    client = await connectKube({ context: config.kubeContext ?? undefined, kubeconfigFile: config.kubeconfigFile ?? undefined });
  } catch (err) {
    process.stderr.write(`portcullis: controller: cannot configure the Kubernetes client: ${(err as Error).message}\n`);
    return EXIT_USAGE;
  }
  const controller = startController({
    client,
    defaults,
    filePolicies: loaded.policies,
    flavor: config.flavor,
    leaseNamespace: config.leaseNamespace,
    leaseName: config.leaseName,
    // The pod name (hostname in a pod) says which replica leads; the suffix keeps a restarted
    // container from mistaking its predecessor's lease for its own.
    identity: `${hostname()}-${randomBytes(3).toString('hex')}`,
    leaseDurationMs: config.leaseDurationMs,
    renewDeadlineMs: config.renewDeadlineMs,
    retryPeriodMs: config.retryPeriodMs,
    debounceMs: config.debounceMs,
    writeQps: config.writeQps,
    writeBurst: config.writeBurst,
    tuning: { pageSize: config.pageSize },
    log,
  });
  const ops = await startOpsServer({
    port: config.metricsPort,
    host: '0.0.0.0',
    registry: controllerRegistry(controller),
    readiness: controllerReadiness(controller),
  }).catch(async (err) => {
    await controller.stop();
    throw err;
  });
  log.info({ server: client.server, metricsPort: ops.port, identity: controller.identity, policies: loaded.policies.map((p) => p.name) }, 'controller started');
  // The parent's exit counts too, so the Lease is handed over now rather than left to expire
  // (15 s without a leader).
  await shutdownSignal(true);
  log.info({}, 'shutting down: releasing the lease');
  await controller.stop();
  await ops.close();
  return EXIT_CLEAN;
}
