// service-external-ips: a Service that claims an address through spec.externalIPs.
// kube-proxy sends traffic for a Service's external IP and port to its pods on every node,
// whoever owns the address: a tenant that names another tenant's address, a cluster service's
// or a node's own (with port 10250, the kubelet's) intercepts that traffic (CVE-2020-8554).
// Kubernetes' answer is to deny externalIPs (its DenyServiceExternalIPs admission plugin) or to
// allow a list; so does this rule: an address passes only inside the tenant's
// allowedExternalIPs, or outside tenants the policy's, and never when it is a known node
// address. One finding per address, keyed by the address, so an UPDATE judges only addresses
// the Service did not already have, as DenyServiceExternalIPs does. The other half of the CVE,
// status.loadBalancer.ingress, is written through services/status, which RBAC closes.
import { overlaps, setOf } from '../net/address-set.js';
import { parseBlock, type Block } from '../net/cidr.js';
import type { Rule, RuleFinding } from './rule.js';

const within = (a: Block, blocks: readonly Block[]): boolean => blocks.some((b) => b.version === a.version && b.start <= a.start && a.end <= b.end);

export const serviceExternalIps: Rule<'service-external-ips'> = {
  id: 'service-external-ips',
  title: 'Service external IP outside the allowed addresses',
  defaultAction: 'deny',
  category: 'External IPs',
  lane: null,
  help:
    "A Service's spec.externalIPs makes kube-proxy capture traffic to that address and port on every node (CVE-2020-8554). " +
    "Each address must lie in the tenant's allowedExternalIPs (outside tenants, the policy's), and is never a node address. " +
    'Remove the address, or ask the cluster admin to add its CIDR to allowedExternalIPs; use a LoadBalancer Service for a public address.',
  appliesTo: (kind) => kind.type === 'service',
  check({ facts, policy, tenant, nodes }) {
    const addresses = facts.service?.externalIPs ?? [];
    if (addresses.length === 0) return [];
    const allowed = tenant ? tenant.allowedExternalIPs : policy.allowedExternalIPs;
    const whose = tenant ? `tenant ${tenant.name}'s allowedExternalIPs` : "the policy's allowedExternalIPs";
    // Only known node addresses count: the assumed private ranges would refuse every
    // private external IP an admin allowed.
    const known = nodes();
    const out: RuleFinding[] = [];
    for (const { address, path } of addresses) {
      const text = address.trim();
      const block = text.includes('/') ? null : parseBlock(text);
      const key = `service-external-ips|${text}`;
      if (block === null || typeof block === 'string') {
        out.push({ path, value: null, message: `externalIP "${address}" is not an IP address; remove it`, key });
      } else if (known.known && overlaps(setOf([block]), known.set)) {
        out.push({
          path,
          value: null,
          message: `externalIP ${text} is a node address: kube-proxy would capture the node's own traffic on this Service's ports; remove it`,
          key,
        });
      } else if (!within(block, allowed)) {
        const list = allowed.length === 0 ? `${whose} allow none` : `it lies outside ${whose}`;
        out.push({
          path,
          value: null,
          message: `externalIP ${text} would take this address on every node (${list}); remove it, or use a LoadBalancer Service`,
          key,
        });
      }
    }
    return out;
  },
};
