// nodeport-range in CEL: each node port of a NodePort or LoadBalancer Service against the
// NodePort range, or the tenant's slice, compiled in per tenant
// (src/engine/rules/nodeport-range.ts).
import { formatRange, type PortRange } from '../../../engine/ports.js';
import { SERVICES } from '../../../k8s/resources.js';
import { inRange, str } from '../cel.js';
import { namespaceLabelsVariable, tenantVariable } from '../scope.js';
import { MAX_SERVICE_PORTS, serviceVariables } from '../service.js';
import type { RuleCompiler } from './rule.js';

export const SERVICE_LIMITATIONS = [`Services with more than ${MAX_SERVICE_PORTS} ports, new or old, are not checked (cost budget); the webhook checks them`];

export const SERVICE_MEANING = "'a new Service like this will be denied'";

export const nodeportRange: RuleCompiler = (policy) => {
  const branch = (range: PortRange, where: string, fix: string) =>
    `[variables.nodePorts.filter(n, !(${inRange('n.port', range.lo, range.hi)})).map(n, {'count': 1, ` +
    `'carried': variables.oldNodePorts.exists(o, o.key == n.key && o.port == n.port), ` +
    `'message': (n.health ? 'healthCheckNodePort ' + string(n.port) : 'nodePort ' + string(n.port) + ' (port ' + n.key + ')') + ${str(` lies outside ${where}; ${fix}`)}})]`;
  const whole = policy.nodePortRange;
  let records = branch(whole, `the NodePort range ${formatRange(whole)}`, `remove it so the API server allocates one, or pick one in ${formatRange(whole)}`);
  for (let i = policy.tenants.length - 1; i >= 0; i--) {
    const t = policy.tenants[i];
    if (t.nodePortRange === null) continue;
    const slice = formatRange(t.nodePortRange);
    records = `variables.tenant == ${i} ? ${branch(t.nodePortRange, `tenant ${t.name}'s NodePort slice ${slice}`, `pick one in ${slice}`)} : ${records}`;
  }
  return {
    rule: 'nodeport-range',
    resources: [SERVICES],
    variables: [namespaceLabelsVariable, tenantVariable(policy), ...serviceVariables()],
    records,
    skip: 'variables.serviceTooBig || variables.oldServiceTooBig',
    limitations: SERVICE_LIMITATIONS,
    carriedMeaning: SERVICE_MEANING,
  };
};
