// hostport-reserved: a pod's host port on a port the node itself depends on.
// A hostPort is a DNAT rule on the node (and hostNetwork binds the node's port directly):
// a tenant pod with hostPort 10250 captures traffic meant for the kubelet, one on 2379
// for etcd, one in the NodePort range breaks a Service's node port on that node. The
// catalog (policy profiles and reservedPorts) lists these ports with the document each comes
// from and the workloads that own them: kube-proxy takes 10249 as of right, no pod takes 10250.
// A tenant's namespace never owns a port, whatever its name, so a tenant cannot name its
// DaemonSet cilium and pass.
import { formatRange, inRange } from '../ports.js';
import type { PortEntry } from '../policy/model.js';
import type { Rule, RuleFinding } from './rule.js';

const describeEntry = (e: PortEntry): string =>
  e.range.lo === e.range.hi ? `${e.name} (${e.component})` : `${e.name} (${e.component}, ports ${formatRange(e.range)})`;

export const hostportReserved: Rule<'hostport-reserved'> = {
  id: 'hostport-reserved',
  title: 'Host port on a reserved node port',
  defaultAction: 'deny',
  category: 'Host ports',
  lane: 'hostPort',
  help:
    'A hostPort (or a containerPort with hostNetwork: true) takes that port on the node. On a port of the reserved catalog ' +
    '(kube-apiserver 6443, etcd 2379-2380, kubelet 10250/10255/10248, kube-proxy 10249/10256, kube-controller-manager 10257, ' +
    'kube-scheduler 10259, CNI ports, the NodePort range) it captures or breaks traffic meant for a cluster component. ' +
    "Only the entry's owners (kube-proxy, the CNI's DaemonSets, the control-plane static pods) may take it. " +
    'Pick a host port outside the reserved ports, or better, expose the pod through a Service.',
  appliesTo: (kind) => kind.type === 'workload',
  check({ facts, policy, tenant, resource }) {
    const out: RuleFinding[] = [];
    const namespace = resource.namespace;
    const owns = (entry: PortEntry) => tenant === null && namespace !== null && entry.owners.some((o) => o.matches(namespace, facts.owners));
    for (const hp of facts.podSpec?.hostPorts ?? []) {
      for (const entry of policy.reservedPorts) {
        if ((entry.protocol !== 'ANY' && entry.protocol !== hp.protocol) || !inRange(entry.range, hp.port)) continue;
        if (owns(entry)) continue;
        const what = hp.field === 'hostPort' ? `hostPort ${hp.port}/${hp.protocol}` : `containerPort ${hp.port}/${hp.protocol} on the host network`;
        out.push({
          path: hp.path,
          value: hp.port,
          message: `${what} clashes with ${describeEntry(entry)}; pick a port outside the reserved ports`,
          key: `hostport-reserved|c:${hp.container}|${hp.port}/${hp.protocol}|${entry.name}`,
        });
      }
    }
    return out;
  },
};
