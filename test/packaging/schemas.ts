// Validates rendered objects against the API schemas of a current Kubernetes release
// (kubernetes-models 5.1: the OpenAPI of 1.34 or later, compiled to ajv validators),
// cert-manager's CRD schemas (@kubernetes-models/cert-manager) and our own CRD's
// openAPIV3Schema (ajv).
// The Kubernetes OpenAPI does not forbid unknown fields, so a misspelt field passes here;
// the safety assertions read the exact field names and catch those that matter.
import { Ajv } from 'ajv';
import { portPolicyCrd } from '../../src/k8s/crd.js';
import type { K8sObject } from './kustomize.js';

type Model = { validate(): void };
type ModelClass = new (data: unknown) => Model;

function modulePath(apiVersion: string, kind: string): string {
  const slash = apiVersion.indexOf('/');
  const [group, version] = slash < 0 ? ['', apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
  if (group === 'cert-manager.io') return `@kubernetes-models/cert-manager/cert-manager.io/${version}/${kind}`;
  return group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/${version}/${kind}`;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const crd = portPolicyCrd() as { spec: { group: string; versions: { name: string; schema: { openAPIV3Schema: object } }[] } };
const ownSchemas = new Map<string, ReturnType<typeof ajv.compile>>(
  crd.spec.versions.map((v) => [`${crd.spec.group}/${v.name}/PortPolicy`, ajv.compile(v.schema.openAPIV3Schema)] as const),
);

/** Every schema error of one object as `path: message` lines; [] when it is valid. */
export async function schemaErrors(object: K8sObject): Promise<string[]> {
  const own = ownSchemas.get(`${object.apiVersion}/${object.kind}`);
  if (own) return own(object) ? [] : (own.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message}`);
  let Kind: ModelClass;
  try {
    const mod = (await import(modulePath(object.apiVersion, object.kind))) as Record<string, ModelClass>;
    Kind = mod[object.kind];
  } catch {
    return [`no schema for ${object.apiVersion} ${object.kind}`];
  }
  try {
    new Kind(object).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: { instancePath: string; message?: string }[] }).errors;
    return errors ? errors.map((e) => `${e.instancePath || '/'}: ${e.message}`) : [String(err)];
  }
}
