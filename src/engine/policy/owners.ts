// Owners of reserved ports, compiled once at policy load. An owner matches a resource in one of
// its namespaces whose own kind and name, or an owner's from its ownerReferences, match.
//
// StaticPod owners stand for the control plane's static pods, which no workload owns: the
// kubelet runs them from manifests in its static-pod directory (bare name, e.g. etcd) and
// mirrors each into the API server as <name>-<node> with the kubernetes.io/config.mirror
// annotation and a Node owner reference. The suffixed name counts only on such a mirror pod,
// so an ordinary pod named etcd-anything owns nothing.
import { compileGlob, compileGlobs } from '../match.js';
import type { Owner, OwnerFacts, OwnerSpec } from './model.js';

function staticPodMatcher(name: (n: string) => boolean): (facts: OwnerFacts) => boolean {
  return ({ pod }) => {
    if (pod === null) return false;
    if (name(pod.name)) return true;
    if (!pod.mirror) return false;
    // <name>-<node>: node names may contain dashes, so every split point is tried.
    for (let i = pod.name.indexOf('-'); i > 0; i = pod.name.indexOf('-', i + 1)) {
      if (i < pod.name.length - 1 && name(pod.name.slice(0, i))) return true;
    }
    return false;
  };
}

export function compileOwner(spec: OwnerSpec): Owner {
  const namespaces = compileGlobs(spec.namespaces);
  const name = compileGlob(spec.name);
  const kind = spec.kind;
  const matchesWorkload = kind === 'StaticPod' ? staticPodMatcher(name) : (facts: OwnerFacts) => facts.workloads.some((w) => w.kind === kind && name(w.name));
  return { matches: (namespace, facts) => namespaces(namespace) && matchesWorkload(facts), spec };
}
