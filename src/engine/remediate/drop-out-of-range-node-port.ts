// dropOutOfRangeNodePort: a Service that names a nodePort outside the cluster's
// --service-node-port-range is rejected by the API server, and one copied from another
// cluster (with another range) is a common cause. Removing the field lets the API server
// allocate a port in range instead of failing the deployment. Only the cluster-wide range
// counts: a port inside it but outside a tenant's slice is the tenant's explicit choice, and
// the nodeport-range rule judges it.
import { formatRange, inRange } from '../ports.js';
import type { KubeObject } from '../types.js';
import { nothing, type ApplyRemediation } from './types.js';

export interface ServicePort {
  name?: string;
  port?: number;
  protocol?: string;
  nodePort?: number;
  [key: string]: unknown;
}

export interface ServiceSpec {
  type?: string;
  ports?: ServicePort[];
  allocateLoadBalancerNodePorts?: boolean;
  externalTrafficPolicy?: string;
  healthCheckNodePort?: number;
  [key: string]: unknown;
}

/** The spec of a v1 Service of a type that takes node ports, else null. */
export function nodePortServiceSpec(o: KubeObject | null): ServiceSpec | null {
  if (!o || o.apiVersion !== 'v1' || o.kind !== 'Service') return null;
  const spec = o.spec as ServiceSpec | undefined;
  if (!spec || (spec.type !== 'NodePort' && spec.type !== 'LoadBalancer')) return null;
  // A port list with non-objects is malformed (the API server rejects it): nothing to remediate.
  if (spec.ports !== undefined && (!Array.isArray(spec.ports) || spec.ports.some((p) => typeof p !== 'object' || p === null))) return null;
  return spec;
}

/** 0 and absent both mean "let the API server choose" (the Go zero value). */
export const isSet = (port: unknown): port is number => typeof port === 'number' && port !== 0;

export const dropOutOfRangeNodePort: ApplyRemediation = (copy, ctx) => {
  const spec = nodePortServiceSpec(copy);
  if (!spec) return nothing();
  const changes: string[] = [];
  const drop = (holder: Record<string, unknown>, field: string, path: string) => {
    const port = holder[field];
    if (!isSet(port)) return;
    const policy = ctx.policies.find((p) => !inRange(p.nodePortRange, port));
    if (!policy) return;
    delete holder[field];
    changes.push(`${path} ${port} is outside the NodePort range ${formatRange(policy.nodePortRange)}: removed, so one is allocated`);
  };
  (Array.isArray(spec.ports) ? spec.ports : []).forEach((p, i) => drop(p, 'nodePort', `spec.ports[${i}].nodePort`));
  drop(spec, 'healthCheckNodePort', 'spec.healthCheckNodePort');
  return { ...nothing(), changes };
};
