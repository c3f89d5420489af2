// Reading untyped Kubernetes objects: everything past apiVersion/kind/metadata is unknown
// input, so these narrow instead of casting.
import { charge, NETWORK_POLICY_LIST_ITEMS } from '../limits.js';

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export const objAt = (o: Obj, key: string): Obj | undefined => (isObj(o[key]) ? o[key] : undefined);

/** The list at `key`; its items are charged to the list-item limit while a network policy is read. */
export function listAt(o: Obj, key: string): unknown[] | undefined {
  const v = o[key];
  if (!Array.isArray(v)) return undefined;
  charge(NETWORK_POLICY_LIST_ITEMS, v.length);
  return v as unknown[];
}

/** A port number written as a number or a numeric string; undefined otherwise. */
export function portNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v.trim())) return Number(v.trim());
  return undefined;
}
