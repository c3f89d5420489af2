// nodeport-not-allowed in CEL: a Service that takes node ports in a tenant with
// allowNodePorts: false (src/engine/rules/nodeport-not-allowed.ts).
import { SERVICES } from '../../../k8s/resources.js';
import { str } from '../cel.js';
import { namespaceLabelsVariable, tenantVariable } from '../scope.js';
import { serviceVariables } from '../service.js';
import { SERVICE_LIMITATIONS, SERVICE_MEANING } from './nodeport-range.js';
import type { RuleCompiler } from './rule.js';

const FIX =
  "(variables.serviceType == 'LoadBalancer' ? 'set allocateLoadBalancerNodePorts: false, remove nodePort fields and keep externalTrafficPolicy: Cluster, or use type ClusterIP' : 'use type ClusterIP (behind the ingress) instead')";

export const nodeportNotAllowed: RuleCompiler = (policy) => {
  const denied = policy.tenants.flatMap((t, i) => (t.allowNodePorts ? [] : [i]));
  const inDenied = denied.length === 0 ? 'false' : `variables.tenant in [${denied.join(', ')}]`;
  const names = `[${policy.tenants.map((t) => str(t.name)).join(', ')}]`;
  return {
    rule: 'nodeport-not-allowed',
    resources: [SERVICES],
    variables: [namespaceLabelsVariable, tenantVariable(policy), ...serviceVariables()],
    records:
      `${inDenied} && variables.allocatesNodePorts ? [[{'count': 1, ` +
      `'carried': variables.oldAllocatesNodePorts && variables.oldServiceType == variables.serviceType, ` +
      `'message': 'tenant ' + ${names}[variables.tenant] + ' may not use node ports, and this ' + variables.serviceType + ' Service takes one on every node; ' + ${FIX}}]] : []`,
    skip: 'variables.serviceTooBig || variables.oldServiceTooBig',
    limitations: SERVICE_LIMITATIONS,
    carriedMeaning: SERVICE_MEANING,
  };
};
