// Safety properties of the rendered manifests, asserted for each mode. A webhook configured
// carelessly takes a cluster down; these are the properties that prevent it.
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import path from 'node:path';
import { parse } from 'yaml';
import { SERVE_DEFAULTS, SERVE_NODE_OPTIONS } from '../../src/config/serve.js';
import { CONTROLLER_DEFAULTS, CONTROLLER_NODE_OPTIONS } from '../../src/config/controller.js';
import { controllerReadiness } from '../../src/controller/ops.js';
import { API_CALLS, grantsOf, SERVICE_ACCOUNTS, type ApiProcess } from '../../src/k8s/api-calls.js';
import { AUDITED, type ResourceType } from '../../src/k8s/resources.js';
import { startOpsServer } from '../../src/server/ops-app.js';
import { webhookReadiness } from '../../src/server/server.js';
import { execForm, readDockerfile, runtimeStage } from './dockerfile.js';
import { find, kustomize, one, REPO_ROOT, type K8sObject } from './kustomize.js';

const OWN_NAMESPACE = 'portcullis-system';
const EXCLUDED_NAMESPACES = [OWN_NAMESPACE, 'kube-system', 'kube-node-lease'];
const MAX_TIMEOUT_SECONDS = 5;

const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
const cliSource = readFileSync(path.join(REPO_ROOT, 'src/cmd/cli.ts'), 'utf8');

type Obj = Record<string, any>;
type Webhook = Obj & { name: string };

const OPT_OUT_LABEL = 'portcullis.dev/ignore';
/** PortPolicy writes: a configuration of its own, Ignore in every mode (base/webhooks/portpolicies.yaml says why). */
const POLICY_WEBHOOKS = 'portcullis-portpolicies';
/** The image of both Deployments, set once in manifests/base/workload (kustomize `images:`). */
const IMAGE = `ghcr.io/portcullis-dev/portcullis:${pkg.version}`;

// failurePolicy: of the validating webhooks; the mutating ones (remediate only) are Ignore.
const MODES = [
  { mode: 'audit', dir: 'manifests/overlays/audit', failurePolicy: 'Ignore', remediation: false },
  { mode: 'enforce', dir: 'manifests/overlays/enforce', failurePolicy: 'Fail', remediation: false },
  { mode: 'remediate', dir: 'manifests/overlays/remediate', failurePolicy: 'Fail', remediation: true },
  { mode: 'base', dir: 'manifests/base', failurePolicy: 'Fail', remediation: false },
] as const;

const rendered = new Map<string, K8sObject[]>();
beforeAll(async () => {
  for (const m of MODES) rendered.set(m.mode, await kustomize(m.dir));
});
const objectsOf = (mode: string) => rendered.get(mode)!;

const webhooksOf = (objects: K8sObject[]) =>
  ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'].flatMap((kind) =>
    find(objects, kind).flatMap((c) => ((c.webhooks as Webhook[]) ?? []).map((w) => ({ config: c, webhook: w }))),
  );

/** `--flag=value` or `--flag value` → value. */
function flag(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) return args[i + 1];
    if (args[i].startsWith(`${name}=`)) return args[i].slice(name.length + 1);
  }
  return undefined;
}

/** The flags a command of src/cmd/cli.ts declares (its `.option('--x ...')` calls). */
function cliFlags(command: string): string[] {
  const start = cliSource.indexOf(`.command('${command}')`);
  if (start < 0) throw new Error(`src/cmd/cli.ts has no command ${command}`);
  const end = cliSource.indexOf('.command(', start + 1);
  const section = cliSource.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/(?:option\(|new Option\()'(?:-\w, )?(--[\w-]+)/g)].map((m) => m[1]);
}

const deployment = (objects: K8sObject[], component: string) =>
  find(objects, 'Deployment').find((d) => d.metadata.labels?.['app.kubernetes.io/component'] === component)!;
const podSpec = (d: K8sObject): Obj => (d.spec as Obj).template.spec;
const container = (d: K8sObject): Obj => podSpec(d).containers[0];

function containerPort(c: Obj, port: string | number): number | undefined {
  if (typeof port === 'number') return port;
  return (c.ports as Obj[]).find((p) => p.name === port)?.containerPort;
}

const selectorMatches = (selector: Obj, labels: Record<string, string> = {}) =>
  Object.entries((selector.matchLabels as Record<string, string>) ?? {}).every(([k, v]) => labels[k] === v) && !selector.matchExpressions;

describe.each(MODES)('$mode ($dir)', ({ mode, failurePolicy, remediation }) => {
  const objects = () => objectsOf(mode);

  describe('webhook configurations', () => {
    it('exclude the same namespaces in every webhook', () => {
      const lists = webhooksOf(objects()).map(({ webhook }) => JSON.stringify((webhook.namespaceSelector as Obj).matchExpressions));
      expect(new Set(lists).size).toBe(1);
    });

    it(`validating webhooks; mutating ones ${remediation ? 'with' : 'only with'} the remediations the policy switches on`, () => {
      expect(
        find(objects(), 'ValidatingWebhookConfiguration')
          .map((c) => c.metadata.name)
          .sort(),
      ).toEqual(['portcullis', POLICY_WEBHOOKS]);
      expect(webhooksOf(objects()).length).toBeGreaterThan(2);
      const policy = parse((one(objects(), 'ConfigMap', 'portcullis-policy').data as Record<string, string>)['policy.yaml']) as Obj;
      const switchedOn = Object.values(policy.spec.remediation ?? {}).some((v) => v === true);
      expect({ mutating: find(objects(), 'MutatingWebhookConfiguration').length, switchedOn }).toEqual({
        mutating: remediation ? 1 : 0,
        switchedOn: remediation,
      });
    });

    it('every webhook: v1 reviews, no side effects, matchPolicy Equivalent, timeout <= 5 s, failurePolicy set on purpose', () => {
      for (const { config, webhook } of webhooksOf(objects())) {
        expect({ name: webhook.name, admissionReviewVersions: webhook.admissionReviewVersions }).toEqual({
          name: webhook.name,
          admissionReviewVersions: ['v1'],
        });
        expect({ name: webhook.name, sideEffects: webhook.sideEffects }).toEqual({ name: webhook.name, sideEffects: 'None' });
        expect({ name: webhook.name, matchPolicy: webhook.matchPolicy }).toEqual({ name: webhook.name, matchPolicy: 'Equivalent' });
        const expected = webhook.name.includes('.mutate.') || config.metadata.name === POLICY_WEBHOOKS ? 'Ignore' : failurePolicy;
        expect({ name: webhook.name, failurePolicy: webhook.failurePolicy }).toEqual({ name: webhook.name, failurePolicy: expected });
        expect(typeof webhook.timeoutSeconds).toBe('number');
        expect(webhook.timeoutSeconds).toBeGreaterThan(0);
        expect(webhook.timeoutSeconds).toBeLessThanOrEqual(MAX_TIMEOUT_SECONDS);
      }
    });

    it(`every webhook excludes its own namespace, kube-system and kube-node-lease by name, and namespaces labelled ${OPT_OUT_LABEL}`, () => {
      for (const { webhook } of webhooksOf(objects())) {
        const selector = webhook.namespaceSelector as Obj;
        expect(selector?.matchLabels).toBeUndefined();
        const notIn = (selector?.matchExpressions as Obj[] | undefined)?.find((e) => e.key === 'kubernetes.io/metadata.name' && e.operator === 'NotIn');
        // More may be added (a CNI outside kube-system); these three never leave.
        expect({ name: webhook.name, excluded: notIn?.values ?? [] }).toEqual({ name: webhook.name, excluded: expect.arrayContaining(EXCLUDED_NAMESPACES) });
        // The opt-out, and no other expression that could narrow the selector to namespaces that must carry a label.
        expect({ name: webhook.name, rest: (selector.matchExpressions as Obj[]).filter((e) => e !== notIn) }).toEqual({
          name: webhook.name,
          rest: [{ key: OPT_OUT_LABEL, operator: 'DoesNotExist' }],
        });
        expect(webhook.objectSelector ?? {}).toEqual({});
      }
    });

    // Validating: every kind the engine checks. Mutating: only what /mutate can patch.
    it.each([
      { kind: 'ValidatingWebhookConfiguration', resources: () => AUDITED.map((t: ResourceType) => `${t.group}/${t.version}/${t.resource}`) },
      { kind: 'MutatingWebhookConfiguration', resources: () => ['/v1/services', 'networking.k8s.io/v1/networkpolicies'] },
    ])('$kind: the rules are exactly its kinds, on CREATE and UPDATE', ({ kind, resources }) => {
      const configs = find(objects(), kind).filter((c) => c.metadata.name !== POLICY_WEBHOOKS);
      if (configs.length === 0) return expect(kind).toBe('MutatingWebhookConfiguration');
      const config = configs[0];
      const covered = (config.webhooks as Webhook[]).flatMap((w) =>
        (w.rules as Obj[]).flatMap((r) => {
          expect([...r.operations].sort()).toEqual(['CREATE', 'UPDATE']);
          return (r.apiGroups as string[]).flatMap((g) =>
            (r.apiVersions as string[]).flatMap((v) => (r.resources as string[]).map((res) => `${g}/${v}/${res}`)),
          );
        }),
      );
      expect([...covered].sort()).toEqual([...resources()].sort());
      expect(new Set(covered).size).toBe(covered.length);
    });

    it('PortPolicy writes: CREATE and UPDATE of portcullis.dev/v1alpha1 portpolicies, the version the loader reads, to /validate', () => {
      const config = one(objects(), 'ValidatingWebhookConfiguration', POLICY_WEBHOOKS);
      expect((config.webhooks as Webhook[]).map((w) => ({ name: w.name, rules: w.rules, path: (w.clientConfig.service as Obj).path }))).toEqual([
        {
          name: 'portpolicies.validate.portcullis.dev',
          rules: [
            { apiGroups: ['portcullis.dev'], apiVersions: ['v1alpha1'], resources: ['portpolicies'], operations: ['CREATE', 'UPDATE'], scope: 'Cluster' },
          ],
          path: '/validate',
        },
      ]);
    });

    it('each mutating webhook mirrors its validating twin: same rules, matchConditions, namespaceSelector and timeout', () => {
      // The same conservative conditions keep most requests away from both. Only the name, the
      // path, failurePolicy (Ignore: the validating twin enforces) and reinvocationPolicy (a
      // mutating-only field) differ.
      const shape = (w: Webhook) => {
        const { name, clientConfig, reinvocationPolicy, failurePolicy, ...rest } = w;
        return { id: name.split('.')[0], service: { ...(clientConfig.service as Obj), path: undefined }, ...rest };
      };
      const validating = new Map((one(objects(), 'ValidatingWebhookConfiguration', 'portcullis').webhooks as Webhook[]).map((w) => [shape(w).id, shape(w)]));
      for (const m of find(objects(), 'MutatingWebhookConfiguration').flatMap((c) => c.webhooks as Webhook[]))
        expect(shape(m)).toEqual(validating.get(shape(m).id));
    });

    it('mutating: reinvoked when a later webhook changes the object (both remediations are idempotent)', () => {
      for (const w of find(objects(), 'MutatingWebhookConfiguration').flatMap((c) => c.webhooks as Webhook[])) {
        expect({ name: w.name, reinvocationPolicy: w.reinvocationPolicy }).toEqual({ name: w.name, reinvocationPolicy: 'IfNeeded' });
      }
    });

    it('every webhook calls the Service through /validate or /mutate on a port the Service exposes', () => {
      for (const { config, webhook } of webhooksOf(objects())) {
        const ref = webhook.clientConfig.service as Obj;
        expect(webhook.clientConfig.url).toBeUndefined();
        expect(webhook.clientConfig.caBundle).toBeUndefined(); // cert-manager injects it
        expect(ref.path).toBe(config.kind === 'ValidatingWebhookConfiguration' ? '/validate' : '/mutate');
        const service = one(objects(), 'Service', ref.name);
        expect(service.metadata.namespace).toBe(ref.namespace);
        expect((service.spec as Obj).ports.map((p: Obj) => p.port)).toContain(ref.port ?? 443);
      }
    });

    it('CA injection: annotation on both configurations naming the serving Certificate for the Service, signed by a CA Issuer from a self-signed CA that keeps its key', () => {
      const configs = ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'].flatMap((kind) => find(objects(), kind));
      for (const config of configs) {
        const annotation = config.metadata.annotations?.['cert-manager.io/inject-ca-from'];
        expect(annotation).toBeDefined();
        const [ns, name] = annotation!.split('/');
        const cert = one(objects(), 'Certificate', name);
        expect(cert.metadata.namespace).toBe(ns);
        const spec = cert.spec as Obj;
        for (const { webhook } of webhooksOf(objects())) {
          const ref = webhook.clientConfig.service as Obj;
          expect(spec.dnsNames).toContain(`${ref.name}.${ref.namespace}.svc`);
          expect(spec.dnsNames).toContain(`${ref.name}.${ref.namespace}.svc.cluster.local`);
        }
        // The serving Certificate, not the CA: its Secret's ca.crt is the CA that signed what
        // the pods serve (manifests/base/webhooks/validating.yaml says why).
        expect(spec.isCA ?? false).toBe(false);
        const caIssuer = one(objects(), 'Issuer', spec.issuerRef.name);
        expect(caIssuer.metadata.namespace).toBe(ns);
        const caSecret = (caIssuer.spec as Obj).ca?.secretName;
        expect(caSecret).toBeDefined();
        const ca = find(objects(), 'Certificate').find((c) => (c.spec as Obj).secretName === caSecret)!;
        expect((ca.spec as Obj).isCA).toBe(true);
        expect(ca.metadata.namespace).toBe(ns);
        // A renewed CA with the same key still verifies serving certificates signed before.
        expect((ca.spec as Obj).privateKey.rotationPolicy).toBe('Never');
        const root = one(objects(), 'Issuer', (ca.spec as Obj).issuerRef.name);
        expect((root.spec as Obj).selfSigned).toEqual({});
        // The CA outlives the serving certificate many times over.
        expect(parseInt((ca.spec as Obj).duration, 10)).toBeGreaterThan(4 * parseInt(spec.duration, 10));
      }
    });

    it('matchConditions are named and sit on every kind they can narrow', () => {
      for (const { webhook } of webhooksOf(objects())) {
        const groups = (webhook.rules as Obj[]).flatMap((r) => r.apiGroups as string[]);
        if (groups.includes('cilium.io')) continue; // Cilium policies are always checked
        if (groups.includes('portcullis.dev')) continue; // every PortPolicy write is judged whole
        expect({ name: webhook.name, conditions: (webhook.matchConditions as Obj[] | undefined)?.length ?? 0 }).toEqual({ name: webhook.name, conditions: 1 });
      }
    });
  });

  describe('Deployments', () => {
    it('webhook: 2 replicas spread across nodes, rolling without dropping below 2', () => {
      const d = deployment(objects(), 'webhook');
      const spec = d.spec as Obj;
      expect(spec.replicas).toBeGreaterThanOrEqual(2);
      expect(spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
      const byNode = (podSpec(d).topologySpreadConstraints as Obj[]).find((t) => t.topologyKey === 'kubernetes.io/hostname')!;
      expect(byNode).toMatchObject({ maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule', nodeTaintsPolicy: 'Honor' });
      expect(selectorMatches(byNode.labelSelector, (spec.template as Obj).metadata.labels)).toBe(true);
    });

    it.each(['webhook', 'controller'])('%s: runs as non-root uid with a read-only root, no capabilities, seccomp RuntimeDefault', (component) => {
      const d = deployment(objects(), component);
      const pod = podSpec(d).securityContext as Obj;
      const c = container(d).securityContext as Obj;
      expect(pod.runAsNonRoot ?? c.runAsNonRoot).toBe(true);
      expect(c.runAsNonRoot ?? pod.runAsNonRoot).toBe(true);
      expect(c.runAsUser ?? pod.runAsUser).toBeGreaterThan(0);
      expect(c.readOnlyRootFilesystem).toBe(true);
      expect(c.allowPrivilegeEscalation).toBe(false);
      expect(c.privileged ?? false).toBe(false);
      expect(c.capabilities.drop).toEqual(['ALL']);
      expect(c.capabilities.add).toBeUndefined();
      expect((c.seccompProfile ?? pod.seccompProfile)?.type).toBe('RuntimeDefault');
      expect(podSpec(d).hostNetwork ?? false).toBe(false);
      expect(podSpec(d).serviceAccountName).toBe(SERVICE_ACCOUNTS[component as ApiProcess]);
    });

    it.each(['webhook', 'controller'])('%s: requests and limits for cpu and memory', (component) => {
      const r = container(deployment(objects(), component)).resources as Obj;
      for (const kind of ['requests', 'limits']) for (const res of ['cpu', 'memory']) expect(r[kind]?.[res]).toBeDefined();
    });

    it('webhook and controller have their own resource limits', () => {
      const w = container(deployment(objects(), 'webhook')).resources;
      const c = container(deployment(objects(), 'controller')).resources;
      expect(c.limits.memory).not.toEqual(w.limits.memory);
    });

    it.each(['webhook', 'controller'])('%s: image is this release (package.json version), fully qualified', (component) => {
      expect(container(deployment(objects(), component)).image).toBe(IMAGE);
    });

    it.each(['webhook', 'controller'])('%s: probes hit /healthz and /readyz on the metrics port the process listens on', (component) => {
      const c = container(deployment(objects(), component));
      const args = (c.args as string[]) ?? [];
      const metricsPort = Number(flag(args, '--metrics-port') ?? (component === 'webhook' ? SERVE_DEFAULTS : CONTROLLER_DEFAULTS).metricsPort);
      expect(containerPort(c, c.livenessProbe.httpGet.port)).toBe(metricsPort);
      expect(containerPort(c, c.readinessProbe.httpGet.port)).toBe(metricsPort);
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    });

    it('webhook: args are serve flags, the Service targets the HTTPS port serve listens on', () => {
      const c = container(deployment(objects(), 'webhook'));
      expect(c.command).toBeUndefined(); // the image's ENTRYPOINT runs `portcullis serve`
      const known = cliFlags('serve');
      for (const a of c.args as string[]) if (a.startsWith('--')) expect(known).toContain(a.split('=')[0]);
      const service = one(objects(), 'Service', 'portcullis-webhook');
      expect(selectorMatches({ matchLabels: (service.spec as Obj).selector }, (deployment(objects(), 'webhook').spec as Obj).template.metadata.labels)).toBe(
        true,
      );
      const https = (service.spec as Obj).ports.find((p: Obj) => p.port === 443);
      expect(https.targetPort).toBe(8443);
      expect(containerPort(c, https.targetPort)).toBe(Number(flag(c.args, '--port') ?? SERVE_DEFAULTS.port));
      expect((c.ports as Obj[]).map((p) => p.containerPort)).toContain(8443);
      expect((c.env as Obj[]).find((e) => e.name === 'NODE_OPTIONS')?.value).toBe(SERVE_NODE_OPTIONS);
    });

    it('controller: the image ENTRYPOINT with `controller` instead of `serve`, and controller flags', () => {
      const c = container(deployment(objects(), 'controller'));
      const entry = execForm(
        runtimeStage(readDockerfile())
          .instructions.filter((i) => i.keyword === 'ENTRYPOINT')
          .pop()!.args,
      )!;
      expect(c.command).toEqual([...entry.slice(0, -1), 'controller']);
      const known = cliFlags('controller');
      for (const a of c.args as string[]) if (a.startsWith('--')) expect(known).toContain(a.split('=')[0]);
      expect(flag(c.args, '--lease-namespace') ?? OWN_NAMESPACE).toBe(OWN_NAMESPACE);
      expect((c.env as Obj[]).find((e) => e.name === 'NODE_OPTIONS')?.value).toBe(CONTROLLER_NODE_OPTIONS);
    });

    it('webhook: the serving Secret is mounted as a directory (no subPath) where --tls-cert and --tls-key point', () => {
      const d = deployment(objects(), 'webhook');
      const c = container(d);
      const cert = flag(c.args, '--tls-cert')!;
      const key = flag(c.args, '--tls-key')!;
      expect(path.posix.dirname(cert)).toBe(path.posix.dirname(key));
      const mount = (c.volumeMounts as Obj[]).find((m) => m.mountPath === path.posix.dirname(cert))!;
      expect(mount).toBeDefined();
      const volume = (podSpec(d).volumes as Obj[]).find((v) => v.name === mount.name)!;
      const serving = one(objects(), 'Certificate', 'portcullis-webhook');
      expect(volume.secret.secretName).toBe((serving.spec as Obj).secretName);
      expect(volume.secret.items).toBeUndefined(); // items pick keys: rotation still works, but names must stay tls.crt/tls.key
      expect([path.posix.basename(cert), path.posix.basename(key)]).toEqual(['tls.crt', 'tls.key']);
    });

    it.each(['webhook', 'controller'])('%s: the policy ConfigMap is mounted as a directory where --policy points, and nothing uses subPath', (component) => {
      const d = deployment(objects(), component);
      const c = container(d);
      for (const m of c.volumeMounts as Obj[])
        expect({ mount: m.name, subPath: m.subPath, readOnlyOrTmp: m.readOnly === true || m.mountPath === '/tmp' }).toEqual({
          mount: m.name,
          subPath: undefined,
          readOnlyOrTmp: true,
        });
      const policyDir = flag(c.args, '--policy')!;
      const mount = (c.volumeMounts as Obj[]).find((m) => m.mountPath === policyDir)!;
      const volume = (podSpec(d).volumes as Obj[]).find((v) => v.name === mount.name)!;
      expect(volume.configMap.name).toBe('portcullis-policy');
      expect(find(objects(), 'ConfigMap', 'portcullis-policy')).toHaveLength(1);
    });

    it('webhook: preStop sleep (no shell needed) and a grace period that covers it, the drain and the longest request', () => {
      const d = deployment(objects(), 'webhook');
      const c = container(d);
      const sleep = c.lifecycle.preStop.sleep.seconds as number;
      expect(sleep).toBeGreaterThan(0);
      expect(c.lifecycle.preStop.exec).toBeUndefined();
      const longest = Math.max(...webhooksOf(objects()).map((w) => w.webhook.timeoutSeconds as number));
      const drain = Number(flag(c.args, '--drain-delay') ?? SERVE_DEFAULTS.drainDelayMs / 1000);
      const grace = Number(flag(c.args, '--grace-period') ?? SERVE_DEFAULTS.gracePeriodMs / 1000);
      // serve's own shutdown budget after SIGTERM includes its drain delay and the in-flight
      // requests; the kubelet's grace period runs from the start of preStop, and the process
      // needs a moment to exit after its budget before SIGKILL.
      expect(grace).toBeGreaterThanOrEqual(drain + longest);
      expect(podSpec(d).terminationGracePeriodSeconds).toBeGreaterThan(sleep + grace);
    });
  });

  it('PodDisruptionBudget keeps a webhook replica through drains', () => {
    const d = deployment(objects(), 'webhook');
    const pdb = find(objects(), 'PodDisruptionBudget').find((p) => selectorMatches((p.spec as Obj).selector, (d.spec as Obj).template.metadata.labels))!;
    expect(pdb).toBeDefined();
    const spec = pdb.spec as Obj;
    const keeps = spec.minAvailable ?? (d.spec as Obj).replicas - spec.maxUnavailable;
    expect(keeps).toBeGreaterThanOrEqual(1);
    expect(keeps).toBeLessThan((d.spec as Obj).replicas); // else no drain could ever proceed
  });

  describe('RBAC', () => {
    const grants = (rules: Obj[]) =>
      rules
        .flatMap((r) => {
          expect(r.nonResourceURLs).toBeUndefined();
          return (r.apiGroups as string[]).flatMap((g) => (r.resources as string[]).flatMap((res) => (r.verbs as string[]).map((v) => `${g}/${res}:${v}`)));
        })
        .sort();
    const PROCESSES = ['webhook', 'controller'] as const;
    /** Every grant a ServiceAccount holds through the bindings that name it, by role kind. */
    const heldBy = (objects: K8sObject[], account: string, roleKind: 'ClusterRole' | 'Role') =>
      find(objects, `${roleKind}Binding`)
        .filter((b) => (b.subjects as Obj[]).some((s) => s.kind === 'ServiceAccount' && s.name === account && s.namespace === OWN_NAMESPACE))
        .flatMap((b) => {
          expect((b.roleRef as Obj).kind).toBe(roleKind);
          if (roleKind === 'Role') expect(b.metadata.namespace).toBe(OWN_NAMESPACE);
          const role = one(objects, roleKind, (b.roleRef as Obj).name);
          if (roleKind === 'Role') expect(role.metadata.namespace).toBe(OWN_NAMESPACE);
          return grants(role.rules as Obj[]);
        })
        .sort();

    it.each(PROCESSES)('%s: its ServiceAccount holds exactly its calls of src/k8s/api-calls.ts, cluster-wide and in portcullis-system', (process) => {
      const account = SERVICE_ACCOUNTS[process];
      expect(one(objects(), 'ServiceAccount', account).metadata.namespace).toBe(OWN_NAMESPACE);
      const cluster = heldBy(objects(), account, 'ClusterRole');
      expect(cluster.filter((g) => g.includes('*'))).toEqual([]);
      expect(cluster).toEqual(grantsOf(API_CALLS[process], 'cluster'));
      expect(heldBy(objects(), account, 'Role')).toEqual(grantsOf(API_CALLS[process], 'own-namespace'));
      expect(podSpec(deployment(objects(), process)).serviceAccountName).toBe(account);
    });

    it('webhook: nothing on pods, workloads, reports, leases, secrets or configmaps, and no writes', () => {
      const held = [...heldBy(objects(), SERVICE_ACCOUNTS.webhook, 'ClusterRole'), ...heldBy(objects(), SERVICE_ACCOUNTS.webhook, 'Role')];
      expect(held.filter((g) => !/^\/(namespaces|nodes|services):|^portcullis\.dev\/portpolicies:/.test(g))).toEqual([]);
      expect(held.filter((g) => !/:(get|list|watch)$/.test(g))).toEqual([]);
    });

    it("leases only through a Role in portcullis-system naming the controller's Lease", () => {
      for (const role of find(objects(), 'Role')) {
        expect(role.metadata.namespace).toBe(OWN_NAMESPACE);
        for (const r of role.rules as Obj[]) if (r.resourceNames) expect(r.resourceNames).toEqual([CONTROLLER_DEFAULTS.leaseName]);
      }
      for (const role of find(objects(), 'ClusterRole')) expect(grants(role.rules as Obj[]).filter((g) => g.startsWith('coordination.k8s.io/'))).toEqual([]);
    });

    it('every binding names one of the two ServiceAccounts and a role that exists, and every role is bound', () => {
      const accounts = Object.values(SERVICE_ACCOUNTS);
      const bound = new Set<string>();
      for (const b of [...find(objects(), 'ClusterRoleBinding'), ...find(objects(), 'RoleBinding')]) {
        for (const s of b.subjects as Obj[])
          expect({ kind: s.kind, known: accounts.includes(s.name), namespace: s.namespace }).toEqual({
            kind: 'ServiceAccount',
            known: true,
            namespace: OWN_NAMESPACE,
          });
        bound.add(`${(b.roleRef as Obj).kind}/${(b.roleRef as Obj).name}`);
      }
      expect([...find(objects(), 'ClusterRole'), ...find(objects(), 'Role')].map((r) => `${r.kind}/${r.metadata.name}`).sort()).toEqual([...bound].sort());
      expect(
        find(objects(), 'ServiceAccount')
          .map((a) => a.metadata.name)
          .sort(),
      ).toEqual([...accounts].sort());
    });
  });

  it('every namespaced object lives in portcullis-system, which the manifests create', () => {
    const clusterScoped = new Set([
      'Namespace',
      'ClusterRole',
      'ClusterRoleBinding',
      'CustomResourceDefinition',
      'ValidatingWebhookConfiguration',
      'MutatingWebhookConfiguration',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
    ]);
    for (const o of objects()) {
      if (clusterScoped.has(o.kind)) expect({ kind: o.kind, namespace: o.metadata.namespace }).toEqual({ kind: o.kind, namespace: undefined });
      else
        expect({ kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace }).toEqual({
          kind: o.kind,
          name: o.metadata.name,
          namespace: OWN_NAMESPACE,
        });
    }
    expect(one(objects(), 'Namespace', OWN_NAMESPACE).metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });
});

describe('the probe paths exist on the ops servers the processes run on --metrics-port', () => {
  async function probe(component: string, listen: (isReady: () => boolean) => Promise<{ base: string; close: () => Promise<void> }>) {
    const c = container(deployment(objectsOf('enforce'), component));
    let ready = true;
    const server = await listen(() => ready);
    try {
      expect((await fetch(server.base + c.livenessProbe.httpGet.path)).status).toBe(200);
      expect((await fetch(server.base + c.readinessProbe.httpGet.path)).status).toBe(200);
      ready = false;
      expect((await fetch(server.base + c.readinessProbe.httpGet.path)).status).toBe(503);
      expect((await fetch(server.base + c.livenessProbe.httpGet.path)).status).toBe(200);
      expect((await fetch(`${server.base}/nonexistent`)).status).toBe(404);
    } finally {
      await server.close();
    }
  }

  it('webhook (serve): liveness 200; readiness 200 when ready, 503 when draining', async () => {
    await probe('webhook', async (isReady) => {
      const ops = await startOpsServer({
        port: 0,
        host: '127.0.0.1',
        registry: new Registry(),
        readiness: () => webhookReadiness({ policy: true, tls: true, cluster: true, draining: !isReady() }),
      });
      return { base: `http://127.0.0.1:${ops.port}`, close: () => ops.close() };
    });
  });

  it('controller: liveness 200; readiness 200 when synced, 503 before', async () => {
    await probe('controller', async (isReady) => {
      const ops = await startOpsServer({ port: 0, host: '127.0.0.1', registry: new Registry(), readiness: controllerReadiness({ synced: isReady }) });
      return { base: `http://127.0.0.1:${ops.port}`, close: () => ops.close() };
    });
  });
});
