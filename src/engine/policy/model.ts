// The PortPolicy as written (spec) and as the rules use it (compiled once at load).
import type { LabelSelector } from '../match.js';
import type { Block } from '../net/cidr.js';
import type { PortRange, Protocol } from '../ports.js';
import type { Labels, RuleAction, RuleId } from '../types.js';

export type { Protocol };
export type CatalogProtocol = Protocol | 'ANY';

/** Workload kinds an owner names; StaticPod is a control-plane static pod (see owners.ts). */
export const OWNER_KINDS = ['DaemonSet', 'Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob', 'Pod', 'StaticPod'] as const;
export type OwnerKind = (typeof OWNER_KINDS)[number];

/** A workload that legitimately takes a reserved port: namespace and name globs, exact kind. */
export interface OwnerSpec {
  namespaces: string[];
  kind: OwnerKind;
  name: string;
}

export interface PortEntrySpec {
  name: string;
  /** Required for a new entry; an override of a catalog entry by name may leave it out. */
  ports?: string;
  protocol?: CatalogProtocol;
  component?: string;
  source?: string;
  description?: string;
  /** Absent or []: no pod owns the port. */
  owners?: OwnerSpec[];
  /** With profiles: switches the catalog entry of this name off. */
  disabled?: boolean;
}

export interface TenantSpec {
  name: string;
  namespaces?: string[];
  namespaceSelector?: LabelSelector;
  nodePortRange?: string;
  allowNodePorts?: boolean;
  allowLoadBalancers?: boolean;
  allowedHostPorts?: string[];
  allowHostNetwork?: boolean;
  allowedExternalIPs?: string[];
}

export interface ExemptionSpec {
  namespaces?: string[];
  kinds?: string[];
  names?: string[];
  rules?: string[];
  /** Image references; every container of the pod spec must match one (images.ts). */
  images?: string[];
  /** The requester (admission userInfo): user names, groups, ServiceAccounts as namespace/name. */
  users?: string[];
  groups?: string[];
  serviceAccounts?: string[];
  reason: string;
}

export interface RemediationSpec {
  netpolCarveOut?: boolean;
  dropOutOfRangeNodePort?: boolean;
  nodePortAllocation?: boolean;
}

export interface PortPolicySpec {
  /** Catalog profiles (src/engine/policy/profiles.ts); `kubernetes` is always among them. */
  profiles?: string[];
  nodePortRange?: string;
  reservedPorts?: PortEntrySpec[];
  sensitivePorts?: PortEntrySpec[];
  nodeCIDRs?: string[];
  /** CIDRs a Service outside every tenant may claim as spec.externalIPs. */
  allowedExternalIPs?: string[];
  rules?: Partial<Record<RuleId, RuleAction>>;
  remediation?: RemediationSpec;
  tenants?: TenantSpec[];
  exemptions?: ExemptionSpec[];
}

export interface PortPolicyDocument {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [key: string]: unknown };
  spec: PortPolicySpec;
}

/** A catalog entry with its range parsed. */
export interface PortEntry {
  readonly name: string;
  readonly range: PortRange;
  readonly protocol: CatalogProtocol;
  readonly component: string;
  readonly source?: string;
  /** The workloads that may take this port; empty: none may. */
  readonly owners: readonly Owner[];
}

/** The identity of a resource as ownership sees it, extracted once per resource (facts/owners.ts). */
export interface OwnerFacts {
  /** The object itself and its owners from ownerReferences (a Deployment through its ReplicaSet). */
  readonly workloads: readonly { readonly kind: string; readonly name: string }[];
  /** For a Pod: its name and whether it is a live mirror pod of a static pod. */
  readonly pod: { readonly name: string; readonly mirror: boolean } | null;
}

export interface Owner {
  readonly matches: (namespace: string, facts: OwnerFacts) => boolean;
  /** As written: sinks that compile ownership elsewhere (the VAP export) read it. */
  readonly spec: OwnerSpec;
}

export interface Tenant {
  readonly name: string;
  readonly namespaces: readonly string[];
  readonly matchesName: (namespace: string) => boolean;
  /** Absent when the tenant has no namespaceSelector. */
  readonly matchesLabels?: (labels: Labels) => boolean;
  readonly nodePortRange: PortRange | null;
  readonly allowNodePorts: boolean;
  readonly allowLoadBalancers: boolean;
  /** null: no restriction; []: no host ports at all. */
  readonly allowedHostPorts: readonly PortRange[] | null;
  /** As written: undefined while the tenant has not decided (hostport-not-allowed then warns). */
  readonly allowHostNetwork: boolean | undefined;
  /** The blocks of allowedExternalIPs; empty: none. */
  readonly allowedExternalIPs: readonly Block[];
}

/** Who sends an object to admission (AdmissionReview request.userInfo). */
export interface Requester {
  readonly username: string;
  readonly groups: readonly string[];
}

export interface Exemption {
  /** The object's namespace, kind and name, and the rule. */
  readonly matches: (namespace: string | null, kind: string, name: string, rule: RuleId) => boolean;
  /** null: no image condition. Given the pod spec's images (null for an object without one). */
  readonly matchesImages: ((images: readonly string[] | null) => boolean) | null;
  /** null: no requester condition. */
  readonly matchesRequester: ((requester: Requester) => boolean) | null;
  readonly reason: string;
}

export interface CompiledPolicy {
  readonly name: string;
  readonly nodePortRange: PortRange;
  /** The reserved catalog, including the entry for the effective NodePort range (all protocols). */
  readonly reservedPorts: readonly PortEntry[];
  readonly sensitivePorts: readonly PortEntry[];
  readonly nodeCIDRs: readonly Block[];
  /** The blocks of spec.allowedExternalIPs, for Services outside every tenant. */
  readonly allowedExternalIPs: readonly Block[];
  readonly rules: Readonly<Record<RuleId, RuleAction>>;
  readonly remediation: Readonly<Required<RemediationSpec>>;
  readonly tenants: readonly Tenant[];
  /** True when some tenant is chosen by namespace labels, which only the cluster knows. */
  readonly hasLabelTenants: boolean;
  readonly exemptions: readonly Exemption[];
  /** The effective spec after defaulting, for reports and status. */
  readonly spec: Readonly<PortPolicySpec>;
}

/** A load problem with the dotted path of the field (spec.tenants[0].nodePortRange). */
export interface PolicyProblem {
  path: string;
  message: string;
}
