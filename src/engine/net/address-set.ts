// Sets of IP addresses as interval lists (intervals.ts) per IP version. ipBlock analysis
// needs set difference (cidr minus except), intersection with the node addresses and
// counting; CIDR lists alone cannot answer "two or more node addresses".
import type { Block } from './cidr.js';
import * as intervals from './intervals.js';
import type { Intervals } from './intervals.js';

export interface AddressSet {
  readonly v4: Intervals;
  readonly v6: Intervals;
}

export const EMPTY_SET: AddressSet = { v4: [], v6: [] };

export function setOf(blocks: readonly Block[]): AddressSet {
  const v4: Block[] = [];
  const v6: Block[] = [];
  for (const b of blocks) (b.version === 4 ? v4 : v6).push(b);
  return { v4: intervals.normalise(v4), v6: intervals.normalise(v6) };
}

/** Every address of every set, merged in one sort (a pairwise fold would be quadratic in the sets). */
export function unionAll(sets: readonly AddressSet[]): AddressSet {
  return { v4: intervals.unionAll(sets.map((s) => s.v4)), v6: intervals.unionAll(sets.map((s) => s.v6)) };
}

export const union = (a: AddressSet, b: AddressSet): AddressSet => unionAll([a, b]);

export function subtract(a: AddressSet, b: AddressSet): AddressSet {
  return { v4: intervals.subtract(a.v4, b.v4), v6: intervals.subtract(a.v6, b.v6) };
}

export function intersect(a: AddressSet, b: AddressSet): AddressSet {
  return { v4: intervals.intersect(a.v4, b.v4), v6: intervals.intersect(a.v6, b.v6) };
}

/** Number of addresses in the set (both versions). */
export const size = (a: AddressSet): bigint => intervals.count(a.v4) + intervals.count(a.v6);

/** Number of addresses of one IP version in the set. */
export const sizeOf = (a: AddressSet, version: 4 | 6): bigint => intervals.count(version === 4 ? a.v4 : a.v6);

/**
 * Number of addresses a and b share, counting no further than `atMost`: it costs the shorter
 * list and a binary search per interval, so a thousand-node cluster's addresses are not walked
 * once per peer.
 */
export function countCommon(a: AddressSet, b: AddressSet, atMost: bigint): bigint {
  const v4 = intervals.countCommon(a.v4, b.v4, atMost);
  return v4 >= atMost ? v4 : v4 + intervals.countCommon(a.v6, b.v6, atMost - v4);
}

/** countCommon for one IP version. */
export function countCommonOf(a: AddressSet, b: AddressSet, version: 4 | 6, atMost: bigint): bigint {
  return version === 4 ? intervals.countCommon(a.v4, b.v4, atMost) : intervals.countCommon(a.v6, b.v6, atMost);
}

export const isEmpty = (a: AddressSet): boolean => a.v4.length === 0 && a.v6.length === 0;

export const overlaps = (a: AddressSet, b: AddressSet): boolean => intervals.overlaps(a.v4, b.v4) || intervals.overlaps(a.v6, b.v6);

/** True when every address of `inner` is in `outer`. */
export const isSubset = (inner: AddressSet, outer: AddressSet): boolean => intervals.isSubset(inner.v4, outer.v4) && intervals.isSubset(inner.v6, outer.v6);
