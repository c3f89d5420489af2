// nodePortAllocation: the API server fills omitted node ports from the whole cluster range
// before validating webhooks run, so a tenant that leaves `nodePort` out lands outside its
// slice and cannot tell why it is denied. This remediation fills the omitted ports from the
// tenant's slice instead, with ports an injected allocator reports free (the webhook's cache
// of ports in use, with short reservations). On UPDATE the ports the Service already holds
// are kept, as the API server itself would keep them. When the slice is full the request is
// denied with a message that says so.
import { formatRange, type PortRange } from '../ports.js';
import type { CompiledPolicy, Tenant } from '../policy/model.js';
import { isSet, nodePortServiceSpec, type ServicePort, type ServiceSpec } from './drop-out-of-range-node-port.js';
import { nothing, type ApplyRemediation, type NodePortAllocator, type RemediationOutcome } from './types.js';

// A LoadBalancer allocates node ports unless allocateLoadBalancerNodePorts is false (1.24+).
const needsNodePorts = (s: ServiceSpec) => s.type === 'NodePort' || (s.type === 'LoadBalancer' && s.allocateLoadBalancerNodePorts !== false);
// The API server allocates a health-check node port for every LoadBalancer with
// externalTrafficPolicy Local, whatever allocateLoadBalancerNodePorts says (needsHCNodePort).
const needsHealthCheckPort = (s: ServiceSpec) => s.type === 'LoadBalancer' && s.externalTrafficPolicy === 'Local';

const protocolOf = (p: ServicePort) => p.protocol ?? 'TCP';

/** The old port a new one continues: same name, else same port number and protocol. */
function previous(p: ServicePort, old: readonly ServicePort[]): ServicePort | undefined {
  const byName = p.name ? old.find((o) => o.name === p.name) : undefined;
  return byName ?? old.find((o) => o.port === p.port && protocolOf(o) === protocolOf(p));
}

// An allocator that breaks its contract (a port outside the slice, one the request already
// names, a duplicate) would make the API server reject the Service; ask again for the
// shortfall a few times, then treat it as the programmer error it is.
const ALLOCATION_ATTEMPTS = 3;

function allocate(allocator: NodePortAllocator, slice: PortRange, count: number, taken: ReadonlySet<number>): number[] | null {
  const got: number[] = [];
  for (let attempt = 0; attempt < ALLOCATION_ATTEMPTS && got.length < count; attempt++) {
    const exclude = new Set([...taken, ...got]);
    const ports = allocator.allocate({ lo: slice.lo, hi: slice.hi }, count - got.length, exclude);
    if (ports === null) return null;
    for (const p of ports) {
      if (Number.isInteger(p) && p >= slice.lo && p <= slice.hi && !exclude.has(p) && !got.includes(p) && got.length < count) got.push(p);
    }
  }
  if (got.length < count) throw new Error(`NodePortAllocator returned unusable ports for slice ${formatRange(slice)} (wanted ${count})`);
  return got;
}

function sliceOf(ctx: { policies: readonly CompiledPolicy[]; tenant: (p: CompiledPolicy) => Tenant | null }): { tenant: Tenant; slice: PortRange } | null {
  for (const policy of ctx.policies) {
    const tenant = ctx.tenant(policy);
    if (tenant?.nodePortRange) return { tenant, slice: tenant.nodePortRange };
  }
  return null;
}

export const nodePortAllocation: ApplyRemediation = (copy, ctx): RemediationOutcome => {
  const spec = nodePortServiceSpec(copy);
  if (!spec || !ctx.allocator) return nothing();
  const wantsPorts = needsNodePorts(spec);
  const wantsHealthCheck = needsHealthCheckPort(spec);
  if (!wantsPorts && !wantsHealthCheck) return nothing();
  const found = sliceOf(ctx);
  if (!found) return nothing();
  const { tenant, slice } = found;
  const ports = wantsPorts && Array.isArray(spec.ports) ? spec.ports : [];
  const changes: string[] = [];

  // UPDATE: keep what the Service already holds, so an edit never moves its node ports.
  const oldSpec = nodePortServiceSpec(ctx.oldObject);
  if (oldSpec) {
    const oldPorts = needsNodePorts(oldSpec) && Array.isArray(oldSpec.ports) ? oldSpec.ports : [];
    const holders = new Map<number, number>(ports.filter((p) => isSet(p.nodePort)).map((p) => [p.nodePort!, p.port ?? 0]));
    ports.forEach((p, i) => {
      if (isSet(p.nodePort)) return;
      const before = previous(p, oldPorts)?.nodePort;
      // One node port serves one port number; several protocols of that number may share it.
      if (!isSet(before) || (holders.has(before) && holders.get(before) !== p.port)) return;
      p.nodePort = before;
      holders.set(before, p.port ?? 0);
      changes.push(`spec.ports[${i}].nodePort: kept ${before} from the existing Service`);
    });
    if (wantsHealthCheck && !isSet(spec.healthCheckNodePort) && needsHealthCheckPort(oldSpec) && isSet(oldSpec.healthCheckNodePort)) {
      spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
      changes.push(`spec.healthCheckNodePort: kept ${oldSpec.healthCheckNodePort} from the existing Service`);
    }
  }

  // Ports with the same number share one node port, as the API server allocates them
  // (initNodePorts reuses the node port of a same-numbered port of another protocol).
  const groups = new Map<number | string, number[]>();
  ports.forEach((p, i) => {
    if (isSet(p.nodePort)) return;
    const sibling = ports.find((q) => q !== p && q.port === p.port && isSet(q.nodePort));
    if (sibling) {
      p.nodePort = sibling.nodePort;
      changes.push(`spec.ports[${i}].nodePort: set to ${sibling.nodePort}, shared with the other protocol of port ${p.port}`);
      return;
    }
    const key = p.port ?? `ports[${i}]`;
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const healthCheck = wantsHealthCheck && !isSet(spec.healthCheckNodePort);
  const count = groups.size + (healthCheck ? 1 : 0);
  if (count === 0) return { ...nothing(), changes };

  // Every port the Service names, including ones in spec.ports that take no node port here.
  const named = [...(Array.isArray(spec.ports) ? spec.ports : []).map((p) => p.nodePort), spec.healthCheckNodePort];
  const taken = new Set(named.filter(isSet));
  const got = allocate(ctx.allocator, slice, count, taken);
  const where = `tenant ${tenant.name}'s slice ${formatRange(slice)}`;
  if (got === null) {
    const name = copy.metadata.name ?? copy.metadata.generateName ?? '';
    return {
      changes,
      skipped: [],
      denial:
        `tenant ${tenant.name}'s NodePort slice ${formatRange(slice)} is full: no free port for the ${count} node port(s) ` +
        `Service ${ctx.namespace ?? ''}/${name} needs; delete an unused NodePort Service or ask the cluster admin for a larger slice`,
    };
  }
  let next = 0;
  for (const indexes of groups.values()) {
    const port = got[next++];
    for (const i of indexes) {
      ports[i].nodePort = port;
      changes.push(`spec.ports[${i}].nodePort: allocated ${port} from ${where}`);
    }
  }
  if (healthCheck) {
    spec.healthCheckNodePort = got[next];
    changes.push(`spec.healthCheckNodePort: allocated ${got[next]} from ${where}`);
  }
  return { ...nothing(), changes };
};
