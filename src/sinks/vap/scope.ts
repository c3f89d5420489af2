// Who the object is to the policy, in CEL: its tenant (src/engine/evaluate.ts tenantOf: the
// first tenant whose namespace names or globs match, or whose namespaceSelector matches the
// namespace's labels, read from namespaceObject) and whether an exemption covers a rule
// (src/engine/policy/load.ts: namespace, kind and name globs). Both are compiled from the
// policy at export time.
import type { CompiledPolicy } from '../../engine/policy/model.js';
import type { RuleId } from '../../engine/types.js';
import { globsMatch, selectorMatch } from './cel.js';

export interface Variable {
  name: string;
  expression: string;
}

/** The request's namespace; '' for cluster-scoped objects, which belong to no tenant. */
const NAMESPACE = 'request.namespace';

const LABELS = 'variables.namespaceLabels';

export const namespaceLabelsVariable: Variable = {
  name: 'namespaceLabels',
  expression: 'namespaceObject != null && has(namespaceObject.metadata) && has(namespaceObject.metadata.labels) ? namespaceObject.metadata.labels : {}',
};

/** `tenant`: the index of the object's tenant in spec.tenants, -1 for none. */
export function tenantVariable(policy: CompiledPolicy): Variable {
  let expression = '-1';
  const specs = policy.spec.tenants ?? [];
  for (let i = specs.length - 1; i >= 0; i--) {
    const t = specs[i];
    const terms = [
      ...((t.namespaces ?? []).length > 0 ? [globsMatch(NAMESPACE, t.namespaces!)] : []),
      ...(t.namespaceSelector ? [`(${selectorMatch(LABELS, t.namespaceSelector)})`] : []),
    ];
    expression = `${terms.length === 0 ? 'false' : terms.join(' || ')} ? ${i} : ${expression}`;
  }
  return { name: 'tenant', expression: specs.length === 0 ? '-1' : `${NAMESPACE} == '' ? -1 : (${expression})` };
}

/** The name the engine reports (metadata.name, else generateName, else ''). */
const OBJECT_NAME =
  "(has(object.metadata.name) && type(object.metadata.name) == string ? object.metadata.name : (has(object.metadata.generateName) && type(object.metadata.generateName) == string ? object.metadata.generateName : ''))";

const USERNAME = "(has(request.userInfo.username) ? request.userInfo.username : '')";
const GROUPS = '(has(request.userInfo.groups) ? request.userInfo.groups : [])';

/** `exempt`: some exemption of the policy covers this rule for this object; null when none can. */
export function exemptVariable(policy: CompiledPolicy, rule: RuleId): Variable | null {
  const terms: string[] = [];
  for (const e of policy.spec.exemptions ?? []) {
    const rules = e.rules ?? ['*'];
    // Rule globs are matched here, at export: the rule is known.
    const re = rules.map(
      (g) =>
        new RegExp(
          `^${g
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '.*')
            .replace(/\?/g, '.')}$`,
        ),
    );
    if (!re.some((r) => r.test(rule))) continue;
    const parts = [globsMatch(NAMESPACE, e.namespaces ?? ['*']), globsMatch('object.kind', e.kinds ?? ['*']), globsMatch(OBJECT_NAME, e.names ?? ['*'])].filter(
      (p) => p !== 'true',
    );
    // The requester, from request.userInfo as the webhook reads it: a user name, a group, or a
    // ServiceAccount (system:serviceaccount:<namespace>:<name>) as namespace/name.
    if (e.users || e.groups || e.serviceAccounts) {
      const who: string[] = [];
      if (e.users) who.push(globsMatch(USERNAME, e.users));
      if (e.groups) who.push(`${GROUPS}.exists(g, ${globsMatch('g', e.groups)})`);
      if (e.serviceAccounts) {
        who.push(
          `(${USERNAME}.matches('^system:serviceaccount:[^:]+:[^:]+$') && ${globsMatch(`(${USERNAME}.split(':')[2] + '/' + ${USERNAME}.split(':')[3])`, e.serviceAccounts)})`,
        );
      }
      parts.push(`(${who.join(' || ')})`);
    }
    // Exemptions by image are read as if every image matched: the exported policy then exempts
    // more than the webhook, never less, and the webhook judges images (docs/vap.md).
    terms.push(parts.length === 0 ? 'true' : `(${parts.join(' && ')})`);
  }
  if (terms.length === 0) return null;
  return { name: 'exempt', expression: terms.join(' || ') };
}
