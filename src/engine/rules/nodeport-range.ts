// nodeport-range: a Service's node port outside the NodePort range (or the tenant's slice).
// A node port outside the API server's --service-node-port-range is rejected by the API
// server, or collides with the node's own ports when the range was changed; one outside a
// tenant's slice takes a port another tenant was promised.
import { formatRange, inRange } from '../ports.js';
import type { Rule, RuleFinding } from './rule.js';

export const nodeportRange: Rule<'nodeport-range'> = {
  id: 'nodeport-range',
  title: 'Node port outside the NodePort range',
  defaultAction: 'deny',
  category: 'NodePorts',
  lane: 'nodePort',
  help:
    "A NodePort or LoadBalancer Service's spec.ports[].nodePort and spec.healthCheckNodePort must lie in the NodePort range " +
    "(30000-32767 by default), and in the tenant's slice when its namespace belongs to a tenant with nodePortRange. " +
    'Pick a port inside the range, or (outside a tenant slice) remove nodePort so the API server allocates one.',
  appliesTo: (kind) => kind.type === 'service',
  check({ facts, policy, tenant }) {
    const slice = tenant?.nodePortRange ?? null;
    const range = slice ?? policy.nodePortRange;
    const where = slice ? `tenant ${tenant!.name}'s NodePort slice ${formatRange(range)}` : `the NodePort range ${formatRange(range)}`;
    const fix = slice ? `pick one in ${formatRange(range)}` : `remove it so the API server allocates one, or pick one in ${formatRange(range)}`;
    const out: RuleFinding[] = [];
    for (const np of facts.service?.nodePorts ?? []) {
      if (inRange(range, np.port)) continue;
      const what = np.path === 'spec.healthCheckNodePort' ? `healthCheckNodePort ${np.port}` : `nodePort ${np.port} (port ${np.portKey})`;
      out.push({ path: np.path, value: np.port, message: `${what} lies outside ${where}; ${fix}`, key: `nodeport-range|p:${np.portKey}|${np.port}` });
    }
    return out;
  },
};
