// A realistic ScanResult for the html writer, built by hand so the writer's tests do not
// depend on the engine: a shared cluster with three tenants, kube-system on hostNetwork, a
// few violations of every rule, and an object whose name tries HTML injection.
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { loadPolicy } from '../../src/engine/policy/load.js';
import type { CompiledPolicy, PortPolicySpec } from '../../src/engine/policy/model.js';
import type { Action, Finding, PortUse, ResourceRef, RuleId } from '../../src/engine/types.js';
import type { ScanResult } from '../../src/sinks/reports/scan-result.js';

export const INJECTION = `x"><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`;

const defaults = (load(readFileSync(new URL('../../policies/default.yaml', import.meta.url), 'utf8')) as { spec: PortPolicySpec }).spec;

export function fixturePolicy(name = 'shared-cluster'): CompiledPolicy {
  const r = loadPolicy(
    {
      apiVersion: 'portcullis.dev/v1alpha1',
      kind: 'PortPolicy',
      metadata: { name },
      spec: {
        rules: { 'hostport-not-allowed': 'warn', 'nodeport-not-allowed': 'audit' },
        tenants: [
          { name: 'team-a', namespaces: ['team-a', 'team-a-*'], nodePortRange: '31000-31099', allowedHostPorts: ['8080-8090'] },
          { name: 'team-b', namespaces: ['team-b'], nodePortRange: '31100-31199' },
          { name: 'team-c', namespaces: ['team-c'], allowNodePorts: false, allowedHostPorts: [] },
        ],
      },
    },
    defaults,
  );
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.policy;
}

const ref = (kind: string, namespace: string | null, name: string, apiVersion = kind === 'Service' || kind === 'Pod' ? 'v1' : 'apps/v1'): ResourceRef => ({
  apiVersion,
  kind,
  namespace,
  name,
});

const TENANT: Record<string, string> = { 'team-a': 'team-a', 'team-a-batch': 'team-a', 'team-b': 'team-b', 'team-c': 'team-c' };

export function fixture(policy = fixturePolicy()): ScanResult {
  let line = 1;
  const file = (ns: string | null) => `examples/${ns ?? 'cluster'}.yaml`;
  const uses: PortUse[] = [];
  const findings: Finding[] = [];
  const use = (type: PortUse['type'], port: number, resource: ResourceRef, path: string, protocol: PortUse['protocol'] = 'TCP') =>
    uses.push({ type, port, protocol, resource, path, source: { file: file(resource.namespace), line: line++ } });
  const find = (rule: RuleId, action: Action, resource: ResourceRef, path: string, value: number | null, message: string) =>
    findings.push({
      rule,
      status: 'fail',
      action,
      policy: policy.name,
      tenant: resource.namespace ? (TENANT[resource.namespace] ?? null) : null,
      resource,
      path,
      value,
      message,
      source: { file: file(resource.namespace), line: line++ },
      key: `${rule}:${resource.name}:${path}:${value}`,
    });

  const cilium = ref('DaemonSet', 'kube-system', 'cilium');
  for (const [i, p] of [4240, 4244, 9879, 9890].entries()) use('hostPort', p, cilium, `spec.template.spec.containers[0].ports[${i}].containerPort`);
  const op = ref('Deployment', 'kube-system', 'cilium-operator');
  use('hostPort', 9963, op, 'spec.template.spec.containers[0].ports[0].containerPort');
  use('hostPort', 9891, op, 'spec.template.spec.containers[0].ports[1].containerPort');
  const proxy = ref('DaemonSet', 'kube-system', 'kube-proxy');
  use('hostPort', 10249, proxy, 'spec.template.spec.containers[0].ports[0].containerPort');
  use('hostPort', 10256, proxy, 'spec.template.spec.containers[0].ports[1].containerPort');

  const web = ref('Deployment', 'team-a', 'web');
  use('hostPort', 8080, web, 'spec.template.spec.containers[0].ports[0].hostPort');
  const evil = ref('Pod', 'team-a', INJECTION);
  use('hostPort', 10250, evil, 'spec.containers[0].ports[0].hostPort');
  find(
    'hostport-reserved',
    'deny',
    evil,
    'spec.containers[0].ports[0].hostPort',
    10250,
    'hostPort 10250/TCP clashes with kubelet-api (kubelet); pick a port outside the reserved ports',
  );
  find(
    'hostport-not-allowed',
    'warn',
    evil,
    'spec.containers[0].ports[0].hostPort',
    10250,
    'hostPort 10250/TCP is outside the host ports tenant team-a may use (8080-8090)',
  );
  const batch = ref('Pod', 'team-a-batch', 'job-runner');
  use('hostPort', 9962, batch, 'spec.containers[0].ports[0].hostPort');
  find(
    'hostport-reserved',
    'deny',
    batch,
    'spec.containers[0].ports[0].hostPort',
    9962,
    'hostPort 9962/TCP clashes with cilium-agent-metrics (cilium-agent); pick a port outside the reserved ports',
  );
  find(
    'hostport-not-allowed',
    'warn',
    batch,
    'spec.containers[0].ports[0].hostPort',
    9962,
    'hostPort 9962/TCP is outside the host ports tenant team-a may use (8080-8090)',
  );

  const webSvc = ref('Service', 'team-a', 'web');
  use('nodePort', 31001, webSvc, 'spec.ports[0].nodePort');
  use('nodePort', 31002, webSvc, 'spec.ports[1].nodePort');
  const stray = ref('Service', 'team-a', 'stray');
  use('nodePort', 31150, stray, 'spec.ports[0].nodePort');
  find(
    'nodeport-range',
    'deny',
    stray,
    'spec.ports[0].nodePort',
    31150,
    "nodePort 31150 lies outside tenant team-a's slice 31000-31099; pick a port in 31000-31099 or leave nodePort unset",
  );

  const api = ref('Service', 'team-b', 'api');
  use('nodePort', 31100, api, 'spec.ports[0].nodePort');
  use('nodePort', 31101, api, 'spec.healthCheckNodePort');
  const agent = ref('DaemonSet', 'team-b', 'agent');
  use('hostPort', 31500, agent, 'spec.template.spec.containers[0].ports[0].hostPort', 'UDP');
  find(
    'hostport-reserved',
    'deny',
    agent,
    'spec.template.spec.containers[0].ports[0].hostPort',
    31500,
    'hostPort 31500/UDP clashes with nodeport-range (NodePort Services); pick a port outside the reserved ports',
  );

  const c = ref('Service', 'team-c', 'dashboard');
  use('nodePort', 30500, c, 'spec.ports[0].nodePort');
  find('nodeport-not-allowed', 'audit', c, 'spec.type', null, 'tenant team-c may not use NodePort Services; use a ClusterIP Service behind the ingress');

  const legacy = ref('Service', 'default', 'legacy');
  use('nodePort', 8443, legacy, 'spec.ports[0].nodePort');
  find(
    'nodeport-range',
    'deny',
    legacy,
    'spec.ports[0].nodePort',
    8443,
    'nodePort 8443 lies outside the NodePort range 30000-32767; pick a port in 30000-32767 or leave nodePort unset',
  );
  const other = ref('Service', 'default', 'shop');
  use('nodePort', 30080, other, 'spec.ports[0].nodePort');

  const np = ref('NetworkPolicy', 'team-b', 'allow-node-scrape', 'networking.k8s.io/v1');
  find(
    'netpol-sensitive-exposure',
    'deny',
    np,
    'spec.egress[0]',
    10250,
    'egress rule spec.egress[0] lets pods reach kubelet-api 10250/TCP on every node (ipBlock 10.0.0.0/8); narrow the ipBlock or drop the port',
  );
  const cnp = ref('CiliumNetworkPolicy', 'team-a', 'to-host', 'cilium.io/v2');
  for (const port of [10250, 10255]) {
    find(
      'netpol-sensitive-exposure',
      'deny',
      cnp,
      'specs[0].egress[1]',
      port,
      `egress rule specs[0].egress[1] lets pods reach ${port === 10250 ? 'kubelet-api' : 'kubelet-read-only'} ${port}/TCP on every node (toEntities host)`,
    );
  }

  findings.sort((a, b) => a.source!.file.localeCompare(b.source!.file) || a.source!.line - b.source!.line || a.path.localeCompare(b.path));
  const namespaces = ['default', 'kube-system', 'team-a', 'team-a-batch', 'team-b', 'team-c'].map((name) => ({
    name,
    tenants: { [policy.name]: TENANT[name] ?? null },
  }));
  const count = (a: Action) => findings.filter((f) => f.action === a).length;
  return {
    policies: [policy],
    findings,
    errors: [{ file: 'examples/broken.yaml', line: 3, message: 'invalid YAML: bad indentation of a mapping entry' }],
    summary: {
      resources: 17,
      skipped: 2,
      skippedKinds: { 'v1/ConfigMap': 2 },
      errors: 1,
      findings: { deny: count('deny'), warn: count('warn'), audit: count('audit') },
    },
    portUses: uses,
    namespaces,
    exposures: [
      {
        resource: np,
        path: 'spec.egress[0]',
        rule: { to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.96.0.0/12'] } }], ports: [{ protocol: 'TCP', port: 10250 }] },
      },
      {
        resource: cnp,
        path: 'specs[0].egress[1]',
        rule: { toEntities: ['host'], toPorts: [{ ports: [{ port: '10250', endPort: 10255, protocol: 'TCP' }] }] },
      },
    ],
    generatedAt: new Date('2026-11-25T18:00:00Z'),
  };
}
