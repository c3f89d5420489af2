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

// Policies repeat a handful of CIDRs (0.0.0.0/0, the cluster's ranges, an egress proxy) across
// thousands of objects, and parsing one (syntax checks, then bigint arithmetic) costs more than
// judging the rule. Blocks are immutable, so they are shared; the bound keeps a scan of
// generated policies with ever-new CIDRs from growing the cache without end. What is kept is
// copied: a parser's strings are slices of the whole file's text, which they would keep alive.
const CACHE_LIMIT = 1024;
const ownCopy = (text: string): string => JSON.parse(JSON.stringify(text)) as string;
// Keyed by the cidr alone, or by the JSON of cidr and except list: keys of the two kinds can
// never collide, whatever characters a (rejected) cidr contains.
const plain = new Map<string, IpBlock>();
const withExcept = new Map<string, IpBlock>();

/** Throws on a CIDR the API server would not have accepted; the rule turns it into an error finding. */
export function ipBlock(cidr: string, except: readonly string[] = []): IpBlock {
  const cache = except.length === 0 ? plain : withExcept;
  const key = except.length === 0 ? cidr : JSON.stringify([cidr, ...except]);
  let block = cache.get(key);
  if (block === undefined) {
    block = parse(ownCopy(cidr), except);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(except.length === 0 ? ownCopy(key) : key, block);
  }
  return block;
}

function parse(cidr: string, except: readonly string[]): IpBlock {
  const block = parseBlockOrThrow(cidr);
  const addresses = subtract(setOf([block]), setOf(except.map(parseBlockOrThrow)));
  return { cidr, version: block.version, prefix: block.prefix, addresses };
}
