// Host-port facts: every port a pod spec takes on its node, with the path of the field that
// takes it. A hostPort is a DNAT rule on the node; with spec.hostNetwork the container
// binds the node's own port, so its containerPort is the host port.
import type { Protocol } from '../policy/model.js';
import type { CheckedKind } from './kinds.js';
import { isObj, listAt, objAt, portNumber, type Obj } from './object.js';

export interface HostPortFact {
  /** Container name: stable across list reorders, unique within a pod spec (API validation). */
  readonly container: string;
  readonly port: number;
  readonly protocol: Protocol;
  /** Dotted path to the hostPort field, or to containerPort when hostNetwork makes it the host port. */
  readonly path: string;
  readonly field: 'hostPort' | 'containerPort';
}

export interface PodSpecFacts {
  /** Path of the pod spec from the object root: spec, spec.template.spec, ... */
  readonly prefix: string;
  readonly hostNetwork: boolean;
  readonly hostPorts: readonly HostPortFact[];
}

// ephemeralContainers may not declare ports per API validation, but a manifest can still
// carry them, and a port there is the same exposure if it ever gets through.
const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

export function podSpecFacts(object: Obj, kind: CheckedKind): PodSpecFacts | null {
  if (kind.type !== 'workload') return null;
  let spec: Obj | undefined = object;
  for (const key of kind.podSpecPath) spec = spec && objAt(spec, key);
  if (!spec) return null;
  const prefix = kind.podSpecPath.join('.');
  const hostNetwork = spec.hostNetwork === true;
  const hostPorts: HostPortFact[] = [];
  for (const list of CONTAINER_LISTS) {
    (listAt(spec, list) ?? []).forEach((c, i) => {
      if (!isObj(c)) return;
      const container = typeof c.name === 'string' ? c.name : `${list}[${i}]`;
      (listAt(c, 'ports') ?? []).forEach((p, j) => {
        if (!isObj(p)) return;
        const at = `${prefix}.${list}[${i}].ports[${j}]`;
        // The API server accepts only upper-case names, but a manifest that writes `udp` means
        // UDP: reading it as the default TCP would miss the UDP overlay entries.
        const written = typeof p.protocol === 'string' ? p.protocol.toUpperCase() : 'TCP';
        const protocol = PROTOCOLS.find((x) => x === written) ?? 'TCP';
        const hostPort = portNumber(p.hostPort);
        const containerPort = portNumber(p.containerPort);
        if (hostPort !== undefined && hostPort !== 0) {
          hostPorts.push({ container, port: hostPort, protocol, path: `${at}.hostPort`, field: 'hostPort' });
        } else if (hostNetwork && containerPort !== undefined && containerPort !== 0) {
          hostPorts.push({ container, port: containerPort, protocol, path: `${at}.containerPort`, field: 'containerPort' });
        }
      });
    });
  }
  return { prefix, hostNetwork, hostPorts };
}
