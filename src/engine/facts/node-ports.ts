// Node-port facts for Services: the ports a Service takes on every node.
import { protocolOrTcp, type Protocol } from '../ports.js';
import { isObj, listAt, objAt, portNumber, type Obj } from './object.js';

export interface NodePortFact {
  readonly port: number;
  /** spec.ports[i].nodePort or spec.healthCheckNodePort */
  readonly path: string;
  /** The Service port's name (or number when unnamed) and protocol: stable across reorders. */
  readonly portKey: string;
  readonly protocol: Protocol;
}

/** A Service port whose nodePort the API server will allocate (NodePort, or a LoadBalancer that allocates). */
export interface UnsetNodePortFact {
  readonly path: string;
  readonly portKey: string;
}

export interface ExternalIPFact {
  /** As written; the rule parses it. */
  readonly address: string;
  readonly path: string;
}

export interface ServiceFacts {
  /** spec.type, ClusterIP when omitted (API default). */
  readonly type: string;
  /**
   * A NodePort Service, or a LoadBalancer that allocates node ports: unless
   * allocateLoadBalancerNodePorts is false (Kubernetes 1.24+), a LoadBalancer gets one per
   * port; with it false, node ports it names explicitly are still taken, and
   * externalTrafficPolicy: Local still allocates a healthCheckNodePort from the range.
   */
  readonly allocatesNodePorts: boolean;
  /** Node ports set in the object (named by the tenant or filled in by the API server). */
  readonly nodePorts: readonly NodePortFact[];
  /** Ports with no nodePort, which the API server allocates from the whole NodePort range. */
  readonly unsetNodePorts: readonly UnsetNodePortFact[];
  /** spec.externalIPs, whatever the type: kube-proxy serves them for every Service type. */
  readonly externalIPs: readonly ExternalIPFact[];
}

const NODE_PORT_TYPES = new Set(['NodePort', 'LoadBalancer']);

/**
 * Every Service field serviceFacts reads: spec fields and fields of each spec.ports item. The
 * cluster cache keeps only these (src/cluster/strip.ts); test/cluster/strip-keeps-findings.test.ts
 * catches a field read below and not listed here.
 */
export const SERVICE_FIELDS = {
  spec: ['type', 'healthCheckNodePort', 'allocateLoadBalancerNodePorts', 'externalTrafficPolicy', 'externalIPs'],
  port: ['name', 'port', 'protocol', 'nodePort'],
} as const;

export function serviceFacts(object: Obj): ServiceFacts {
  const spec = objAt(object, 'spec') ?? {};
  const type = typeof spec.type === 'string' ? spec.type : 'ClusterIP';
  const nodePorts: NodePortFact[] = [];
  if (NODE_PORT_TYPES.has(type)) {
    (listAt(spec, 'ports') ?? []).forEach((p, i) => {
      if (!isObj(p)) return;
      const nodePort = portNumber(p.nodePort);
      if (nodePort === undefined || nodePort === 0) return;
      const protocol = protocolOrTcp(p.protocol);
      const name = typeof p.name === 'string' && p.name !== '' ? p.name : String(p.port ?? i);
      nodePorts.push({ port: nodePort, path: `spec.ports[${i}].nodePort`, portKey: `${name}/${protocol}`, protocol });
    });
    const health = portNumber(spec.healthCheckNodePort);
    if (health !== undefined && health !== 0) {
      nodePorts.push({ port: health, path: 'spec.healthCheckNodePort', portKey: 'healthCheckNodePort/TCP', protocol: 'TCP' });
    }
  }
  const allocatesNodePorts =
    type === 'NodePort' ||
    (type === 'LoadBalancer' && (spec.allocateLoadBalancerNodePorts !== false || nodePorts.length > 0 || spec.externalTrafficPolicy === 'Local'));
  const unsetNodePorts: UnsetNodePortFact[] = [];
  if (type === 'NodePort' || (type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false)) {
    (listAt(spec, 'ports') ?? []).forEach((p, i) => {
      if (!isObj(p)) return;
      const nodePort = portNumber(p.nodePort);
      if (nodePort !== undefined && nodePort !== 0) return;
      const protocol = protocolOrTcp(p.protocol);
      const name = typeof p.name === 'string' && p.name !== '' ? p.name : String(p.port ?? i);
      unsetNodePorts.push({ path: `spec.ports[${i}].nodePort`, portKey: `${name}/${protocol}` });
    });
  }
  const externalIPs: ExternalIPFact[] = [];
  (listAt(spec, 'externalIPs') ?? []).forEach((a, i) => externalIPs.push({ address: typeof a === 'string' ? a : String(a), path: `spec.externalIPs[${i}]` }));
  return { type, allocatesNodePorts, nodePorts, unsetNodePorts, externalIPs };
}
