// The host-port facts of a pod spec in CEL, as src/engine/facts/host-ports.ts reads them:
// every port entry of containers, initContainers and ephemeralContainers whose hostPort is
// set (not 0), or, with spec.hostNetwork true, whose containerPort is set; its protocol
// upper-cased (TCP unless UDP or SCTP). Each is a record
// {container, port, protocol, field} in one inner list per container.
import type { Variable } from './scope.js';
import { listAt, mapPath, portAt } from './cel.js';

/** Beyond these a pod spec is left to the webhook: they bound the cost (docs/vap.md, "Cost"). */
export const MAX_CONTAINERS = 64;
export const MAX_PORT_ENTRIES = 128;

const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

/** Where each workload kind keeps its pod spec (src/engine/facts/kinds.ts). */
function podSpecAt(root: string): string {
  return (
    `${root}.kind == 'Pod' ? ${mapPath(root, ['spec'])} : ` +
    `${root}.kind == 'PodTemplate' ? ${mapPath(root, ['template', 'spec'])} : ` +
    `${root}.kind == 'CronJob' ? ${mapPath(root, ['spec', 'jobTemplate', 'spec', 'template', 'spec'])} : ` +
    `${mapPath(root, ['spec', 'template', 'spec'])}`
  );
}

const PROTOCOL = "(has(p.protocol) && type(p.protocol) == string && p.protocol.upperAscii() in ['UDP', 'SCTP'] ? p.protocol.upperAscii() : 'TCP')";

function hostPortsOf(spec: string, hostNetwork: string): string {
  const perList = CONTAINER_LISTS.map((name) => {
    const containers = listAt(spec, name);
    const container = `(has(c.name) && type(c.name) == string ? c.name : '${name}[' + string(${containers}.indexOf(c)) + ']')`;
    const raw = `{'container': ${container}, 'hostPort': ${portAt('p', 'hostPort')}, 'containerPort': ${portAt('p', 'containerPort')}, 'protocol': ${PROTOCOL}}`;
    const effective =
      `{'container': r.container, 'port': r.hostPort != 0 ? r.hostPort : r.containerPort, ` +
      `'field': r.hostPort != 0 ? 'hostPort' : 'containerPort', 'protocol': r.protocol}`;
    return (
      `${containers}.map(c, type(c) == map && has(c.ports) && type(c.ports) == list ? ` +
      `c.ports.filter(p, type(p) == map).map(p, ${raw}).filter(r, r.hostPort != 0 || (${hostNetwork} && r.containerPort != 0)).map(r, ${effective}) : [])`
    );
  });
  return perList.join(' + ');
}

function tooBig(spec: string): string {
  const lists = CONTAINER_LISTS.map((name) => listAt(spec, name));
  return (
    `${lists.map((l) => `size(${l})`).join(' + ')} > ${MAX_CONTAINERS} || ` +
    `(${lists.join(' + ')}).map(c, type(c) == map && has(c.ports) && type(c.ports) == list ? size(c.ports) : 0).sum() > ${MAX_PORT_ENTRIES}`
  );
}

/**
 * podSpec, hostNetwork, hostPorts and podTooBig for the object, the same prefixed `old` for
 * oldObject ({} and [] when there is none).
 */
export function workloadVariables(): Variable[] {
  const vars = (prefix: string, root: string): Variable[] => {
    const v = (name: string) => (prefix ? `${prefix}${name[0].toUpperCase()}${name.slice(1)}` : name);
    return [
      { name: v('podSpec'), expression: `${root} == null ? {} : (${podSpecAt(root)})` },
      {
        name: v('hostNetwork'),
        expression: `has(variables.${v('podSpec')}.hostNetwork) && type(variables.${v('podSpec')}.hostNetwork) == bool && variables.${v('podSpec')}.hostNetwork`,
      },
      { name: v('podTooBig'), expression: tooBig(`variables.${v('podSpec')}`) },
      { name: v('hostPorts'), expression: hostPortsOf(`variables.${v('podSpec')}`, `variables.${v('hostNetwork')}`) },
    ];
  };
  return [...vars('', 'object'), ...vars('old', 'oldObject')];
}

/** How the engine words a host port: `hostPort 80/TCP` or `containerPort 80/TCP on the host network`. */
export const WHAT_HOST_PORT =
  "(h.field == 'hostPort' ? 'hostPort ' : 'containerPort ') + string(h.port) + '/' + h.protocol + (h.field == 'hostPort' ? '' : ' on the host network')";

/** The old object had a host port of the same container, number and protocol. */
export const OLD_HAS_HOST_PORT = 'variables.oldHostPorts.exists(ol, ol.exists(o, o.container == h.container && o.port == h.port && o.protocol == h.protocol))';
