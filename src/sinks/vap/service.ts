// The node-port facts of a Service in CEL, as src/engine/facts/node-ports.ts reads them:
// spec.type (ClusterIP when unset), and for NodePort and LoadBalancer Services every
// spec.ports[].nodePort that is set (not 0) and spec.healthCheckNodePort, each a record
// {key, port, what}: key is the port's name (or number) and protocol, stable across reorders.
import { listAt, mapAt, portAt } from './cel.js';
import type { Variable } from './scope.js';

/** Beyond this a Service is left to the webhook: it bounds the cost (docs/vap.md, "Cost"). */
export const MAX_SERVICE_PORTS = 256;

const PROTOCOL = "(has(p.protocol) && type(p.protocol) == string && p.protocol in ['TCP', 'UDP', 'SCTP'] ? p.protocol : 'TCP')";

function variablesFor(prefix: string, root: string): Variable[] {
  const v = (name: string) => (prefix ? `${prefix}${name[0].toUpperCase()}${name.slice(1)}` : name);
  const spec = `variables.${v('serviceSpec')}`;
  const ports = listAt(spec, 'ports');
  const name = `(has(p.name) && type(p.name) == string && p.name != '' ? p.name : (has(p.port) && type(p.port) in [int, string] ? string(p.port) : string(${ports}.indexOf(p))))`;
  const portRecords = `${ports}.filter(p, type(p) == map).map(p, {'key': ${name} + '/' + ${PROTOCOL}, 'port': ${portAt('p', 'nodePort')}, 'health': false})`;
  const health = portAt(spec, 'healthCheckNodePort');
  return [
    { name: v('serviceSpec'), expression: `${root} == null ? {} : ${mapAt(root, 'spec')}` },
    { name: v('serviceType'), expression: `has(${spec}.type) && type(${spec}.type) == string ? ${spec}.type : 'ClusterIP'` },
    { name: v('serviceTooBig'), expression: `size(${ports}) > ${MAX_SERVICE_PORTS}` },
    {
      name: v('nodePorts'),
      expression:
        `variables.${v('serviceType')} in ['NodePort', 'LoadBalancer'] ? ` +
        `${portRecords}.filter(n, n.port != 0) + (${health} != 0 ? [{'key': 'healthCheckNodePort/TCP', 'port': ${health}, 'health': true}] : []) : []`,
    },
    {
      // A NodePort Service, or a LoadBalancer that allocates node ports (facts/node-ports.ts).
      name: v('allocatesNodePorts'),
      expression:
        `variables.${v('serviceType')} == 'NodePort' || (variables.${v('serviceType')} == 'LoadBalancer' && (` +
        `!(has(${spec}.allocateLoadBalancerNodePorts) && type(${spec}.allocateLoadBalancerNodePorts) == bool && !${spec}.allocateLoadBalancerNodePorts) || ` +
        `size(variables.${v('nodePorts')}) > 0 || (has(${spec}.externalTrafficPolicy) && ${spec}.externalTrafficPolicy == 'Local')))`,
    },
  ];
}

export function serviceVariables(): Variable[] {
  return [...variablesFor('', 'object'), ...variablesFor('old', 'oldObject')];
}
