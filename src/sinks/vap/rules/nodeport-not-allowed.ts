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
  const indexes = (pick: (t: (typeof policy.tenants)[number]) => boolean) => policy.tenants.flatMap((t, i) => (pick(t) ? [i] : []));
  const inSet = (ids: number[]) => (ids.length === 0 ? 'false' : `variables.tenant in [${ids.join(', ')}]`);
  const noNodePorts = inSet(indexes((t) => !t.allowNodePorts));
  // allowLoadBalancers: false refuses a LoadBalancer as such, before node ports are looked at.
  const noLoadBalancers = inSet(indexes((t) => !t.allowLoadBalancers));
  const names = `[${policy.tenants.map((t) => str(t.name)).join(', ')}]`;
  const tenantName = `${names}[variables.tenant]`;
  const lb = `${noLoadBalancers} && variables.serviceType == 'LoadBalancer'`;
  return {
    rule: 'nodeport-not-allowed',
    resources: [SERVICES],
    variables: [namespaceLabelsVariable, tenantVariable(policy), ...serviceVariables()],
    records:
      `${lb} ? [[{'count': 1, 'carried': variables.oldServiceType == 'LoadBalancer', ` +
      `'message': 'tenant ' + ${tenantName} + ' may not use LoadBalancer Services; use type ClusterIP behind the ingress instead'}]] : ` +
      `(${noNodePorts} && variables.allocatesNodePorts ? [[{'count': 1, ` +
      `'carried': variables.oldAllocatesNodePorts && variables.oldServiceType == variables.serviceType, ` +
      `'message': 'tenant ' + ${tenantName} + ' may not use node ports, and this ' + variables.serviceType + ' Service takes one on every node; ' + ${FIX}}]] : [])`,
    skip: 'variables.serviceTooBig || variables.oldServiceTooBig',
    limitations: SERVICE_LIMITATIONS,
    carriedMeaning: SERVICE_MEANING,
  };
};
