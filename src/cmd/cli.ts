#!/usr/bin/env node
// portcullis command line: parses arguments and hands each command to its module, loaded
// lazily so `--help` and `scan` never pay for express or the Kubernetes client.
import './node-version.js';
import { Argument, Command, CommanderError, Option } from 'commander';
import { BUILD_INFO } from '../build-info.js';
import { EXIT_USAGE, UsageError } from './exit.js';
import { versionLine } from './version.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

// The report formats by name, for --help and shell completion; scan checks each --format
// against the writers themselves (sinks/reports/index.ts), which are not loaded here.
const FORMAT_CHOICES = ['table', 'json', 'sarif', 'junit', 'policyreport', 'openreports', 'html'];

// --format and -o/--output-format take the same values: a format, or format=file. The
// choices are shown in --help and completed by the shell; the parser only collects, so a value
// like sarif=out.sarif passes commander and scan says what is wrong with a bad one.
const formatOption = (flags: string, description: string) => new Option(flags, description).choices(FORMAT_CHOICES).argParser(collect);

const program = new Command('portcullis')
  .description("Keeps a Kubernetes cluster's port space clean: NodePorts, hostPorts and network policies that expose the kubelet.")
  .version(versionLine(BUILD_INFO), '-V, --version', 'print the version and exit')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

program
  .command('scan')
  .description('Check manifests (or a live cluster) against port policies and write a report.')
  .argument('[paths...]', 'files or directories (.yaml, .yml, .json), or - for stdin')
  .option('--policy <file|dir>', 'PortPolicy file or directory (repeatable); replaces the shipped default', collect, [])
  .addOption(formatOption('--format <format>', 'report format, or format=file to write it to a file (repeatable: one report per format)').default([], 'table'))
  .addOption(formatOption('-o, --output-format <format>', 'the same as --format'))
  .option('--output <file>', 'write the report (the one format without =file) to a file instead of stdout')
  .addOption(
    new Option('--fail-on <action>', 'exit 1 when a finding at or above this action is found').choices(['deny', 'warn', 'audit', 'never']).default('deny'),
  )
  .option('--default-namespace <ns>', 'namespace of objects that name none', 'default')
  .option('--stdin-filename <path>', 'the file name reports give what - reads (default <stdin>)')
  .option('--cluster', 'scan the live cluster of the current kubeconfig context (read-only)')
  .option('--kubeconfig <file>', 'with --cluster: this kubeconfig file instead of $KUBECONFIG or ~/.kube/config')
  .option('--context <name>', 'kubeconfig context for --cluster')
  .option('-n, --namespace <ns>', 'with --cluster: scan only this namespace')
  .option('-A, --all-namespaces', 'with --cluster: scan every namespace')
  .option('--color', 'colour in the table format even when stdout is not a terminal')
  .option('--no-color', 'no colour in the table format (also NO_COLOR=1)')
  .action(async (paths: string[], opts) => {
    const { runScan } = await import('./scan.js');
    process.exitCode = await runScan(paths, opts);
  });

program
  .command('serve')
  .description('Run the admission webhook (HTTPS) and its health/metrics endpoints (HTTP).')
  .option('--port <port>', 'HTTPS port for /validate and /mutate', '8443')
  .option('--tls-cert <file>', 'serving certificate (PEM); re-read when it changes')
  .option('--tls-key <file>', 'serving key (PEM); re-read when it changes')
  .option('--policy <file|dir>', 'PortPolicy file or directory (repeatable); re-read when it changes', collect, [])
  .option('--metrics-port <port>', 'HTTP port for /healthz, /readyz and /metrics', '8080')
  .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error']).default('info'))
  .option('--in-cluster', 'watch PortPolicies, Namespaces, Nodes and Services in the cluster (default when running in a pod)')
  .option('--kubeconfig <file>', 'kubeconfig file when watching a cluster from outside (instead of $KUBECONFIG or ~/.kube/config)')
  .option('--context <name>', 'kubeconfig context when watching a cluster from outside')
  .option('--drain-delay <seconds>', 'after SIGTERM, keep serving this long with /readyz false (default 2)')
  .option('--grace-period <seconds>', 'after SIGTERM, cut whatever is still open after this long (default 25)')
  .action(async (opts) => {
    const { runServe } = await import('./serve.js');
    process.exitCode = await runServe(opts);
  });

program
  .command('controller')
  .description('Run the background audit that keeps PolicyReports in the cluster current.')
  .option('--policy <file|dir>', 'PortPolicy file or directory used while no PortPolicy object exists', collect, [])
  .option('--metrics-port <port>', 'HTTP port for /healthz, /readyz and /metrics', '8080')
  .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error']).default('info'))
  .option('--kubeconfig <file>', 'kubeconfig file when running outside the cluster (instead of $KUBECONFIG or ~/.kube/config)')
  .option('--context <name>', 'kubeconfig context when running outside the cluster')
  .option('--lease-namespace <ns>', 'namespace of the leader-election Lease', 'portcullis-system')
  .addOption(new Option('--report-format <format>', 'report resources to write').choices(['policyreport', 'openreports']).default('policyreport'))
  .action(async (opts) => {
    const { runController } = await import('./controller.js');
    process.exitCode = await runController(opts);
  });

program
  .command('export')
  .description('Export the active policies to another enforcement point.')
  .addArgument(new Argument('<target>', 'vap: ValidatingAdmissionPolicies and bindings (docs/vap.md)').choices(['vap']))
  .option('--policy <file|dir>', 'PortPolicy file or directory (repeatable); replaces the shipped default', collect, [])
  .option('--output <file>', 'write the YAML stream to a file instead of stdout')
  .option('--no-namespace-selector', "leave out the webhooks' namespace exclusions (for an overlay that adds them)")
  .action(async (_target: 'vap', opts) => {
    const { runExportVap } = await import('./export.js');
    process.exitCode = await runExportVap(opts);
  });

program
  .command('version')
  .description('Print the version, the git commit it was built from and the Node version.')
  .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
  .action(async (opts: { output: 'text' | 'json' }) => {
    const { versionText } = await import('./version.js');
    process.stdout.write(versionText(BUILD_INFO, opts.output));
  });

program
  .command('completion')
  .description('Print a shell completion script (bash: source <(portcullis completion bash)).')
  .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish']))
  .action(async (shell: 'bash' | 'zsh' | 'fish') => {
    const { completionScript } = await import('./completion.js');
    process.stdout.write(completionScript(program, shell));
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander has already printed the message; --help and --version exit 0.
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
  } else if (err instanceof UsageError) {
    process.stderr.write(`portcullis: ${err.message}\n`);
    process.exitCode = EXIT_USAGE;
  } else {
    // A programmer error: keep the stack, it is a bug report.
    process.stderr.write(`portcullis: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 70;
  }
}
