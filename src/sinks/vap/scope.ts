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

/** `exempt`: some exemption of the policy covers this rule for this object; null when none can. */
export function exemptVariable(policy: CompiledPolicy, rule: RuleId): Variable | null {
  const terms: string[] = [];
  for (const e of policy.spec.exemptions ?? []) {
    // Not compiled: exemptions by image or by requester. Read as plain namespace/kind/name
    // exemptions they would exempt every image and every requester; left out, the exported
    // policy is stricter than the webhook, never looser.
    if (e.images || e.users || e.groups || e.serviceAccounts) continue;
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
    terms.push(parts.length === 0 ? 'true' : `(${parts.join(' && ')})`);
  }
  if (terms.length === 0) return null;
  return { name: 'exempt', expression: terms.join(' || ') };
}
