// The reserved-port catalog, as profiles a policy picks (spec.profiles). Every entry names the
// document its port comes from and the workloads that legitimately take it (its owners); a
// pod outside its owners on a reserved port is a hostport-reserved finding.
//
// Owner names are the ones each project's own install manifests and charts render (the
// namespaces listed are the layouts each project documents as supported). Kubelet ports have
// no owner: the kubelet is no pod, and a pod on 10250 captures the kubelet's traffic.
import type { OwnerSpec, PortEntrySpec } from './model.js';

export interface Profile {
  readonly name: string;
  readonly description: string;
  readonly entries: readonly PortEntrySpec[];
  /**
   * DaemonSets whose presence says the cluster runs this profile's component: `scan --cluster`
   * and the controller name the profiles that match, as a hint only.
   */
  readonly detect: readonly { readonly namespaces: readonly string[]; readonly name: string }[];
}

const PORTS_AND_PROTOCOLS = 'Kubernetes "Ports and Protocols" (kubernetes.io/docs/reference/networking/ports-and-protocols)';
const CANONICAL = 'Canonical Kubernetes "Services and ports"';
const CILIUM = 'Cilium "System Requirements: Firewall Rules" (docs.cilium.io/en/stable/operations/system_requirements/#firewall-rules)';
const CALICO = 'Calico "System requirements: Network requirements" (docs.tigera.io/calico/latest/getting-started/kubernetes/requirements#network-requirements)';
const FLANNEL = 'Flannel "Backends" (github.com/flannel-io/flannel/blob/master/Documentation/backends.md)';
const ANTREA = 'Antrea "Network Requirements" (github.com/antrea-io/antrea/blob/main/docs/network-requirements.md)';
const WEAVE = 'Weave Net FAQ "Which ports does Weave Net use?" (github.com/weaveworks/weave/blob/master/site/faq.md)';

const KUBE_SYSTEM = ['kube-system'];
// Cilium's Helm chart installs into kube-system by default; `cilium` is the other namespace its
// docs use (cilium install --namespace cilium).
const CILIUM_NAMESPACES = ['kube-system', 'cilium'];
// The Tigera operator installs Calico into calico-system; the manifest install uses kube-system.
const CALICO_NAMESPACES = ['calico-system', 'kube-system'];
// kube-flannel.yml uses kube-flannel since v0.20; older manifests and distributions kube-system.
const FLANNEL_NAMESPACES = ['kube-flannel', 'kube-system'];
// MetalLB's manifests and chart install into metallb-system.
const METALLB_NAMESPACES = ['metallb-system'];

const own = (namespaces: readonly string[], kind: OwnerSpec['kind'], name: string): OwnerSpec => ({ namespaces: [...namespaces], kind, name });
const staticPod = (name: string): OwnerSpec => own(KUBE_SYSTEM, 'StaticPod', name);

const ciliumAgent = [own(CILIUM_NAMESPACES, 'DaemonSet', 'cilium')];
const ciliumOperator = [own(CILIUM_NAMESPACES, 'Deployment', 'cilium-operator')];
// cilium-envoy runs as its own DaemonSet since Cilium 1.16, inside the agent before.
const ciliumEnvoy = [own(CILIUM_NAMESPACES, 'DaemonSet', 'cilium-envoy'), ...ciliumAgent];
const calicoNode = [own(CALICO_NAMESPACES, 'DaemonSet', 'calico-node')];
const flannel = [own(FLANNEL_NAMESPACES, 'DaemonSet', 'kube-flannel-ds')];
const antreaAgent = [own(KUBE_SYSTEM, 'DaemonSet', 'antrea-agent')];
// Every CNI agent that may run an overlay, encryption or BGP speaker on the node.
const cniAgents = [...ciliumAgent, ...calicoNode, ...flannel, ...antreaAgent, own(KUBE_SYSTEM, 'DaemonSet', 'weave-net')];

const KUBERNETES: Profile = {
  name: 'kubernetes',
  description: 'Upstream control-plane and node ports; always in effect when profiles are used.',
  detect: [],
  entries: [
    { name: 'kube-apiserver', ports: '6443', protocol: 'TCP', component: 'kube-apiserver', source: PORTS_AND_PROTOCOLS, owners: [staticPod('kube-apiserver')] },
    { name: 'etcd', ports: '2379-2380', protocol: 'TCP', component: 'etcd', source: PORTS_AND_PROTOCOLS, owners: [staticPod('etcd')] },
    {
      name: 'etcd-metrics',
      ports: '2381',
      protocol: 'TCP',
      component: 'etcd',
      // kubeadm's EtcdMetricsPort constant: its etcd manifest sets --listen-metrics-urls=http://127.0.0.1:2381.
      source: 'kubeadm constants EtcdMetricsPort (github.com/kubernetes/kubernetes/blob/master/cmd/kubeadm/app/constants/constants.go)',
      owners: [staticPod('etcd')],
    },
    { name: 'kubelet-api', ports: '10250', protocol: 'TCP', component: 'kubelet', source: PORTS_AND_PROTOCOLS, owners: [] },
    {
      name: 'kubelet-read-only',
      ports: '10255',
      protocol: 'TCP',
      component: 'kubelet',
      source: 'Port 10250 note (10255, the read-only kubelet API)',
      owners: [],
    },
    { name: 'kubelet-healthz', ports: '10248', protocol: 'TCP', component: 'kubelet', source: `Port 10248 note; ${CANONICAL}`, owners: [] },
    {
      name: 'kube-proxy-metrics',
      ports: '10249',
      protocol: 'TCP',
      component: 'kube-proxy',
      source: CANONICAL,
      owners: [own(KUBE_SYSTEM, 'DaemonSet', 'kube-proxy')],
    },
    {
      name: 'kube-proxy-healthz',
      ports: '10256',
      protocol: 'TCP',
      component: 'kube-proxy',
      source: PORTS_AND_PROTOCOLS,
      owners: [own(KUBE_SYSTEM, 'DaemonSet', 'kube-proxy')],
    },
    {
      name: 'kube-controller-manager',
      ports: '10257',
      protocol: 'TCP',
      component: 'kube-controller-manager',
      source: PORTS_AND_PROTOCOLS,
      owners: [staticPod('kube-controller-manager')],
    },
    {
      name: 'cloud-controller-manager',
      ports: '10258',
      protocol: 'TCP',
      component: 'cloud-controller-manager',
      source: 'cloud-controller-manager --secure-port default (kubernetes.io/docs/reference/command-line-tools-reference/cloud-controller-manager)',
      // Providers name it <provider>-cloud-controller-manager (aws-, openstack-, hcloud-...).
      owners: [own(KUBE_SYSTEM, 'DaemonSet', '*cloud-controller-manager'), own(KUBE_SYSTEM, 'Deployment', '*cloud-controller-manager')],
    },
    {
      name: 'kube-scheduler',
      ports: '10259',
      protocol: 'TCP',
      component: 'kube-scheduler',
      source: `${PORTS_AND_PROTOCOLS}; port 10259 note`,
      owners: [staticPod('kube-scheduler')],
    },
  ],
};

const CNI_SHARED: Profile = {
  name: 'cni-shared',
  description: 'Overlay, encryption and BGP ports that several CNIs and MetalLB share (UDP unless said).',
  detect: [],
  entries: [
    {
      name: 'vxlan',
      ports: '8472',
      protocol: 'UDP',
      component: 'CNI overlay (VXLAN, Cilium/Flannel on Linux)',
      source: `${CILIUM}; ${FLANNEL}`,
      owners: cniAgents,
    },
    {
      name: 'vxlan-iana',
      ports: '4789',
      protocol: 'UDP',
      component: 'CNI overlay (VXLAN, Calico/Antrea/Flannel on Windows)',
      source: `${CALICO}; ${ANTREA}`,
      owners: cniAgents,
    },
    { name: 'geneve', ports: '6081', protocol: 'UDP', component: 'CNI overlay (Geneve, Cilium/Antrea)', source: `${CILIUM}; ${ANTREA}`, owners: cniAgents },
    {
      name: 'wireguard',
      ports: '51820-51821',
      protocol: 'UDP',
      component: 'CNI encryption (WireGuard IPv4/IPv6, Calico/Flannel)',
      source: `${CALICO}; ${FLANNEL}`,
      owners: cniAgents,
    },
    { name: 'wireguard-cilium', ports: '51871', protocol: 'UDP', component: 'CNI encryption (Cilium WireGuard)', source: CILIUM, owners: ciliumAgent },
    {
      name: 'bgp',
      ports: '179',
      protocol: 'TCP',
      component: 'BGP speaker (Calico, Cilium BGP control plane, MetalLB FRR)',
      source: `${CALICO}; MetalLB "Installation: requirements" (metallb.io/installation)`,
      // MetalLB's manifests name the DaemonSet speaker, its Helm chart <release>-speaker.
      owners: [...ciliumAgent, ...calicoNode, own(METALLB_NAMESPACES, 'DaemonSet', 'speaker'), own(METALLB_NAMESPACES, 'DaemonSet', '*-speaker')],
    },
  ],
};

const CILIUM_PROFILE: Profile = {
  name: 'cilium',
  description: 'Cilium agent, operator, Envoy and Hubble ports.',
  detect: [{ namespaces: CILIUM_NAMESPACES, name: 'cilium' }],
  entries: [
    { name: 'cilium-health', ports: '4240', protocol: 'TCP', component: 'cilium-agent', source: `${CANONICAL}; ${CILIUM}`, owners: ciliumAgent },
    { name: 'cilium-hubble', ports: '4244', protocol: 'TCP', component: 'cilium-agent', source: `${CANONICAL}; ${CILIUM}`, owners: ciliumAgent },
    {
      name: 'hubble-relay',
      ports: '4245',
      protocol: 'TCP',
      component: 'hubble-relay',
      source: CILIUM,
      owners: [own(CILIUM_NAMESPACES, 'Deployment', 'hubble-relay')],
    },
    { name: 'cilium-mutual-auth', ports: '4250', protocol: 'TCP', component: 'cilium-agent', source: CILIUM, owners: ciliumAgent },
    { name: 'cilium-operator-api', ports: '9234', protocol: 'TCP', component: 'cilium-operator', source: CANONICAL, owners: ciliumOperator },
    { name: 'cilium-agent-health-api', ports: '9879', protocol: 'TCP', component: 'cilium-agent', source: `${CANONICAL}; ${CILIUM}`, owners: ciliumAgent },
    { name: 'cilium-agent-gops', ports: '9890', protocol: 'TCP', component: 'cilium-agent', source: `${CANONICAL}; ${CILIUM}`, owners: ciliumAgent },
    { name: 'cilium-operator-gops', ports: '9891', protocol: 'TCP', component: 'cilium-operator', source: `${CANONICAL}; ${CILIUM}`, owners: ciliumOperator },
    { name: 'cilium-agent-metrics', ports: '9962', protocol: 'TCP', component: 'cilium-agent', source: CILIUM, owners: ciliumAgent },
    {
      name: 'cilium-operator-metrics',
      ports: '9963',
      protocol: 'TCP',
      component: 'cilium-operator',
      source: `${CANONICAL}; ${CILIUM}`,
      owners: ciliumOperator,
    },
    { name: 'cilium-envoy-metrics', ports: '9964', protocol: 'TCP', component: 'cilium-envoy', source: CILIUM, owners: ciliumEnvoy },
    { name: 'hubble-metrics', ports: '9965', protocol: 'TCP', component: 'cilium-agent (Hubble)', source: CILIUM, owners: ciliumAgent },
  ],
};

const CALICO_PROFILE: Profile = {
  name: 'calico',
  description: 'Calico Typha and Felix ports (BGP, VXLAN and WireGuard are in cni-shared).',
  detect: [{ namespaces: CALICO_NAMESPACES, name: 'calico-node' }],
  entries: [
    {
      name: 'calico-typha',
      ports: '5473',
      protocol: 'TCP',
      component: 'calico-typha',
      source: CALICO,
      owners: [own(CALICO_NAMESPACES, 'Deployment', 'calico-typha')],
    },
    {
      name: 'calico-felix-health',
      ports: '9099',
      protocol: 'TCP',
      component: 'calico-node (Felix)',
      source: 'Calico Felix configuration HealthPort default (docs.tigera.io/calico/latest/reference/felix/configuration)',
      owners: calicoNode,
    },
  ],
};

const FLANNEL_PROFILE: Profile = {
  name: 'flannel',
  description: "Flannel's UDP backend (its VXLAN and WireGuard ports are in cni-shared).",
  detect: [{ namespaces: FLANNEL_NAMESPACES, name: 'kube-flannel-ds' }],
  entries: [{ name: 'flannel-udp', ports: '8285', protocol: 'UDP', component: 'flanneld (UDP backend)', source: FLANNEL, owners: flannel }],
};

const ANTREA_PROFILE: Profile = {
  name: 'antrea',
  description: 'Antrea controller and agent APIs (Geneve and VXLAN are in cni-shared).',
  detect: [{ namespaces: KUBE_SYSTEM, name: 'antrea-agent' }],
  entries: [
    {
      name: 'antrea-controller-api',
      ports: '10349',
      protocol: 'TCP',
      component: 'antrea-controller',
      source: ANTREA,
      owners: [own(KUBE_SYSTEM, 'Deployment', 'antrea-controller')],
    },
    { name: 'antrea-agent-api', ports: '10350', protocol: 'TCP', component: 'antrea-agent', source: ANTREA, owners: antreaAgent },
  ],
};

const WEAVE_PROFILE: Profile = {
  name: 'weave',
  description: 'Weave Net control and data ports.',
  detect: [{ namespaces: KUBE_SYSTEM, name: 'weave-net' }],
  entries: [
    { name: 'weave-control', ports: '6783', protocol: 'TCP', component: 'weave-net', source: WEAVE, owners: [own(KUBE_SYSTEM, 'DaemonSet', 'weave-net')] },
    { name: 'weave-data', ports: '6783-6784', protocol: 'UDP', component: 'weave-net', source: WEAVE, owners: [own(KUBE_SYSTEM, 'DaemonSet', 'weave-net')] },
  ],
};

// k8sd and k8s-dqlite run as snap services on the host, not as pods: no pod owns their ports.
const CANONICAL_K8S: Profile = {
  name: 'canonical-k8s',
  description: 'Canonical Kubernetes daemons: k8sd and the k8s-dqlite datastore.',
  detect: [],
  entries: [
    { name: 'k8sd', ports: '6400', protocol: 'TCP', component: 'k8sd', source: CANONICAL, owners: [] },
    { name: 'k8s-dqlite', ports: '9000', protocol: 'TCP', component: 'k8s-dqlite', source: CANONICAL, owners: [] },
  ],
};

/** Every shipped profile, in catalog order (the order of a finding's entries). */
export const PROFILES: readonly Profile[] = [
  KUBERNETES,
  CNI_SHARED,
  CILIUM_PROFILE,
  CALICO_PROFILE,
  FLANNEL_PROFILE,
  ANTREA_PROFILE,
  WEAVE_PROFILE,
  CANONICAL_K8S,
];

export const PROFILE_NAMES: readonly string[] = PROFILES.map((p) => p.name);

/** Always in effect once a policy uses profiles. */
export const BASE_PROFILE = KUBERNETES.name;
