// hostport-not-allowed in CEL: per tenant, compiled in as one branch each, host ports outside
// allowedHostPorts and hostNetwork where allowHostNetwork is false
// (src/engine/rules/hostport-not-allowed.ts).
import { formatRange } from '../../../engine/ports.js';
import { inRange, str } from '../cel.js';
import { namespaceLabelsVariable, tenantVariable } from '../scope.js';
import { OLD_HAS_HOST_PORT, WHAT_HOST_PORT, workloadVariables } from '../workload.js';
import { WORKLOAD_RESOURCES } from './hostport-reserved.js';
import type { RuleCompiler } from './rule.js';
import { POD_LIMITATIONS, TEMPLATE_MEANING } from './workload-limits.js';

export const hostportNotAllowed: RuleCompiler = (policy) => {
  let records = '[]';
  let warnOnly = false;
  for (let i = policy.tenants.length - 1; i >= 0; i--) {
    const t = policy.tenants[i];
    const parts: string[] = [];
    if (t.allowHostNetwork === false) {
      const message = str(`tenant ${t.name} may not use the host network; remove hostNetwork: true`);
      parts.push(`(variables.hostNetwork ? [[{'count': 1, 'carried': variables.oldHostNetwork, 'message': ${message}}]] : [])`);
    } else if (t.allowHostNetwork === undefined && t.allowedHostPorts !== null) {
      // The engine caps this finding at warn while the tenant has not decided.
      const allowedText = t.allowedHostPorts.length === 0 ? 'no host ports' : `host ports ${t.allowedHostPorts.map(formatRange).join(', ')}`;
      const message = str(
        `hostNetwork: true lets the pod bind any port of the node, around tenant ${t.name}'s ${allowedText}; the tenant's allowHostNetwork decides (unset: a warning)`,
      );
      parts.push(`(variables.hostNetwork ? [[{'count': 1, 'carried': variables.oldHostNetwork, 'message': ${message}, 'warnOnly': true}]] : [])`);
      warnOnly = true;
    }
    const allowed = t.allowedHostPorts;
    if (allowed !== null) {
      const fix =
        allowed.length === 0
          ? `tenant ${t.name} may not use host ports; expose the pod through a Service instead`
          : `tenant ${t.name} may use host ports ${allowed.map(formatRange).join(', ')}; pick one of those`;
      const ok = allowed.length === 0 ? 'false' : allowed.map((r) => inRange('h.port', r.lo, r.hi)).join(' || ');
      parts.push(
        `variables.hostPorts.map(l, l.filter(h, !(${ok})).map(h, {'count': 1, 'carried': ${OLD_HAS_HOST_PORT}, ` +
          `'message': ${WHAT_HOST_PORT} + ' of container ' + h.container + ' is not allowed: ' + ${str(fix)}}))`,
      );
    }
    if (parts.length > 0) records = `variables.tenant == ${i} ? ${parts.join(' + ')} : ${records}`;
  }
  return {
    rule: 'hostport-not-allowed',
    resources: WORKLOAD_RESOURCES,
    variables: [namespaceLabelsVariable, tenantVariable(policy), ...workloadVariables()],
    records,
    warnOnly,
    skip: 'variables.podTooBig || variables.oldPodTooBig',
    limitations: POD_LIMITATIONS,
    carriedMeaning: TEMPLATE_MEANING,
  };
};
