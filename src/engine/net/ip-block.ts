// An ipBlock (or Cilium toCIDRSet entry): the addresses of its cidr minus its except list.
import { setOf, subtract, type AddressSet } from './address-set.js';
import { parseBlockOrThrow } from './cidr.js';

export interface IpBlock {
  /** The cidr as written, for messages. */
  readonly cidr: string;
  readonly version: 4 | 6;
  /** Prefix length of the cidr after reading IPv4-mapped blocks as IPv4. */
  readonly prefix: number;
  readonly addresses: AddressSet;
}

/** Throws on a CIDR the API server would not have accepted; the rule turns it into an error finding. */
export function ipBlock(cidr: string, except: readonly string[] = []): IpBlock {
  const block = parseBlockOrThrow(cidr);
  const addresses = subtract(setOf([block]), setOf(except.map(parseBlockOrThrow)));
  return { cidr, version: block.version, prefix: block.prefix, addresses };
}
