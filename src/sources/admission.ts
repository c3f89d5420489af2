// AdmissionReview (admission.k8s.io/v1) → a typed request and the Resources it carries.
// Input problems are values with the uid and apiVersion to echo, so even a bad request
// gets an AdmissionReview back (the API server matches replies by uid).
import type { KubeObject, Resource } from '../engine/types.js';

import { ADMISSION_API_VERSION, ADMISSION_KIND } from '../k8s/admission-review.js';

export { ADMISSION_API_VERSION, ADMISSION_KIND };

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
const OPERATIONS: readonly string[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource: { group: string; version: string; resource: string };
  /** 'status', 'scale', … or '' for the object itself. */
  subResource: string;
  /** Empty on CREATE for objects named by generateName. */
  name: string;
  /** Empty for cluster-scoped objects. */
  namespace: string;
  operation: Operation;
  /** null on DELETE. */
  object: KubeObject | null;
  /** Present on UPDATE (and DELETE). */
  oldObject: KubeObject | null;
  dryRun: boolean;
  userInfo: { username?: string; uid?: string; groups?: string[] } | null;
}

export interface ParsedReview {
  ok: true;
  apiVersion: string;
  request: AdmissionRequest;
}

/** Why a body is not a usable AdmissionReview, with what is known to echo. */
export interface ReviewProblem {
  ok: false;
  apiVersion: string;
  uid: string;
  message: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * A field's value for an error message, which goes back to the API server and into the log:
 * a short string as is, anything else by its type only (a body that puts an object where
 * `kind` belongs may carry a pod spec, and pod specs carry secrets).
 */
const shown = (v: unknown): string =>
  typeof v === 'string' && v.length <= 63
    ? JSON.stringify(v)
    : v === undefined || v === null
      ? 'missing'
      : `a ${Array.isArray(v) ? 'list' : typeof v === 'string' ? 'long string' : typeof v}`;

function gvk(v: unknown): GroupVersionKind | null {
  if (!isObject(v) || typeof v.kind !== 'string' || v.kind === '' || typeof v.version !== 'string') return null;
  return { group: str(v.group), version: v.version, kind: v.kind };
}

/** The object as the engine types it; apiVersion and kind filled from request.kind when absent. */
function kubeObject(v: unknown, kind: GroupVersionKind): KubeObject | null {
  if (!isObject(v)) return null;
  const apiVersion = typeof v.apiVersion === 'string' && v.apiVersion ? v.apiVersion : kind.group ? `${kind.group}/${kind.version}` : kind.version;
  const metadata = isObject(v.metadata) ? v.metadata : {};
  return { ...v, apiVersion, kind: typeof v.kind === 'string' && v.kind ? v.kind : kind.kind, metadata };
}

/** Checks the shape the handler relies on; anything else is a ReviewProblem naming the field. */
export function parseAdmissionReview(body: unknown): ParsedReview | ReviewProblem {
  const problem = (message: string, apiVersion = ADMISSION_API_VERSION, uid = ''): ReviewProblem => ({ ok: false, apiVersion, uid, message });
  if (!isObject(body)) return problem('the body is not a JSON object; expected an admission.k8s.io/v1 AdmissionReview');
  const request = isObject(body.request) ? body.request : null;
  const uid = request ? str(request.uid) : '';
  const echoVersion = typeof body.apiVersion === 'string' && /^admission\.k8s\.io\/v\w{1,16}$/.test(body.apiVersion) ? body.apiVersion : ADMISSION_API_VERSION;
  if (body.kind !== ADMISSION_KIND) return problem(`kind is ${shown(body.kind)}; expected AdmissionReview`, echoVersion, uid);
  if (body.apiVersion !== ADMISSION_API_VERSION) {
    return problem(
      `${body.apiVersion === undefined ? 'apiVersion is missing' : `apiVersion ${shown(body.apiVersion)} is not supported`}; portcullis speaks admission.k8s.io/v1 (set admissionReviewVersions: [v1])`,
      echoVersion,
      uid,
    );
  }
  if (!request) return problem('request is missing; expected an AdmissionReview with a request', echoVersion);
  if (uid === '') return problem('request.uid is missing', echoVersion);
  const bad = (message: string) => problem(message, echoVersion, uid);
  if (typeof request.operation !== 'string' || !OPERATIONS.includes(request.operation)) {
    return bad(`request.operation is ${shown(request.operation)}; expected CREATE, UPDATE, DELETE or CONNECT`);
  }
  const kind = gvk(request.kind);
  if (!kind) return bad('request.kind is missing or has no kind and version');
  const operation = request.operation as Operation;
  const object = kubeObject(request.object, kind);
  const oldObject = kubeObject(request.oldObject, kind);
  if ((operation === 'CREATE' || operation === 'UPDATE') && !object) return bad(`request.object is missing; a ${operation} carries the object`);
  // The API server sends the object as the kind request.kind names (converted to its version
  // when the webhook matched an equivalent one). A review where they differ is not one it
  // sent: judged by request.kind it could skip a Pod as a ConfigMap, judged by the object's
  // kind the reverse, so it is refused. The version is not compared (conversion changes it).
  for (const [field, o] of [
    ['object', object],
    ['oldObject', oldObject],
  ] as const) {
    const group = o && (o.apiVersion.includes('/') ? o.apiVersion.slice(0, o.apiVersion.indexOf('/')) : '');
    if (o && (o.kind !== kind.kind || group !== kind.group)) {
      return bad(`request.${field} is kind ${shown(o.kind)} in group ${shown(group)}; request.kind says ${shown(kind.kind)} in group ${shown(kind.group)}`);
    }
  }
  const resource = isObject(request.resource) ? request.resource : {};
  const userInfo = isObject(request.userInfo) ? (request.userInfo as AdmissionRequest['userInfo']) : null;
  return {
    ok: true,
    apiVersion: ADMISSION_API_VERSION,
    request: {
      uid,
      kind,
      resource: { group: str(resource.group), version: str(resource.version), resource: str(resource.resource) },
      subResource: str(request.subResource),
      name: str(request.name),
      namespace: str(request.namespace),
      operation,
      object,
      oldObject,
      dryRun: request.dryRun === true,
      userInfo,
    },
  };
}

/** The request's object (and old object) as engine Resources; the namespace comes from the request. */
export function admissionResource(request: AdmissionRequest, object: KubeObject): Resource {
  const namespace = request.namespace || (typeof object.metadata.namespace === 'string' ? object.metadata.namespace : '') || null;
  // The API server sets userInfo; a review without it has a requester no exemption names.
  const groups = Array.isArray(request.userInfo?.groups) ? request.userInfo.groups.filter((g): g is string => typeof g === 'string') : [];
  const username = typeof request.userInfo?.username === 'string' ? request.userInfo.username : '';
  return { object, namespace, source: null, requester: { username, groups } };
}
