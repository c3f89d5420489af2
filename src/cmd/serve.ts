// `portcullis serve`: the entry point where adapters meet (pino, the cluster client, signals,
// the environment via serveConfig). Everything else takes them as arguments.
import type { ClusterView } from '../cluster/view.js';
import { serveConfig, type ServeConfig } from '../config/serve.js';
import { EXIT_CLEAN, UsageError } from './exit.js';
import { shutdownSignal } from './shutdown-signal.js';

export interface ServeHooks {
  /** Replaces the in-cluster view (tests). */
  openClusterView?: (config: ServeConfig) => Promise<ClusterView>;
  /** Resolves to a signal name to shut down on; defaults to the first SIGTERM or SIGINT (or the parent's exit under npm). */
  shutdownSignal?: Promise<string>;
  /** Settings the command line does not expose (tests shorten the drain). */
  overrides?: Partial<ServeConfig>;
  /** Where the how-to-call hint goes; process.stderr by default. */
  stderr?: (text: string) => void;
}

function howToCall(port: number, certFile: string): string {
  const base = `https://localhost:${port}`;
  return [
    `portcullis: no --tls-cert given, so the webhook serves a self-signed certificate for localhost.`,
    `  Trust it with: --cacert ${certFile}`,
    `  Try:  curl --cacert ${certFile} -H 'Content-Type: application/json' --data @examples/admission/pod-hostport-kubelet.json ${base}/validate`,
    `  /mutate patches only what a policy's remediation block switches on (examples/admission/policies does).`,
    '',
  ].join('\n');
}

export async function runServe(opts: Record<string, unknown>, hooks: ServeHooks = {}): Promise<number> {
  const config = serveConfig(opts, process.env, hooks.overrides);
  const [{ createLogger }, { startServer }] = await Promise.all([import('../server/logger.js'), import('../server/server.js')]);
  // pino's default stdout destination (sonic-boom with sync: false, minLength 0): each line is
  // handed to an asynchronous write at once, never held back in a buffer. Gathering lines up
  // to 4 KiB per write (minLength 4096, periodicFlush 250 ms, flushed at exit) measured no
  // faster in bench:webhook (119-127 against 121-125 µs per request in interleaved 5 s runs),
  // so lines are not held back for nothing.
  const logger = createLogger(config.logLevel);
  // The parent is watched only under npm (ServeConfig.exitWhenOrphaned).
  const shutdown = hooks.shutdownSignal ?? shutdownSignal(config.exitWhenOrphaned);

  let view: ClusterView | null = null;
  if (hooks.openClusterView) {
    view = await hooks.openClusterView(config);
  } else if (config.inCluster) {
    const [{ connectClusterView }, { loadDefaultSpec }] = await Promise.all([import('../cluster/live-view.js'), import('../sources/policy-files.js')]);
    try {
      view = await connectClusterView({
        defaults: await loadDefaultSpec(),
        context: config.kubeContext ?? undefined,
        kubeconfigFile: config.kubeconfigFile ?? undefined,
        log: logger.child({ component: 'cluster' }),
        reservationTtlMs: config.reservationTtlMs,
      });
    } catch (err) {
      throw new UsageError(`cannot watch the cluster: ${(err as Error).message}`);
    }
  }

  let server;
  try {
    server = await startServer(config, { logger, view });
  } catch (err) {
    await view?.stop();
    throw err;
  }
  if (server.selfSigned) (hooks.stderr ?? ((t: string) => process.stderr.write(t)))(howToCall(server.webhookPort, server.selfSigned.certFile));

  const signal = await shutdown;
  logger.info({ signal }, 'shutting down');
  // Whatever hangs, the process is gone before the kubelet's SIGKILL.
  const hardStop = setTimeout(() => {
    logger.error({ gracePeriodMs: config.gracePeriodMs }, 'shutdown took longer than the grace period; exiting');
    process.exit(1);
  }, config.gracePeriodMs + 1000);
  hardStop.unref();
  // Ctrl-C in a terminal means now, and so does npm's SIGTERM (npm has already exited, and no
  // Service routes to a process npm runs); SIGTERM from the kubelet gets the whole drain.
  // Requests in flight are finished either way.
  await server.drain(signal === 'SIGINT' || signal === 'parent-exited' ? { drainDelayMs: 0 } : {});
  await server.close();
  await view?.stop();
  clearTimeout(hardStop);
  return EXIT_CLEAN;
}
