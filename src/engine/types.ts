// The data that flows through the engine: typed resources in, findings out.
// Nothing here knows where a resource came from (file, AdmissionReview, cluster list)
// beyond the optional SourceRef that sinks print.
import type { RULES } from './rules/index.js';

export type Labels = Readonly<Record<string, string>>;

/** A Kubernetes object as it arrives: only apiVersion, kind and metadata are typed. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name?: string;
    generateName?: string;
    namespace?: string;
    labels?: Record<string, string>;
    uid?: string;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid?: string; controller?: boolean }[];
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** Where a document was read from; null for admission requests and cluster scans. */
export interface SourceRef {
  file: string;
  line: number;
}

/** The file name stdin has in findings and errors (scan --stdin-filename changes it). */
export const STDIN_NAME = '<stdin>';

/** An input problem a source met: unreadable file, invalid YAML, object without a name. */
export interface InputError {
  /** null for cluster scans. */
  file: string | null;
  line: number | null;
  message: string;
}

/** A resource ready for evaluation: its namespace already defaulted by the source. */
export interface Resource {
  object: KubeObject;
  /** The effective namespace; null for cluster-scoped kinds. */
  namespace: string | null;
  source: SourceRef | null;
  /**
   * Who writes the object, from an AdmissionReview's userInfo; absent where nobody knows (a
   * scan, the controller's audit), and then exemptions by requester cannot be decided.
   */
  requester?: { readonly username: string; readonly groups: readonly string[] };
}

export interface ResourceRef {
  apiVersion: string;
  kind: string;
  namespace: string | null;
  /** metadata.name, or generateName when the object has no name yet. */
  name: string;
  /** metadata.uid, present for objects read from a cluster: PolicyReport results carry it. */
  uid?: string;
}

/** The ids of the rules in the registry, src/engine/rules/index.ts. */
export type RuleId = (typeof RULES)[number]['id'];

export type Action = 'deny' | 'warn' | 'audit';
export type RuleAction = Action | 'off';
/** Ordered from most to least severe; `--fail-on` thresholds compare against this order. */
export const ACTIONS: readonly Action[] = ['deny', 'warn', 'audit'];

/** A violation (status fail) or a rule that could not be evaluated (status error). */
export interface Finding {
  rule: RuleId;
  status: 'fail' | 'error';
  action: Action;
  policy: string;
  tenant: string | null;
  resource: ResourceRef;
  /** Dotted path from the object root, `[i]` for list items: spec.template.spec.containers[0].ports[1].hostPort */
  path: string;
  /** The offending port number; for a network-policy finding, the sensitive port it opens. */
  value: number | null;
  message: string;
  source: SourceRef | null;
  /**
   * Identity of the finding that does not depend on list indexes (rule, container or rule
   * identity, port, protocol): an UPDATE compares old and new objects' findings by it.
   */
  key: string;
  /**
   * The other places that make the finding together with `path`, in object order: for a
   * network-policy finding on the union of ipBlocks, every further rule that adds to it. Read
   * by remediations (the carve-out cuts the port from each); the report formats name `path`
   * only and the message lists the rules. At most one per rule of the object (limits.ts).
   */
  relatedPaths?: readonly string[];
}

/** A rule that was checked and found nothing, or was skipped by an exemption. */
export interface RuleOutcome {
  policy: string;
  rule: RuleId;
  status: 'pass' | 'skip';
  tenant: string | null;
  /** For skips: the exemption's reason. */
  reason?: string;
}

/** Everything the engine says about one resource, in PolicyReport's vocabulary. */
export interface Evaluation {
  resource: ResourceRef;
  source: SourceRef | null;
  findings: Finding[];
  outcomes: RuleOutcome[];
}

/**
 * What the engine needs to know about the cluster, supplied by the door that calls it.
 * Offline scans fill it from Namespace objects in the input; the webhook and controller
 * from their caches.
 */
export interface ClusterFacts {
  /** Labels of a namespace, or undefined when the namespace is not known. */
  namespaceLabels(namespace: string): Labels | undefined;
  /** Node addresses (InternalIP/ExternalIP) seen in the cluster; empty offline. */
  nodeAddresses: readonly string[];
}

export const NO_CLUSTER_FACTS: ClusterFacts = {
  namespaceLabels: () => undefined,
  nodeAddresses: [],
};

/** A port an object takes on the nodes, violating or not: the HTML port map draws these. */
export interface PortUse {
  type: 'hostPort' | 'nodePort';
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  resource: ResourceRef;
  path: string;
  source: SourceRef | null;
}
