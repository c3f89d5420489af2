// Port ownership in CEL, as src/engine/facts/owners.ts and src/engine/policy/owners.ts read
// it from the object alone: the object's own kind and name, the kinds and names of its
// ownerReferences, a ReplicaSet owner's Deployment (<deployment>-<pod-template-hash>), and for
// a Pod whether it is a mirror pod (a Node owner or the kubernetes.io/config.mirror
// annotation), whose name may carry the node's after a dash.
import type { OwnerSpec, PortEntry } from '../../engine/policy/model.js';
import { globMatch, globRegex, globsMatch, list, str } from './cel.js';
import type { Variable } from './scope.js';

const REFS =
  '(has(object.metadata.ownerReferences) && type(object.metadata.ownerReferences) == list ? object.metadata.ownerReferences.filter(r, type(r) == map && has(r.kind) && type(r.kind) == string && has(r.name) && type(r.name) == string) : [])';

const NAME = "(has(object.metadata.name) && type(object.metadata.name) == string ? object.metadata.name : '')";

const HASH =
  "(has(object.metadata.labels) && 'pod-template-hash' in object.metadata.labels && type(object.metadata.labels['pod-template-hash']) == string ? object.metadata.labels['pod-template-hash'] : '')";

/** The Deployment of a ReplicaSet owner `r`: its name less `-<hash>`, or less the last dash-part without a hash label. */
const HAS_DEPLOYMENT = "(variables.podTemplateHash != '' ? r.name.endsWith('-' + variables.podTemplateHash) : r.name.lastIndexOf('-') > 0)";
const DEPLOYMENT =
  "(variables.podTemplateHash != '' ? r.name.substring(0, size(r.name) - size(variables.podTemplateHash) - 1) : r.name.substring(0, r.name.lastIndexOf('-')))";

export const ownerVariables: Variable[] = [
  { name: 'podTemplateHash', expression: HASH },
  {
    name: 'workloads',
    expression:
      `[{'kind': object.kind, 'name': ${NAME}}] + ${REFS}.map(r, {'kind': r.kind, 'name': r.name}) + ` +
      `${REFS}.filter(r, r.kind == 'ReplicaSet' && ${HAS_DEPLOYMENT}).map(r, {'kind': 'Deployment', 'name': ${DEPLOYMENT}})`,
  },
  {
    name: 'mirrorPod',
    expression:
      `object.kind == 'Pod' && (${REFS}.exists(r, r.kind == 'Node') || (has(object.metadata.annotations) && type(object.metadata.annotations) == map && ` +
      `'kubernetes.io/config.mirror' in object.metadata.annotations && type(object.metadata.annotations['kubernetes.io/config.mirror']) == string))`,
  },
];

function ownerMatch(o: OwnerSpec): string {
  const ns = globsMatch('request.namespace', o.namespaces);
  if (o.kind !== 'StaticPod') return `(${ns} && variables.workloads.exists(w, w.kind == ${str(o.kind)} && ${globMatch('w.name', o.name)}))`;
  // <name> itself, or on a mirror pod <name>-<node> for any dash after a non-empty prefix.
  const name = `object.kind == 'Pod' && (${globMatch(NAME, o.name)} || (variables.mirrorPod && !${NAME}.startsWith('-') && ${NAME}.matches(${str(`^(${globRegex(o.name)})-.+$`)})))`;
  return `(${ns} && ${name})`;
}

/**
 * `owned`: per catalog entry, in catalog order, whether the object is one of its owners. A
 * namespace of a tenant owns nothing, nor does a cluster-scoped object.
 */
export function ownedVariable(entries: readonly PortEntry[]): Variable {
  const each = entries.map((e) => (e.owners.length === 0 ? 'false' : e.owners.map((o) => ownerMatch(o.spec)).join(' || ')));
  return { name: 'owned', expression: `variables.tenant != -1 || request.namespace == '' ? ${list(entries.map(() => 'false'))} : ${list(each)}` };
}
