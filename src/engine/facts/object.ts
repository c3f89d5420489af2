// Reading untyped Kubernetes objects: everything past apiVersion/kind/metadata is unknown
// input, so these narrow instead of casting.

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export const objAt = (o: Obj, key: string): Obj | undefined => (isObj(o[key]) ? (o[key] as Obj) : undefined);

export const listAt = (o: Obj, key: string): unknown[] | undefined => (Array.isArray(o[key]) ? (o[key] as unknown[]) : undefined);

/** A port number written as a number or a numeric string; undefined otherwise. */
export function portNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v.trim())) return Number(v.trim());
  return undefined;
}
