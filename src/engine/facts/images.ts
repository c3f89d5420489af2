// The images of a pod spec, every container list included (init containers, sidecars, which are
// init containers with restartPolicy Always, and ephemeral containers): an image exemption
// holds only when all of them match.
import type { CheckedKind } from './kinds.js';
import { isObj, listAt, objAt, type Obj } from './object.js';

const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

/** null for an object without a pod spec; a container without an image counts as "" (no match). */
export function podImages(object: Obj, kind: CheckedKind): string[] | null {
  if (kind.type !== 'workload') return null;
  let spec: Obj | undefined = object;
  for (const key of kind.podSpecPath) spec = spec && objAt(spec, key);
  if (!spec) return null;
  const images: string[] = [];
  for (const list of CONTAINER_LISTS) {
    for (const c of listAt(spec, list) ?? []) images.push(isObj(c) && typeof c.image === 'string' ? c.image : '');
  }
  return images;
}
