// The pure pieces of the webhook, table-driven: decide(), the Go duration of the timeout
// parameter, clipping, and the serve configuration.
import { UsageError } from '../../src/cmd/exit.js';
import { SERVE_DEFAULTS, serveConfig } from '../../src/config/serve.js';
import type { Finding } from '../../src/engine/types.js';
import { clip, decide } from '../../src/sinks/admission/decide.js';
import { parseGoDuration } from '../../src/server/body.js';

const finding = (over: Partial<Finding>): Finding => ({
  rule: 'hostport-reserved',
  status: 'fail',
  action: 'deny',
  policy: 'p',
  tenant: null,
  resource: { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'ns', name: 'agent' },
  path: 'spec.template.spec.containers[0].ports[0].hostPort',
  value: 10250,
  message: 'hostPort 10250/TCP clashes with kubelet-api (kubelet); pick a port outside the reserved ports',
  source: null,
  key: 'hostport-reserved/agent/10250/TCP',
  ...over,
});
const limits = { maxWarnings: 3, maxWarningChars: 120, maxMessageChars: 4096, maxAnnotationChars: 4096 };
const base = { uid: 'u', kind: 'DaemonSet', hasPodTemplate: true, previous: null, limits };

describe('decide', () => {
  it.each([
    { name: 'no findings', findings: [], previous: null, verdict: 'allowed', response: { uid: 'u', allowed: true } },
    {
      name: 'one deny',
      findings: [finding({})],
      previous: null,
      verdict: 'denied',
      response: {
        uid: 'u',
        allowed: false,
        status: {
          code: 403,
          message:
            'portcullis denied this DaemonSet: 1 violation\n- hostport-reserved (policy p) at spec.template.spec.containers[0].ports[0].hostPort = 10250: hostPort 10250/TCP clashes with kubelet-api (kubelet); pick a port outside the reserved ports',
        },
      },
    },
    {
      name: 'a rule that could not check the object (no path)',
      findings: [
        finding({
          status: 'error',
          path: '',
          value: null,
          message: 'rule hostport-reserved could not check this object: bad input',
          key: 'hostport-reserved|error',
        }),
      ],
      previous: null,
      verdict: 'denied',
      response: {
        uid: 'u',
        allowed: false,
        status: {
          code: 403,
          message:
            'portcullis denied this DaemonSet: 1 violation\n- hostport-reserved (policy p): rule hostport-reserved could not check this object: bad input',
        },
      },
    },
    {
      name: 'a deny the old object had',
      findings: [finding({})],
      previous: new Set(['hostport-reserved/agent/10250/TCP']),
      verdict: 'warned',
      response: {
        uid: 'u',
        allowed: true,
        warnings: ['hostport-reserved 10250 at containers[0].ports[0] predates this update; new Pods from this template will be denied'],
      },
    },
    {
      name: 'a deny with a key the old object did not have',
      findings: [finding({ key: 'hostport-reserved/agent/10255/TCP', value: 10255 })],
      previous: new Set(['hostport-reserved/agent/10250/TCP']),
      verdict: 'denied',
      response: expect.objectContaining({ allowed: false }),
    },
    {
      name: 'a warn with a short message keeps its path',
      findings: [finding({ action: 'warn', rule: 'hostport-not-allowed', path: 'spec.ports[0]', message: 'not allowed; pick another' })],
      previous: null,
      verdict: 'warned',
      response: { uid: 'u', allowed: true, warnings: ['hostport-not-allowed at spec.ports[0]: not allowed; pick another'] },
    },
    {
      name: 'audit only',
      findings: [finding({ action: 'audit', rule: 'nodeport-not-allowed', path: 'spec.type', value: null, message: 'no node ports' })],
      previous: null,
      verdict: 'audited',
      response: {
        uid: 'u',
        allowed: true,
        auditAnnotations: { 'nodeport-not-allowed': '[{"policy":"p","path":"spec.type","value":null,"message":"no node ports"}]' },
      },
    },
    {
      name: 'five warnings over a limit of three',
      findings: [1, 2, 3, 4, 5].map((i) => finding({ action: 'warn', rule: 'hostport-not-allowed', path: `p${i}`, message: `m${i}` })),
      previous: null,
      verdict: 'warned',
      response: {
        uid: 'u',
        allowed: true,
        warnings: [
          'hostport-not-allowed at p1: m1',
          'hostport-not-allowed at p2: m2',
          'portcullis: 3 more findings; run portcullis scan on this object to see them all',
        ],
      },
    },
  ])('$name → $verdict', ({ findings, previous, verdict, response }) => {
    const d = decide({ ...base, findings, previous });
    expect(d.verdict).toBe(verdict);
    expect(d.response).toEqual(response);
  });

  it.each([
    {
      name: 'a CronJob template: the full path does not fit, the path inside the pod spec does',
      f: { path: 'spec.jobTemplate.spec.template.spec.initContainers[2].ports[0].hostPort' },
      warning: 'hostport-reserved 10250 at initContainers[2].ports[0] predates this update; new Pods from this template will be denied',
    },
    {
      name: 'a hostNetwork finding keeps its whole path',
      f: { rule: 'hostport-not-allowed' as const, path: 'spec.template.spec.hostNetwork', value: null },
      warning: 'hostport-not-allowed at spec.template.spec.hostNetwork predates this update; new Pods from this template will be denied',
    },
    {
      name: 'a finding without a path',
      f: { path: '', status: 'error' as const, value: null },
      warning: 'hostport-reserved predates this update; new Pods from this template will be denied',
    },
  ])('carried over: $name', ({ f, warning }) => {
    const k = finding({ ...f, key: 'k' });
    const d = decide({ ...base, findings: [k], previous: new Set(['k']) });
    expect(d.response.warnings).toEqual([warning]);
    expect(warning.length).toBeLessThan(120);
  });

  it('gives several audit findings one annotation per rule: unique, valid keys, every finding in the value', () => {
    const audit = (rule: Finding['rule'], path: string) => finding({ action: 'audit', rule, path, key: path });
    const d = decide({
      ...base,
      findings: [audit('hostport-reserved', 'a'), audit('hostport-not-allowed', 'b'), audit('hostport-reserved', 'c')],
      previous: null,
    });
    expect(d.verdict).toBe('audited');
    const annotations = d.response.auditAnnotations!;
    expect(Object.keys(annotations).sort()).toEqual(['hostport-not-allowed', 'hostport-reserved']);
    // The API server checks webhook-name/key as a qualified name: the key part at most 63 characters.
    for (const key of Object.keys(annotations)) expect(key).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/);
    expect(JSON.parse(annotations['hostport-reserved']).map((v: { path: string }) => v.path)).toEqual(['a', 'c']);
    expect(d.response.warnings).toBeUndefined();
    expect(d.response.allowed).toBe(true);
  });

  it('words a carried-over finding of a Service for a Service', () => {
    const d = decide({
      ...base,
      kind: 'Service',
      hasPodTemplate: false,
      findings: [finding({ rule: 'nodeport-range', path: 'spec.ports[1].nodePort', value: 31500, key: 'k' })],
      previous: new Set(['k']),
    });
    expect(d.response.warnings).toEqual(['nodeport-range 31500 at spec.ports[1].nodePort predates this update; a new Service like this will be denied']);
  });
});

describe('clip', () => {
  it.each([
    { name: 'short text', text: 'abc', max: 5, out: 'abc' },
    { name: 'exactly the limit', text: 'abcde', max: 5, out: 'abcde' },
    { name: 'over the limit', text: 'abcdef', max: 5, out: 'abcd…' },
    { name: 'astral characters count once', text: '🔒🔒🔒🔒🔒🔒', max: 5, out: '🔒🔒🔒🔒…' },
    { name: 'a text far over the limit', text: 'x'.repeat(100_000), max: 5, out: 'xxxx…' },
    { name: 'astral characters far over the limit', text: '🔒'.repeat(20), max: 5, out: '🔒🔒🔒🔒…' },
  ])('$name', ({ text, max, out }) => {
    expect(clip(text, max)).toBe(out);
    expect(Array.from(clip(text, max)).length).toBeLessThanOrEqual(max);
  });
});

describe('parseGoDuration', () => {
  it.each([
    { name: 'seconds', text: '10s', ms: 10000 },
    { name: "Go's own format", text: '1m0s', ms: 60000 },
    { name: 'milliseconds', text: '500ms', ms: 500 },
    { name: 'fractions', text: '1.5s', ms: 1500 },
    { name: 'combined', text: '1m30s', ms: 90000 },
    { name: 'empty', text: '', ms: null },
    { name: 'absent', text: undefined, ms: null },
    { name: 'no unit', text: '10', ms: null },
    { name: 'trailing garbage', text: '10sx', ms: null },
    { name: 'zero', text: '0s', ms: null },
  ])('$name: $text → $ms', ({ text, ms }) => {
    expect(parseGoDuration(text)).toBe(ms);
  });
});

describe('serveConfig', () => {
  it.each([
    { name: 'defaults', opts: {}, env: {}, expected: { ...SERVE_DEFAULTS } },
    {
      name: 'ports and policies',
      opts: { port: '9443', metricsPort: '9090', policy: ['a', 'b'] },
      env: {},
      expected: { ...SERVE_DEFAULTS, port: 9443, metricsPort: 9090, policyPaths: ['a', 'b'] },
    },
    { name: 'a certificate pair', opts: { tlsCert: 'c', tlsKey: 'k' }, env: {}, expected: { ...SERVE_DEFAULTS, tlsCert: 'c', tlsKey: 'k' } },
    { name: 'in a pod', opts: {}, env: { KUBERNETES_SERVICE_HOST: '10.96.0.1' }, expected: { ...SERVE_DEFAULTS, inCluster: true } },
    { name: 'run by npm (npx, npm start)', opts: {}, env: { npm_command: 'exec' }, expected: { ...SERVE_DEFAULTS, exitWhenOrphaned: true } },
    {
      name: 'drain timing in seconds',
      opts: { drainDelay: '0.5', gracePeriod: '10' },
      env: {},
      expected: { ...SERVE_DEFAULTS, drainDelayMs: 500, gracePeriodMs: 10000 },
    },
    { name: 'a kubeconfig context', opts: { context: 'kind-dev' }, env: {}, expected: { ...SERVE_DEFAULTS, inCluster: true, kubeContext: 'kind-dev' } },
    {
      name: 'a kubeconfig file',
      opts: { kubeconfig: 'ops.kubeconfig' },
      env: {},
      expected: { ...SERVE_DEFAULTS, inCluster: true, kubeconfigFile: 'ops.kubeconfig' },
    },
  ])('$name', ({ opts, env, expected }) => {
    expect(serveConfig(opts, env)).toEqual(expected);
  });

  it.each([
    {
      name: 'a certificate without a key',
      opts: { tlsCert: 'c' },
      message: '--tls-cert and --tls-key go together: give both, or neither for a self-signed localhost certificate',
    },
    { name: 'a port that is not a number', opts: { port: 'https' }, message: '--port must be a port number 0-65535, got "https"' },
    { name: 'a port out of range', opts: { metricsPort: '70000' }, message: '--metrics-port must be a port number 0-65535, got "70000"' },
    { name: 'a negative drain delay', opts: { drainDelay: '-1' }, message: '--drain-delay must be a number of seconds, got "-1"' },
    {
      name: 'a drain delay longer than the grace period',
      opts: { drainDelay: '30' },
      message: '--drain-delay (30 s) must be shorter than --grace-period (25 s)',
    },
  ])('refuses $name', ({ opts, message }) => {
    expect(() => serveConfig(opts, {})).toThrow(new UsageError(message));
  });
});
