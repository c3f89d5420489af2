// hostport-reserved in CEL: every host port of the pod spec against the reserved catalog,
// compiled in as a list literal (src/engine/rules/hostport-reserved.ts).
import { formatRange } from '../../../engine/ports.js';
import {
  CRON_JOBS,
  DAEMON_SETS,
  DEPLOYMENTS,
  JOBS,
  PODS,
  POD_TEMPLATES,
  REPLICA_SETS,
  REPLICATION_CONTROLLERS,
  STATEFUL_SETS,
} from '../../../k8s/resources.js';
import { list, str } from '../cel.js';
import { ownedVariable, ownerVariables } from '../owners.js';
import { namespaceLabelsVariable, tenantVariable } from '../scope.js';
import { OLD_HAS_HOST_PORT, WHAT_HOST_PORT, workloadVariables } from '../workload.js';
import { POD_LIMITATIONS, TEMPLATE_MEANING } from './workload-limits.js';
import type { RuleCompiler } from './rule.js';

export const WORKLOAD_RESOURCES = [PODS, REPLICATION_CONTROLLERS, POD_TEMPLATES, DEPLOYMENTS, REPLICA_SETS, STATEFUL_SETS, DAEMON_SETS, JOBS, CRON_JOBS];

export const hostportReserved: RuleCompiler = (policy) => {
  const catalog = list(
    policy.reservedPorts.map((e, i) => {
      const describe = e.range.lo === e.range.hi ? `${e.name} (${e.component})` : `${e.name} (${e.component}, ports ${formatRange(e.range)})`;
      return `{'i': ${i}, 'lo': ${e.range.lo}, 'hi': ${e.range.hi}, 'protocol': ${str(e.protocol)}, 'describe': ${str(describe)}}`;
    }),
  );
  const matching =
    "variables.catalog.filter(e, (e.protocol == 'ANY' || e.protocol == h.protocol) && h.port >= e.lo && h.port <= e.hi && !variables.owned[e.i])";
  return {
    rule: 'hostport-reserved',
    resources: WORKLOAD_RESOURCES,
    variables: [
      namespaceLabelsVariable,
      tenantVariable(policy),
      ...workloadVariables(),
      ...ownerVariables,
      ownedVariable(policy.reservedPorts),
      { name: 'catalog', expression: catalog },
    ],
    records:
      `variables.hostPorts.map(l, l.map(h, {'h': h, 'entries': ${matching}}).filter(x, size(x.entries) > 0).map(x, x.h).map(h, ` +
      `{'count': size(${matching}), 'carried': ${OLD_HAS_HOST_PORT}, ` +
      `'message': ${WHAT_HOST_PORT} + ' of container ' + h.container + ' clashes with ' + ${matching}[0].describe + '; pick a port outside the reserved ports'}))`,
    skip: 'variables.podTooBig || variables.oldPodTooBig',
    limitations: POD_LIMITATIONS,
    carriedMeaning: TEMPLATE_MEANING,
  };
};
