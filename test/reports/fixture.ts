// One fixed scan result that every writer's golden file is rendered from: findings of each
// action, a rule error, two findings of one network-policy rule, a cluster-scoped object,
// a finding without a source file, a pass-only resource, an exemption and input errors.
import { loadPolicy } from '../../src/engine/policy/load.js';
import type { CompiledPolicy } from '../../src/engine/policy/model.js';
import type { Evaluation, Finding, ResourceRef, RuleId, RuleOutcome } from '../../src/engine/types.js';
import { RULE_CATALOG } from '../../src/engine/rules/index.js';
import type { RuleInfo, ToolInfo } from '../../src/sinks/reports/sarif.js';
import type { ScanResult, WriterOptions } from '../../src/sinks/reports/scan-result.js';

function policy(name: string): CompiledPolicy {
  const loaded = loadPolicy({
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'PortPolicy',
    metadata: { name },
    spec: {
      nodePortRange: '30000-32767',
      reservedPorts: [{ name: 'kubelet-api', ports: '10250', protocol: 'TCP', component: 'kubelet' }],
      sensitivePorts: [
        { name: 'kubelet-api', ports: '10250', protocol: 'TCP' },
        { name: 'kubelet-read-only', ports: '10255', protocol: 'TCP' },
      ],
      rules: {},
      tenants: [{ name: 'team-a', namespaces: ['team-a'], nodePortRange: '31000-31099' }],
    },
  });
  if (!loaded.ok) throw new Error(`fixture policy ${name}: ${JSON.stringify(loaded.problems)}`);
  return loaded.policy;
}

const ref = (apiVersion: string, kind: string, namespace: string | null, name: string): ResourceRef => ({ apiVersion, kind, namespace, name });

const WEB = ref('v1', 'Service', 'team-a', 'web');
const API = ref('v1', 'Service', 'team-a', 'api');
const AGENT = ref('apps/v1', 'Deployment', 'team-a', 'node-agent');
const EGRESS = ref('networking.k8s.io/v1', 'NetworkPolicy', 'team-b', 'allow-egress');
const CCNP = ref('cilium.io/v2', 'CiliumClusterwideNetworkPolicy', null, 'open-kubelet');
const LB = ref('v1', 'Service', 'team-b', 'lb');
const DEBUG = ref('v1', 'Pod', 'default', 'debug');
const PROXY = ref('apps/v1', 'DaemonSet', 'kube-system', 'kube-proxy');

type F = Omit<Finding, 'status' | 'key'> & { status?: Finding['status']; key?: string };
const finding = (f: F): Finding => ({ status: 'fail', key: `${f.rule}|${f.path}|${f.value}`, ...f });

const hostPath = 'spec.template.spec.containers[0].ports[0].hostPort';

const UNSORTED: Finding[] = [
  finding({
    rule: 'netpol-sensitive-exposure',
    action: 'warn',
    policy: 'strict',
    tenant: null,
    resource: CCNP,
    path: 'specs[0].egress[0]',
    value: 10250,
    message: 'egress rule opens kubelet-api 10250/TCP to every node (entity remote-node); allow only the nodes that need it',
    source: { file: 'examples/cluster/ccnp.yaml', line: 3 },
  }),
  finding({
    rule: 'netpol-sensitive-exposure',
    action: 'audit',
    policy: 'default',
    tenant: null,
    resource: EGRESS,
    path: 'spec.egress[0]',
    value: 10250,
    message: 'egress rule opens kubelet-api 10250/TCP to 10.0.0.0/8, which holds node addresses; narrow the ipBlock or except the node CIDRs',
    source: { file: 'examples/team-b/netpol.yaml', line: 1 },
  }),
  finding({
    rule: 'netpol-sensitive-exposure',
    action: 'audit',
    policy: 'default',
    tenant: null,
    resource: EGRESS,
    path: 'spec.egress[0]',
    value: 10255,
    message: 'egress rule opens kubelet-read-only 10255/TCP to 10.0.0.0/8, which holds node addresses; narrow the ipBlock or except the node CIDRs',
    source: { file: 'examples/team-b/netpol.yaml', line: 1 },
  }),
  finding({
    rule: 'nodeport-not-allowed',
    status: 'error',
    action: 'deny',
    policy: 'default',
    tenant: null,
    resource: LB,
    path: 'metadata.namespace',
    value: null,
    message: 'labels of namespace team-b are unknown, and tenants are chosen by label',
    source: { file: 'examples/team-b/service.yaml', line: 12 },
  }),
  finding({
    rule: 'nodeport-range',
    action: 'deny',
    policy: 'default',
    tenant: 'team-a',
    resource: WEB,
    path: 'spec.ports[0].nodePort',
    value: 30500,
    message: "nodePort 30500 (port http) lies outside tenant team-a's NodePort slice 31000-31099; pick one in 31000-31099",
    source: { file: 'examples/team-a/web.yaml', line: 1 },
  }),
  finding({
    rule: 'hostport-not-allowed',
    action: 'warn',
    policy: 'default',
    tenant: 'team-a',
    resource: AGENT,
    path: hostPath,
    value: 10250,
    message: 'hostPort 10250/TCP is not among the host ports tenant team-a may use (none)',
    source: { file: 'examples/team-a/web.yaml', line: 20 },
  }),
  finding({
    rule: 'hostport-reserved',
    action: 'deny',
    policy: 'default',
    tenant: 'team-a',
    resource: AGENT,
    path: hostPath,
    value: 10250,
    message: 'hostPort 10250/TCP clashes with kubelet-api (kubelet); pick a port outside the reserved ports',
    source: { file: 'examples/team-a/web.yaml', line: 20 },
  }),
  finding({
    rule: 'hostport-reserved',
    action: 'audit',
    policy: 'default',
    tenant: null,
    resource: DEBUG,
    path: 'spec.containers[0].ports[0].hostPort',
    value: 10255,
    message: 'hostPort 10255/TCP clashes with kubelet-read-only (kubelet); pick a port outside the reserved ports',
    source: null,
  }),
];

const order = (f: Finding) => [f.source?.file ?? '\uffff', String(f.source?.line ?? 0).padStart(9, '0'), f.path, f.rule].join('\u0000');

/** Sorted by file, line and path, as the scan hands them over. */
export const FINDINGS: Finding[] = UNSORTED.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));

const pass = (policy: string, rule: RuleId, tenant: string | null = null): RuleOutcome => ({ policy, rule, status: 'pass', tenant });

function evaluation(resource: ResourceRef, outcomes: RuleOutcome[]): Evaluation {
  const findings = FINDINGS.filter((f) => f.resource === resource);
  return { resource, source: findings[0]?.source ?? null, findings, outcomes };
}

export const EVALUATIONS: Evaluation[] = [
  evaluation(CCNP, [pass('default', 'netpol-sensitive-exposure')]),
  evaluation(EGRESS, [pass('strict', 'netpol-sensitive-exposure')]),
  evaluation(LB, [pass('default', 'nodeport-range'), pass('strict', 'nodeport-range'), pass('strict', 'nodeport-not-allowed')]),
  evaluation(WEB, [pass('default', 'nodeport-not-allowed', 'team-a')]),
  {
    resource: API,
    source: { file: 'examples/team-a/web.yaml', line: 40 },
    findings: [],
    outcomes: [pass('default', 'nodeport-range', 'team-a'), pass('default', 'nodeport-not-allowed', 'team-a')],
  },
  evaluation(AGENT, []),
  {
    resource: PROXY,
    source: { file: 'examples/kube-system/kube-proxy.yaml', line: 1 },
    findings: [],
    outcomes: [
      { policy: 'default', rule: 'hostport-reserved', status: 'skip', tenant: null, reason: 'system components own these ports' },
      pass('default', 'hostport-not-allowed'),
    ],
  },
  evaluation(DEBUG, []),
];

export function fixtureScan(): ScanResult {
  return {
    policies: [policy('default'), policy('strict')],
    findings: FINDINGS,
    errors: [
      { file: 'examples/broken.yaml', line: 7, message: 'invalid YAML: unexpected "<" & missing ":" after key' },
      { file: 'examples/nameless.yaml', line: 1, message: 'v1 Service has neither metadata.name nor metadata.generateName' },
    ],
    summary: {
      resources: EVALUATIONS.length,
      skipped: 2,
      skippedKinds: { '(not a Kubernetes object)': 1, 'v1/ConfigMap': 1 },
      errors: 2,
      findings: { deny: 3, warn: 2, audit: 3 },
    },
    evaluations: EVALUATIONS,
    generatedAt: new Date('2026-11-25T17:45:00.123Z'),
  };
}

/** What the scan command passes a writer: the rule registry. */
export const WRITER_OPTIONS: WriterOptions = { rules: RULE_CATALOG };

/** A fixed tool version, so the SARIF golden does not change with package.json. */
export const FIXTURE_TOOL: ToolInfo = { version: '1.2.3', informationUri: 'https://portcullis.dev/' };

const DOCS = 'https://portcullis.dev/docs/rules.md';

/** Fixed rule metadata for the SARIF golden, so a help-text edit in the registry does not churn it. */
export const FIXTURE_RULES: RuleInfo[] = [
  {
    id: 'nodeport-range',
    title: 'Node port outside the NodePort range',
    defaultAction: 'deny',
    help: 'A node port must lie in the NodePort range.\n\nPick one inside it.',
    docsUrl: `${DOCS}#nodeport-range`,
  },
  {
    id: 'nodeport-not-allowed',
    title: 'Node ports in a tenant without them',
    defaultAction: 'deny',
    help: 'This tenant may not use node ports.',
    docsUrl: `${DOCS}#nodeport-not-allowed`,
  },
  {
    id: 'hostport-reserved',
    title: 'Host port on a reserved port',
    defaultAction: 'deny',
    help: 'A hostPort on a reserved port captures its traffic.',
    docsUrl: `${DOCS}#hostport-reserved`,
  },
  {
    id: 'hostport-not-allowed',
    title: "Host port outside the tenant's allowed ports",
    defaultAction: 'deny',
    help: 'The tenant may use only its allowed host ports.',
    docsUrl: `${DOCS}#hostport-not-allowed`,
  },
  {
    id: 'netpol-sensitive-exposure',
    title: 'Network policy opens a sensitive node port broadly',
    defaultAction: 'warn',
    help: 'Egress to the kubelet on every node lets pods attack it.',
    docsUrl: `${DOCS}#netpol-sensitive-exposure`,
  },
];
