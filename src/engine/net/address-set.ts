// Sets of IP addresses as sorted, disjoint, non-adjacent inclusive intervals per IP version.
// ipBlock analysis needs set difference (cidr minus except), intersection with the node
// addresses and counting; CIDR lists alone cannot answer "two or more node addresses".
import type { Block } from './cidr.js';

export interface Interval {
  readonly start: bigint;
  readonly end: bigint;
}

export interface AddressSet {
  readonly v4: readonly Interval[];
  readonly v6: readonly Interval[];
}

export const EMPTY_SET: AddressSet = { v4: [], v6: [] };

function normalise(intervals: Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: { start: bigint; end: bigint }[] = [];
  for (const i of sorted) {
    const last = out.at(-1);
    if (last && i.start <= last.end + 1n) {
      if (i.end > last.end) last.end = i.end;
    } else {
      out.push({ start: i.start, end: i.end });
    }
  }
  return out;
}

export function setOf(blocks: readonly Block[]): AddressSet {
  return {
    v4: normalise(blocks.filter((b) => b.version === 4)),
    v6: normalise(blocks.filter((b) => b.version === 6)),
  };
}

export function union(a: AddressSet, b: AddressSet): AddressSet {
  return { v4: normalise([...a.v4, ...b.v4]), v6: normalise([...a.v6, ...b.v6]) };
}

function subtractIntervals(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const i of a) {
    let pieces: Interval[] = [i];
    for (const x of b) {
      pieces = pieces.flatMap((p) => {
        if (x.end < p.start || x.start > p.end) return [p];
        const left = x.start > p.start ? [{ start: p.start, end: x.start - 1n }] : [];
        const right = x.end < p.end ? [{ start: x.end + 1n, end: p.end }] : [];
        return [...left, ...right];
      });
    }
    out.push(...pieces);
  }
  return normalise(out);
}

export function subtract(a: AddressSet, b: AddressSet): AddressSet {
  return { v4: subtractIntervals(a.v4, b.v4), v6: subtractIntervals(a.v6, b.v6) };
}

function intersectIntervals(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const x of a) {
    for (const y of b) {
      const start = x.start > y.start ? x.start : y.start;
      const end = x.end < y.end ? x.end : y.end;
      if (start <= end) out.push({ start, end });
    }
  }
  return normalise(out);
}

export function intersect(a: AddressSet, b: AddressSet): AddressSet {
  return { v4: intersectIntervals(a.v4, b.v4), v6: intersectIntervals(a.v6, b.v6) };
}

/** Number of addresses in the set (both versions). */
export function size(a: AddressSet): bigint {
  return [...a.v4, ...a.v6].reduce((n, i) => n + (i.end - i.start + 1n), 0n);
}

export const isEmpty = (a: AddressSet): boolean => a.v4.length === 0 && a.v6.length === 0;

export const overlaps = (a: AddressSet, b: AddressSet): boolean => !isEmpty(intersect(a, b));

/** True when every address of `inner` is in `outer`. */
export const isSubset = (inner: AddressSet, outer: AddressSet): boolean => isEmpty(subtract(inner, outer));
