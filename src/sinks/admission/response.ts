// AdmissionReview responses, built only by outcome-named helpers (controller-runtime's
// response.go): allowed, denied, patched, errored. Nothing else writes a response by hand.
import type { Operation as PatchOperation } from 'fast-json-patch';
import { ADMISSION_KIND } from '../../k8s/admission-review.js';

export interface ResponseStatus {
  /** 403 for a denial, the HTTP-like code of the problem for errors. */
  code: number;
  message: string;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: ResponseStatus;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
  patchType?: 'JSONPatch';
  /** base64 of the RFC 6902 JSON Patch. */
  patch?: string;
}

export interface AdmissionReviewResponse {
  apiVersion: string;
  kind: typeof ADMISSION_KIND;
  response: AdmissionResponse;
}

export interface Notes {
  warnings?: readonly string[];
  auditAnnotations?: Readonly<Record<string, string>>;
}

function withNotes(response: AdmissionResponse, notes: Notes): AdmissionResponse {
  if (notes.warnings && notes.warnings.length > 0) response.warnings = [...notes.warnings];
  if (notes.auditAnnotations && Object.keys(notes.auditAnnotations).length > 0) response.auditAnnotations = { ...notes.auditAnnotations };
  return response;
}

export const allowed = (uid: string, notes: Notes = {}): AdmissionResponse => withNotes({ uid, allowed: true }, notes);

/** A policy decision against the object: the API server shows `message` to the user as is. */
export const denied = (uid: string, message: string, notes: Notes = {}): AdmissionResponse =>
  withNotes({ uid, allowed: false, status: { code: 403, message } }, notes);

/** Allowed with edits; an empty patch is a plain allow (a second /mutate call returns no patch). */
export function patched(uid: string, patch: readonly PatchOperation[], notes: Notes = {}): AdmissionResponse {
  if (patch.length === 0) return allowed(uid, notes);
  return withNotes({ uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') }, notes);
}

/** The request could not be judged (bad input, internal error): never an allow. */
export const errored = (uid: string, code: number, message: string): AdmissionResponse => ({ uid, allowed: false, status: { code, message } });

/** Wraps a response in the AdmissionReview envelope, echoing the request's apiVersion. */
export const reviewOf = (apiVersion: string, response: AdmissionResponse): AdmissionReviewResponse => ({ apiVersion, kind: ADMISSION_KIND, response });
