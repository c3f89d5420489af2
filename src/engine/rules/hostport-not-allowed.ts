// hostport-not-allowed: a tenant's pod takes a host port its tenant was not given.
// Host ports are a node-wide resource shared by every tenant: two pods wanting the same one
// cannot share a node, and a tenant's host port is reachable on the node's address outside
// any NetworkPolicy. A tenant's allowedHostPorts hands out that space deliberately;
// allowHostNetwork: false keeps its pods off the node's network namespace altogether.
import { formatRange, inRange } from '../ports.js';
import type { Rule, RuleFinding } from './rule.js';

export const hostportNotAllowed: Rule<'hostport-not-allowed'> = {
  id: 'hostport-not-allowed',
  title: "Host port outside the tenant's allowed host ports",
  defaultAction: 'deny',
  category: 'Host ports',
  lane: 'hostPort',
  help:
    'A tenant with allowedHostPorts may take only those host ports ([] means none); one with allowHostNetwork: false may not ' +
    'set spec.hostNetwork, and in one with allowedHostPorts that leaves allowHostNetwork unset, hostNetwork is a warning. ' +
    'Use a port from the allowed list, or expose the pod through a Service instead of a host port.',
  appliesTo: (kind) => kind.type === 'workload',
  check({ facts, tenant }) {
    const spec = facts.podSpec;
    if (!tenant || !spec) return [];
    const out: RuleFinding[] = [];
    if (spec.hostNetwork && tenant.allowHostNetwork === false) {
      out.push({
        path: `${spec.prefix}.hostNetwork`,
        value: null,
        message: `tenant ${tenant.name} may not use the host network; remove hostNetwork: true`,
        key: 'hostport-not-allowed|hostNetwork',
      });
    } else if (spec.hostNetwork && tenant.allowHostNetwork === undefined && tenant.allowedHostPorts !== null) {
      // On the host network a pod binds any port of the node without declaring it (Flannel,
      // Calico and kube-vip declare none), around allowedHostPorts. While the tenant has not
      // said whether it may, this is a warning, so pods of DaemonSets admitted before the check
      // existed are not denied on upgrade.
      const allowed = tenant.allowedHostPorts.length === 0 ? 'no host ports' : `host ports ${tenant.allowedHostPorts.map(formatRange).join(', ')}`;
      out.push({
        path: `${spec.prefix}.hostNetwork`,
        value: null,
        message: `hostNetwork: true lets the pod bind any port of the node, around tenant ${tenant.name}'s ${allowed}; the tenant's allowHostNetwork decides (unset: a warning)`,
        key: 'hostport-not-allowed|hostNetwork',
        atMost: 'warn',
      });
    }
    const allowed = tenant.allowedHostPorts;
    if (allowed === null) return out;
    for (const hp of spec.hostPorts) {
      if (allowed.some((r) => inRange(r, hp.port))) continue;
      const what = hp.field === 'hostPort' ? `hostPort ${hp.port}/${hp.protocol}` : `containerPort ${hp.port}/${hp.protocol} on the host network`;
      const fix =
        allowed.length === 0
          ? `tenant ${tenant.name} may not use host ports; expose the pod through a Service instead`
          : `tenant ${tenant.name} may use host ports ${allowed.map(formatRange).join(', ')}; pick one of those`;
      out.push({
        path: hp.path,
        value: hp.port,
        message: `${what} is not allowed: ${fix}`,
        key: `hostport-not-allowed|c:${hp.container}|${hp.port}/${hp.protocol}`,
      });
    }
    return out;
  },
};
