// What every scan source (manifest files, stdin, a live cluster) hands to the scan loop:
// a stream of items, plus the cluster facts (namespace labels, node addresses) that must be
// known before the first resource is evaluated.
import type { ClusterFacts, Resource, SourceRef } from '../engine/types.js';
import type { InputError } from '../engine/types.js';

export type SourceItem =
  | { type: 'resource'; resource: Resource }
  /** A document of a kind the engine does not check, or not a Kubernetes object at all. */
  /** kind and apiVersion are null for a document that is no Kubernetes object. */
  | { type: 'skipped'; source: SourceRef | null; apiVersion: string | null; kind: string | null; name?: string; reason: string }
  | { type: 'error'; error: InputError }
  /** For the progress line on a terminal; `total` is null while unknown. */
  | { type: 'progress'; done: number; total: number | null; unit: string };

export interface ScanSource {
  /**
   * Resolved once, before `items()` is read: offline, the labels of the Namespace objects
   * found anywhere in the input (a first pass); in a cluster, Namespaces and Nodes.
   */
  facts(): Promise<ClusterFacts>;
  items(): AsyncIterable<SourceItem>;
  /**
   * The same items in batches (a file, a page of a list), read by the scan loop when present:
   * one await per batch instead of one per object keeps promise machinery out of the
   * per-object cost (about a tenth of a 100,000-object scan). A batch may be a lazy
   * generator, so a large file is never held parsed as a whole.
   */
  batches?(): AsyncIterable<Iterable<SourceItem>>;
}
