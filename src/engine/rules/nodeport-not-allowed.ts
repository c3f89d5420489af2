// nodeport-not-allowed: a Service that takes node ports in a tenant that may not have any.
// A node port opens the Service on every node's address, around the cluster's ingress and
// any NetworkPolicy on the node's side; a tenant with allowNodePorts: false is meant to
// reach the outside only through the platform's ingress or load balancers. One with
// allowLoadBalancers: false may not ask the cloud for a load balancer at all (each costs money
// and opens an address to the internet).
import type { Rule } from './rule.js';

export const nodeportNotAllowed: Rule<'nodeport-not-allowed'> = {
  id: 'nodeport-not-allowed',
  title: 'Node ports in a tenant without node ports',
  defaultAction: 'deny',
  category: 'NodePorts',
  lane: 'nodePort',
  help:
    'A tenant with allowNodePorts: false may not create NodePort Services, nor LoadBalancer Services that allocate node ports. ' +
    'Use type ClusterIP behind the ingress, or a LoadBalancer with allocateLoadBalancerNodePorts: false, no nodePort and ' +
    'externalTrafficPolicy: Cluster (Local allocates a healthCheckNodePort). A tenant with allowLoadBalancers: false may not create ' +
    'LoadBalancer Services at all: use type ClusterIP behind the ingress.',
  appliesTo: (kind) => kind.type === 'service',
  check({ facts, tenant }) {
    const svc = facts.service;
    if (!tenant || !svc) return [];
    if (svc.type === 'LoadBalancer' && !tenant.allowLoadBalancers) {
      return [
        {
          path: 'spec.type',
          value: null,
          message: `tenant ${tenant.name} may not use LoadBalancer Services; use type ClusterIP behind the ingress instead`,
          key: 'nodeport-not-allowed|LoadBalancer',
        },
      ];
    }
    if (tenant.allowNodePorts || !svc.allocatesNodePorts) return [];
    const fix =
      svc.type === 'LoadBalancer'
        ? 'set allocateLoadBalancerNodePorts: false, remove nodePort fields and keep externalTrafficPolicy: Cluster, or use type ClusterIP'
        : 'use type ClusterIP (behind the ingress) instead';
    return [
      {
        path: 'spec.type',
        value: null,
        message: `tenant ${tenant.name} may not use node ports, and this ${svc.type} Service takes one on every node; ${fix}`,
        key: `nodeport-not-allowed|${svc.type}`,
      },
    ];
  },
};
