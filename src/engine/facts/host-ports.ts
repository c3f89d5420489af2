// Host-port facts: every port a pod spec takes on its node, with the path of the field that
// takes it. A hostPort is a DNAT rule on the node; with spec.hostNetwork the container
// binds the node's own port, so its containerPort is the host port.
import { Budget, POD_SPEC_PORTS } from '../limits.js';
import { protocolOrTcp, type Protocol } from '../ports.js';
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

/**
 * Every pod-spec field podSpecFacts reads, level by level. The cluster cache keeps only these
 * (src/cluster/strip.ts), so a field read below and not listed here is lost in the controller
 * and `scan --cluster`; test/cluster/strip-keeps-findings.test.ts catches that.
 */
export const POD_SPEC_FIELDS = {
  spec: ['hostNetwork'],
  containerLists: CONTAINER_LISTS,
  // image: read by the image exemptions (facts/images.ts), kept so the audit can apply them.
  container: ['name', 'image'],
  port: ['hostPort', 'containerPort', 'protocol'],
} as const;

/** Throws LimitExceeded when the pod spec holds more than POD_SPEC_PORTS port entries. */
export function podSpecFacts(object: Obj, kind: CheckedKind): PodSpecFacts | null {
  if (kind.type !== 'workload') return null;
  let spec: Obj | undefined = object;
  for (const key of kind.podSpecPath) spec = spec && objAt(spec, key);
  if (!spec) return null;
  const prefix = kind.podSpecPath.join('.');
  const hostNetwork = spec.hostNetwork === true;
  const hostPorts: HostPortFact[] = [];
  const entries = new Budget(POD_SPEC_PORTS);
  for (const list of CONTAINER_LISTS) {
    const containers = listAt(spec, list);
    if (containers === undefined) continue;
    for (let i = 0; i < containers.length; i++) {
      const c = containers[i];
      if (!isObj(c)) continue;
      const ports = listAt(c, 'ports');
      if (ports === undefined) continue;
      entries.spend(ports.length, `${prefix}.${list}[${i}].ports`);
      for (let j = 0; j < ports.length; j++) {
        const p = ports[j];
        if (!isObj(p)) continue;
        // Most ports are plain containerPorts: names and paths are built only for host ports.
        const hostPort = portNumber(p.hostPort);
        const field = hostPort !== undefined && hostPort !== 0 ? 'hostPort' : hostNetwork ? 'containerPort' : null;
        const port = field === 'hostPort' ? hostPort : field === 'containerPort' ? portNumber(p.containerPort) : undefined;
        if (field === null || port === undefined || port === 0) continue;
        // The API server accepts only upper-case names, but a manifest that writes `udp` means
        // UDP: reading it as the default TCP would miss the UDP overlay entries.
        const written = typeof p.protocol === 'string' ? p.protocol.toUpperCase() : 'TCP';
        const protocol = protocolOrTcp(written);
        const container = typeof c.name === 'string' ? c.name : `${list}[${i}]`;
        hostPorts.push({ container, port, protocol, path: `${prefix}.${list}[${i}].ports[${j}].${field}`, field });
      }
    }
  }
  return { prefix, hostNetwork, hostPorts };
}
