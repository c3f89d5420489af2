// Validates rendered objects against the API schemas of a current Kubernetes release
// (kubernetes-models 5.1: the OpenAPI of 1.34 or later, compiled to ajv validators),
// cert-manager's and the Prometheus Operator's CRD schemas (@kubernetes-models/cert-manager,
// @kubernetes-models/prometheus-operator) and our own CRD's
// openAPIV3Schema (ajv).
// The Kubernetes OpenAPI does not forbid unknown fields, so a misspelt field passes here;
// the safety assertions read the exact field names and catch those that matter.
import * as k8s from '@kubernetes/client-node';
import { Ajv } from 'ajv';
import { portPolicyCrd } from '../../src/k8s/crd.js';
import type { K8sObject } from './kustomize.js';

type Model = { validate(): void };
type ModelClass = new (data: unknown) => Model;

function modulePath(apiVersion: string, kind: string): string {
  const slash = apiVersion.indexOf('/');
  const [group, version] = slash < 0 ? ['', apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
  if (group === 'cert-manager.io') return `@kubernetes-models/cert-manager/cert-manager.io/${version}/${kind}`;
  if (group === 'monitoring.coreos.com') return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}/${kind}`;
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

// --- unknown fields ---------------------------------------------------------------------
// The schemas above accept fields they do not know, as the API server's OpenAPI does; the
// API server itself drops them with a warning, or rejects them under kubectl's strict field
// validation. A misspelt field (`readOnlyRootFileSystem`, `timeoutSecond`) would otherwise
// pass every test and silently do nothing. The generated models of @kubernetes/client-node
// (a runtime dependency) list every field of every built-in type: walk the object along them.

type Attribute = { baseName: string; type: string };
type ModelType = { getAttributeTypeMap(): Attribute[] };
const models = k8s as unknown as Record<string, ModelType | undefined>;

function walk(value: unknown, type: string, at: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, array[1], `${at}/${i}`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, map[1], `${at}/${k}`, out);
    return;
  }
  const model = models[type];
  if (!model?.getAttributeTypeMap || typeof value !== 'object' || Array.isArray(value)) return; // string, number, any, IntOrString...
  const attributes = model.getAttributeTypeMap();
  for (const [k, v] of Object.entries(value)) {
    const attribute = attributes.find((a) => a.baseName === k);
    if (!attribute) out.push(`${at || '/'}: unknown field "${k}" of ${type}`);
    else walk(v, attribute.type, `${at}/${k}`, out);
  }
}

/**
 * Fields of a built-in object that its Kubernetes type does not have; null when the kind is
 * not a built-in one (cert-manager's and our own kinds are checked by their CRD schemas).
 */
export function unknownFields(object: K8sObject): string[] | null {
  const version = object.apiVersion.split('/').pop()!;
  const type = `V${version.slice(1)}${object.kind}`;
  if (!models[type]?.getAttributeTypeMap) return null;
  const out: string[] = [];
  walk(object, type, '', out);
  return out;
}
