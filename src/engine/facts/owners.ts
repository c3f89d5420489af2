// Ownership facts: who a resource is, read from the object alone (no API reads). A Pod of the
// cilium DaemonSet names it in its ownerReferences; a Deployment's pods name their ReplicaSet,
// <deployment>-<pod-template-hash> (the hash is also the pods' pod-template-hash label), so the
// Deployment's name is the ReplicaSet's without that suffix.
import type { OwnerFacts } from '../policy/model.js';
import type { KubeObject } from '../types.js';
import { isObj } from './object.js';

const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

function deploymentOf(replicaSet: string, hash: unknown): string | null {
  if (typeof hash === 'string' && hash !== '') {
    return replicaSet.endsWith(`-${hash}`) ? replicaSet.slice(0, -hash.length - 1) : null;
  }
  const dash = replicaSet.lastIndexOf('-');
  return dash > 0 ? replicaSet.slice(0, dash) : null;
}

export function ownerFacts(object: KubeObject): OwnerFacts {
  const meta = object.metadata ?? {};
  const name = typeof meta.name === 'string' ? meta.name : '';
  const workloads: { kind: string; name: string }[] = [{ kind: object.kind, name }];
  let nodeOwned = false;
  const refs = Array.isArray(meta.ownerReferences) ? meta.ownerReferences : [];
  for (const ref of refs) {
    if (!isObj(ref) || typeof ref.kind !== 'string' || typeof ref.name !== 'string') continue;
    workloads.push({ kind: ref.kind, name: ref.name });
    if (ref.kind === 'Node') nodeOwned = true;
    if (ref.kind === 'ReplicaSet') {
      const deployment = deploymentOf(ref.name, meta.labels?.['pod-template-hash']);
      if (deployment !== null) workloads.push({ kind: 'Deployment', name: deployment });
    }
  }
  const annotations = isObj(meta.annotations) ? meta.annotations : {};
  const pod = object.kind === 'Pod' ? { name, mirror: nodeOwned || typeof annotations[MIRROR_ANNOTATION] === 'string' } : null;
  return { workloads, pod };
}
