// The kustomize components: what each adds, rendered on top of every mode, and the properties
// that keep the cluster safe with it (no mutating webhook without remediation, the webhook's
// priority and its quota, drains that never stall, one definition of the namespace exclusions,
// the guard of the opt-out label evaluated as the API server would, the NetworkPolicy, and
// monitoring that names only metrics the code exports).
import { isCelError, run, type CelInput } from '@bufbuild/cel';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { SERVE_DEFAULTS } from '../../src/config/serve.js';
import { CONTROLLER_DEFAULTS } from '../../src/config/controller.js';
import { COMPONENTS, find, kustomize, kustomizeWith, one, REPO_ROOT, type K8sObject } from './kustomize.js';

type Obj = Record<string, any>;

const OWN_NAMESPACE = 'portcullis-system';
const OPT_OUT_LABEL = 'portcullis.dev/ignore';
const MODES = ['audit', 'enforce', 'remediate'] as const;
// The directories that render the validating webhooks: each must carry the guard of the opt-out label.
const WITH_WEBHOOKS = [
  'manifests/base',
  'manifests/base/webhooks',
  ...MODES.map((m) => `manifests/overlays/${m}`),
  'manifests/overlays/audit/webhooks',
  'manifests/overlays/enforce/webhooks',
];

const renders = new Map<string, K8sObject[]>();
beforeAll(async () => {
  for (const dir of WITH_WEBHOOKS) renders.set(dir, await kustomize(dir));
  for (const mode of MODES)
    renders.set(
      `${mode}+all`,
      await kustomizeWith(
        `manifests/overlays/${mode}`,
        COMPONENTS.map((c) => `manifests/components/${c}`),
      ),
    );
});
const objectsOf = (key: string) => renders.get(key)!;
const ALL = () => MODES.map((m) => ({ mode: m, objects: objectsOf(`${m}+all`) }));

const podTemplate = (objects: K8sObject[], component: string) =>
  (find(objects, 'Deployment').find((d) => d.metadata.labels?.['app.kubernetes.io/component'] === component)!.spec as Obj).template as Obj;

const parameters = () => (parse(readFileSync(path.join(REPO_ROOT, 'manifests/parameters/parameters.yaml'), 'utf8')) as Obj).data as Record<string, string>;

describe('the component directories', () => {
  it('each is either an optional component or one the overlays include', () => {
    const used = ['namespace-exclusions', 'ignore-label-guard', 'remediation'];
    expect(readdirSync(path.join(REPO_ROOT, 'manifests/components')).sort()).toEqual([...COMPONENTS, ...used].sort());
  });
});

describe('mutating webhooks only with remediation', () => {
  it.each(MODES)('%s with every optional component: a MutatingWebhookConfiguration exactly when the policy switches a remediation on', (mode) => {
    const objects = objectsOf(`${mode}+all`);
    const policy = parse((one(objects, 'ConfigMap', 'portcullis-policy').data as Record<string, string>)['policy.yaml']) as Obj;
    const switchedOn = Object.values(policy.spec.remediation ?? {}).some((v) => v === true);
    expect({ mode, mutating: find(objects, 'MutatingWebhookConfiguration').length > 0 }).toEqual({ mode, mutating: switchedOn });
    expect(switchedOn).toBe(mode === 'remediate');
  });
});

describe('priority and quota', () => {
  it.each(MODES)('%s: the webhook runs at system-cluster-critical, the background controller at the default', (mode) => {
    const objects = objectsOf(`${mode}+all`);
    expect(podTemplate(objects, 'webhook').spec.priorityClassName).toBe('system-cluster-critical');
    expect(podTemplate(objects, 'controller').spec.priorityClassName).toBeUndefined();
  });

  it.each(MODES)('%s + priority-quota: a quota for that class in portcullis-system, with room for every replica and the surge pod', (mode) => {
    const objects = objectsOf(`${mode}+all`);
    const webhook = find(objects, 'Deployment', 'portcullis-webhook')[0].spec as Obj;
    const quota = one(objects, 'ResourceQuota');
    expect(quota.metadata.namespace).toBe(OWN_NAMESPACE);
    const spec = quota.spec as Obj;
    expect(spec.scopeSelector.matchExpressions).toEqual([{ scopeName: 'PriorityClass', operator: 'In', values: [webhook.template.spec.priorityClassName] }]);
    expect(Number(spec.hard.pods)).toBeGreaterThanOrEqual(webhook.replicas + webhook.strategy.rollingUpdate.maxSurge);
  });
});

describe('PodDisruptionBudgets', () => {
  it.each(MODES)('%s: every budget lets an unhealthy pod be evicted, so a broken budget never stalls a drain', (mode) => {
    const pdbs = find(objectsOf(`${mode}+all`), 'PodDisruptionBudget');
    expect(pdbs.length).toBe(2);
    for (const p of pdbs)
      expect({ pdb: p.metadata.name, policy: (p.spec as Obj).unhealthyPodEvictionPolicy }).toEqual({ pdb: p.metadata.name, policy: 'AlwaysAllow' });
  });
});

describe('namespace exclusions, defined once', () => {
  /** Every YAML line under manifests/ that is not a comment, by file. */
  const sourceLines = () => {
    const out: { file: string; line: string }[] = [];
    for (const e of readdirSync(path.join(REPO_ROOT, 'manifests'), { recursive: true, withFileTypes: true })) {
      if (!e.isFile() || !/\.ya?ml$/.test(e.name)) continue;
      const file = path.relative(REPO_ROOT, path.join(e.parentPath, e.name));
      for (const line of readFileSync(path.join(REPO_ROOT, file), 'utf8').split('\n')) if (!line.trim().startsWith('#')) out.push({ file, line });
    }
    return out;
  };

  it('the excluded namespaces and the opt-out label are written in one file, once', () => {
    const files = (needle: string) => sourceLines().filter((l) => l.line.includes(needle));
    expect(files('kube-node-lease')).toEqual([
      { file: 'manifests/components/namespace-exclusions/exclusions.yaml', line: expect.stringContaining('kube-node-lease') },
    ]);
    expect(files(`key: ${OPT_OUT_LABEL}`)).toEqual([
      { file: 'manifests/components/namespace-exclusions/exclusions.yaml', line: expect.stringContaining(OPT_OUT_LABEL) },
    ]);
  });

  it.each(ALL().flatMap(({ mode }) => [{ mode }]))('$mode with every component: every webhook entry carries exactly that selector', ({ mode }) => {
    const defined = (parse(readFileSync(path.join(REPO_ROOT, 'manifests/components/namespace-exclusions/exclusions.yaml'), 'utf8')) as Obj).namespaceSelector;
    const entries = ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']
      .flatMap((k) => find(objectsOf(`${mode}+all`), k))
      .flatMap((c) => c.webhooks as Obj[]);
    expect(entries.length).toBeGreaterThan(0);
    for (const w of entries) expect({ webhook: w.name, selector: w.namespaceSelector }).toEqual({ webhook: w.name, selector: defined });
  });
});

describe(`the guard of ${OPT_OUT_LABEL}`, () => {
  it.each(WITH_WEBHOOKS)('%s: a ValidatingAdmissionPolicy on Namespace CREATE and UPDATE with its binding, neither with a namespaceSelector', (dir) => {
    const objects = objectsOf(dir);
    const policy = one(objects, 'ValidatingAdmissionPolicy', 'portcullis-ignore-label');
    const spec = policy.spec as Obj;
    expect(spec.failurePolicy).toBe('Fail');
    expect(spec.matchConstraints.resourceRules).toEqual([
      { apiGroups: [''], apiVersions: ['v1'], resources: ['namespaces'], operations: ['CREATE', 'UPDATE'] },
    ]);
    expect(spec.matchConstraints.namespaceSelector).toBeUndefined();
    expect(spec.matchConstraints.objectSelector).toBeUndefined();
    const binding = one(objects, 'ValidatingAdmissionPolicyBinding');
    expect(binding.spec).toEqual({ policyName: policy.metadata.name, validationActions: ['Deny'] });
    // The admin's list from manifests/parameters, as a CEL list.
    expect((spec.variables as Obj[]).find((v) => v.name === 'allowed')!.expression).toBe(parameters().ignoreLabelNamespaces);
  });

  /** JSON → CEL values as the API server hands them over. */
  const toCel = (v: unknown): CelInput => {
    if (Array.isArray(v)) return v.map(toCel);
    if (v !== null && typeof v === 'object') return new Map(Object.entries(v).map(([k, x]) => [k, toCel(x)]));
    if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
    return v as CelInput;
  };

  /** The policy's verdict on a Namespace write: its variables in order, then every validation. */
  function admit(policy: Obj, operation: 'CREATE' | 'UPDATE', object: Obj, oldObject: Obj | null): { allowed: boolean; message?: string } {
    const base = {
      object: toCel(object),
      oldObject: oldObject === null ? null : toCel(oldObject),
      request: toCel({ operation, userInfo: { username: 'tenant' } }),
    };
    const variables = new Map<string, CelInput>();
    const evaluate = (expression: string) => {
      const out = run(expression, { ...base, variables: variables as unknown as CelInput });
      if (isCelError(out)) throw new Error(`${expression}: ${out.message}`);
      return out;
    };
    for (const v of policy.spec.variables as Obj[]) variables.set(v.name, evaluate(v.expression));
    for (const v of policy.spec.validations as Obj[]) {
      if (evaluate(v.expression) !== true) return { allowed: false, message: String(evaluate(v.messageExpression)) };
    }
    return { allowed: true };
  }

  const ns = (name: string, labels?: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(labels ? { labels } : {}) } });
  const ignored = { [OPT_OUT_LABEL]: 'true' };
  const listed = () => (JSON.parse(parameters().ignoreLabelNamespaces) as string[])[0];
  const CASES: { name: string; operation: 'CREATE' | 'UPDATE'; object: () => Obj; old: () => Obj | null; allowed: boolean }[] = [
    { name: 'a tenant creates a namespace with the label', operation: 'CREATE', object: () => ns('team-a', ignored), old: () => null, allowed: false },
    {
      name: 'a tenant adds the label to an existing namespace',
      operation: 'UPDATE',
      object: () => ns('team-a', { team: 'a', ...ignored }),
      old: () => ns('team-a', { team: 'a' }),
      allowed: false,
    },
    {
      name: 'a tenant adds it to a namespace that had no labels at all',
      operation: 'UPDATE',
      object: () => ns('team-a', ignored),
      old: () => ns('team-a'),
      allowed: false,
    },
    {
      name: 'the label with any value, even "false"',
      operation: 'CREATE',
      object: () => ns('team-a', { [OPT_OUT_LABEL]: 'false' }),
      old: () => null,
      allowed: false,
    },
    { name: 'the admin labels a listed namespace', operation: 'UPDATE', object: () => ns(listed(), ignored), old: () => ns(listed()), allowed: true },
    { name: 'a listed namespace is created with the label', operation: 'CREATE', object: () => ns(listed(), ignored), old: () => null, allowed: true },
    {
      name: 'a namespace that already has the label is updated',
      operation: 'UPDATE',
      object: () => ns('legacy', { ...ignored, x: 'y' }),
      old: () => ns('legacy', ignored),
      allowed: true,
    },
    { name: 'the label is removed', operation: 'UPDATE', object: () => ns('team-a', {}), old: () => ns('team-a', ignored), allowed: true },
    { name: 'a namespace without labels is created', operation: 'CREATE', object: () => ns('team-b'), old: () => null, allowed: true },
    { name: 'another label is added', operation: 'UPDATE', object: () => ns('team-b', { team: 'b' }), old: () => ns('team-b'), allowed: true },
  ];

  it.each(CASES)('CEL, as rendered: $name → allowed $allowed', ({ operation, object, old, allowed }) => {
    const policy = one(objectsOf('manifests/overlays/enforce'), 'ValidatingAdmissionPolicy') as Obj;
    const verdict = admit(policy, operation, object(), old());
    expect(verdict.allowed).toBe(allowed);
    if (!allowed)
      expect(verdict.message).toBe(
        `namespace ${object().metadata.name} may not carry the label ${OPT_OUT_LABEL}, which switches portcullis off for it; only the namespaces the cluster admin lists in the portcullis install may`,
      );
  });

  it('the parameter is a JSON list of namespace names (the usual CNI and load-balancer namespaces as the example)', () => {
    const names = JSON.parse(parameters().ignoreLabelNamespaces) as unknown;
    expect(Array.isArray(names)).toBe(true);
    for (const n of names as unknown[]) expect(n).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(names).toEqual(expect.arrayContaining(['calico-system', 'tigera-operator', 'cilium', 'kube-flannel']));
  });
});

describe('components/network-policy', () => {
  it.each(MODES)('%s: ingress only, selecting both processes; the webhook port from anywhere, the metrics port from the monitoring namespaces only', (mode) => {
    const objects = objectsOf(`${mode}+all`);
    const np = one(objects, 'NetworkPolicy', 'portcullis');
    const spec = np.spec as Obj;
    expect(np.metadata.namespace).toBe(OWN_NAMESPACE);
    expect(spec.policyTypes).toEqual(['Ingress']);
    expect(spec.egress).toBeUndefined();
    for (const component of ['webhook', 'controller']) {
      const labels = podTemplate(objects, component).metadata.labels as Record<string, string>;
      expect(Object.entries(spec.podSelector.matchLabels as Record<string, string>).every(([k, v]) => labels[k] === v)).toBe(true);
    }
    const webhookArgs = podTemplate(objects, 'webhook').spec.containers[0].args as string[];
    const arg = (args: string[], name: string) => args.find((a) => a.startsWith(`${name}=`))?.split('=')[1];
    const httpsPort = Number(arg(webhookArgs, '--port') ?? SERVE_DEFAULTS.port);
    const metricsPorts = new Set([
      Number(arg(webhookArgs, '--metrics-port') ?? SERVE_DEFAULTS.metricsPort),
      Number(arg(podTemplate(objects, 'controller').spec.containers[0].args, '--metrics-port') ?? CONTROLLER_DEFAULTS.metricsPort),
    ]);
    expect(metricsPorts.size).toBe(1);
    const p = parameters();
    expect(spec.ingress).toEqual([
      { ports: [{ port: httpsPort, protocol: 'TCP' }] },
      {
        ports: [{ port: [...metricsPorts][0], protocol: 'TCP' }],
        from: [
          { namespaceSelector: { matchExpressions: [{ key: p.monitoringNamespaceLabelKey, operator: 'In', values: [p.monitoringNamespaceLabelValue] }] } },
        ],
      },
    ]);
  });
});

describe('monitoring components', () => {
  it.each(MODES)('%s + monitoring: a metrics Service per process on its metrics port, both selected by the ServiceMonitor', (mode) => {
    const objects = objectsOf(`${mode}+all`);
    const monitor = one(objects, 'ServiceMonitor', 'portcullis').spec as Obj;
    expect(monitor.namespaceSelector).toEqual({ matchNames: [OWN_NAMESPACE] });
    for (const component of ['webhook', 'controller']) {
      const service = one(objects, 'Service', `portcullis-${component}-metrics`);
      const spec = service.spec as Obj;
      const template = podTemplate(objects, component);
      expect(Object.entries(spec.selector as Record<string, string>).every(([k, v]) => template.metadata.labels[k] === v)).toBe(true);
      const port = (spec.ports as Obj[]).find((x) => x.name === monitor.endpoints[0].port)!;
      expect((template.spec.containers[0].ports as Obj[]).find((x) => x.name === port.targetPort)?.containerPort).toBe(8080);
      expect(Object.entries(monitor.selector.matchLabels as Record<string, string>).every(([k, v]) => service.metadata.labels?.[k] === v)).toBe(true);
    }
    // The webhook Service the API server calls is not scraped.
    expect(
      Object.entries(monitor.selector.matchLabels as Record<string, string>).every(
        ([k, v]) => one(objects, 'Service', 'portcullis-webhook').metadata.labels?.[k] === v,
      ),
    ).toBe(false);
  });

  /** Every metric the code registers: the names in src/ given to prom-client. */
  const exported = (() => {
    const names = new Set<string>();
    for (const e of readdirSync(path.join(REPO_ROOT, 'src'), { recursive: true, withFileTypes: true })) {
      if (!e.isFile() || !e.name.endsWith('.ts')) continue;
      for (const m of readFileSync(path.join(e.parentPath, e.name), 'utf8').matchAll(/'(portcullis_[a-z_]+)'/g)) names.add(m[1]);
    }
    return names;
  })();
  // Not ours: Prometheus's own `up`, and kube-state-metrics for Deployment readiness.
  const EXTERNAL = new Set(['up', 'kube_deployment_status_replicas_available', 'kube_deployment_spec_replicas']);
  /** The metric names in a PromQL expression, a histogram's _bucket/_sum/_count read as the histogram. */
  const metricsIn = (expr: string) => [
    ...[...expr.matchAll(/\b((?:portcullis|kube)_[a-z_]+)\b/g)].map((m) => {
      const base = m[1].replace(/_(bucket|sum|count)$/, '');
      return base !== m[1] && exported.has(base) ? base : m[1];
    }),
    ...(/\bup\{/.test(expr) ? ['up'] : []),
  ];

  const rules = () => (one(objectsOf('enforce+all'), 'PrometheusRule', 'portcullis').spec as Obj).groups as Obj[];
  const dashboard = () =>
    JSON.parse((one(objectsOf('enforce+all'), 'ConfigMap', 'portcullis-dashboard').data as Record<string, string>)['dashboard.json']) as Obj;
  const dashboardExprs = () => (dashboard().panels as Obj[]).flatMap((p) => (p.targets as Obj[]).map((t) => t.expr as string));

  it('every metric the alerts and the dashboard query is one the code exports (or up and kube-state-metrics)', () => {
    const used = new Set([...rules().flatMap((g) => (g.rules as Obj[]).flatMap((r) => metricsIn(r.expr))), ...dashboardExprs().flatMap(metricsIn)]);
    expect(used.size).toBeGreaterThan(5);
    expect([...used].filter((m) => !exported.has(m) && !EXTERNAL.has(m))).toEqual([]);
  });

  it('the alerts cover what an operator must hear about', () => {
    const names = rules().flatMap((g) => (g.rules as Obj[]).map((r) => r.alert as string));
    expect(names).toEqual(
      expect.arrayContaining([
        'PortcullisWebhookDown',
        'PortcullisWebhookNotReady',
        'PortcullisWebhookErrors',
        'PortcullisWebhookSlow',
        'PortcullisDenialSpike',
        'PortcullisPolicyReloadFailed',
        'PortcullisAuditStale',
        'PortcullisControllerNoLeader',
      ]),
    );
    for (const g of rules())
      for (const r of g.rules as Obj[])
        expect({ alert: r.alert, severity: r.labels?.severity, summary: typeof r.annotations?.summary }).toEqual({
          alert: r.alert,
          severity: expect.stringMatching(/^(critical|warning|info)$/),
          summary: 'string',
        });
  });

  it('the dashboard is Grafana JSON with a Prometheus data source variable and a query in every panel', () => {
    const d = dashboard();
    expect(d.uid).toBe('portcullis');
    expect((d.templating.list as Obj[]).find((v) => v.type === 'datasource')?.query).toBe('prometheus');
    for (const p of d.panels as Obj[])
      expect({ panel: p.title, targets: (p.targets as Obj[]).length > 0, ds: p.datasource.uid }).toEqual({
        panel: p.title,
        targets: true,
        ds: '${datasource}',
      });
  });

  /** Runs promtool (Debian's prometheus package; scripts/install-test-tools.sh installs it in CI). */
  function promtool(args: string[], cwd: string): Promise<{ code: number; out: string }> {
    return new Promise((resolve, reject) => {
      execFile('promtool', args, { cwd }, (err, stdout, stderr) => {
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT')
          return reject(new Error('promtool was not found on PATH: run scripts/install-test-tools.sh'));
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
      });
    });
  }

  it('promtool: the alert rules and every dashboard query parse, and the alerts fire on the series they are about', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'portcullis-rules-'));
    try {
      await writeFile(path.join(dir, 'rules.yaml'), stringify({ groups: rules() }));
      // Each dashboard query as a recording rule: promtool parses it as PromQL.
      await writeFile(
        path.join(dir, 'dashboard.yaml'),
        stringify({ groups: [{ name: 'dashboard', rules: dashboardExprs().map((expr, i) => ({ record: `portcullis:dashboard:${i}`, expr })) }] }),
      );
      const checked = await promtool(['check', 'rules', 'rules.yaml', 'dashboard.yaml'], dir);
      expect(checked).toEqual({ code: 0, out: expect.stringContaining('SUCCESS') });
      // The scenarios, with each expected alert's annotations taken from its rule (fixed text).
      const annotations = new Map(rules().flatMap((g) => (g.rules as Obj[]).map((r) => [r.alert as string, r.annotations as Obj])));
      const scenarios = parse(readFileSync(path.join(REPO_ROOT, 'test/packaging/fixtures/alerts.test.yaml'), 'utf8')) as Obj;
      for (const t of scenarios.tests as Obj[])
        for (const a of t.alert_rule_test as Obj[]) for (const e of a.exp_alerts as Obj[]) e.exp_annotations = annotations.get(a.alertname);
      await writeFile(path.join(dir, 'rules.test.yaml'), stringify(scenarios));
      const tested = await promtool(['test', 'rules', 'rules.test.yaml'], dir);
      expect(tested.out).toContain('SUCCESS');
      expect(tested.code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
