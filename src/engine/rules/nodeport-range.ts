// nodeport-range: a Service's node port outside the NodePort range (or the tenant's slice).
// A node port outside the API server's --service-node-port-range is rejected by the API
// server, or collides with the node's own ports when the range was changed; one outside a
// tenant's slice takes a port another tenant was promised. In a scan of manifests, a port
// with no nodePort in a tenant with a slice is a finding too: the API server will allocate it
// from the whole range, not the slice, and /validate will then deny the Service (unless the
// nodePortAllocation remediation picks a port in the slice first).
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
    'Pick a port inside the range, or (outside a tenant slice) remove nodePort so the API server allocates one. ' +
    "In a tenant slice, name the port: the API server allocates omitted ones from the whole range (scan reports them), unless the policy's nodePortAllocation remediation is on.",
  appliesTo: (kind) => kind.type === 'service',
  check({ facts, policy, tenant, planned }) {
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
    if (planned && slice && !policy.remediation.nodePortAllocation) {
      for (const u of facts.service?.unsetNodePorts ?? []) {
        out.push({
          path: u.path,
          value: null,
          message: `the API server will allocate from ${formatRange(policy.nodePortRange)}, outside your slice: name a port in ${formatRange(slice)} or ask for the allocator`,
          key: `nodeport-range|p:${u.portKey}|unset`,
        });
      }
    }
    return out;
  },
};
