import { describe, expect, it } from '@jest/globals';
import { UsageError } from '../../src/cmd/exit.js';
import { CONTROLLER_DEFAULTS, controllerConfig } from '../../src/config/controller.js';

describe('controllerConfig', () => {
  it.each([
    { name: 'defaults', opts: {}, want: { ...CONTROLLER_DEFAULTS, policyPaths: [], kubeContext: null, kubeconfigFile: null } },
    {
      name: 'every flag',
      opts: {
        policy: ['p.yaml'],
        metricsPort: '9090',
        logLevel: 'debug',
        context: 'prod',
        kubeconfig: 'ops.kubeconfig',
        leaseNamespace: 'ops',
        reportFormat: 'openreports',
      },
      want: {
        metricsPort: 9090,
        logLevel: 'debug',
        kubeContext: 'prod',
        kubeconfigFile: 'ops.kubeconfig',
        leaseNamespace: 'ops',
        flavor: 'openreports',
        policyPaths: ['p.yaml'],
      },
    },
  ])('$name', ({ opts, want }) => {
    expect(controllerConfig(opts)).toMatchObject(want);
  });

  it.each(['http', '-1', '70000', '1.5'])('refuses --metrics-port %s', (port) => {
    expect(() => controllerConfig({ metricsPort: port })).toThrow(new UsageError(`controller: --metrics-port must be a port number, got "${port}"`));
  });

  it('keeps renewDeadline below the lease duration, so a leader stops writing before anyone may take over', () => {
    expect(CONTROLLER_DEFAULTS.renewDeadlineMs).toBeLessThan(CONTROLLER_DEFAULTS.leaseDurationMs);
  });
});
