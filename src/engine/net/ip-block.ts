// An ipBlock (or Cilium toCIDRSet entry): the addresses of its cidr minus its except list.
import { charge, NETWORK_POLICY_CIDRS } from '../limits.js';
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

// Policies repeat a handful of blocks (0.0.0.0/0, 0.0.0.0/0 except the RFC 1918 ranges, the
// cluster's ranges, an egress proxy) across thousands of objects. Measured per call on Node
// 24: a cached block 0.01 µs; read afresh, a plain IPv4 cidr 0.4-0.6 µs, an IPv6 cidr 1.8 µs,
// 0.0.0.0/0 with three excepts 0.7 µs, against about 23 µs per object for a whole scan.
// So the cache pays for small blocks, and only small blocks are kept: an entry is charged
// its key and its intervals in bytes, an entry over ENTRY_BYTES is never kept (a large except
// list is rare, and its own sort dominates a lookup), and the cache empties when its total
// reaches CACHE_BYTES. What a caller sends can therefore hold at most CACHE_BYTES across
// requests. Keys are charged two bytes a character (V8's two-byte strings), intervals
// INTERVAL_BYTES each (an object and two heap bigints of up to 128 bits, rounded up).
const CACHE_BYTES = 1024 * 1024;
const ENTRY_BYTES = 4096;
const INTERVAL_BYTES = 96;
const ENTRY_OVERHEAD_BYTES = 256;
let cachedBytes = 0;
// What is kept is copied: a parser's strings are slices of the whole file's text, which they
// would keep alive.
const ownCopy = (text: string): string => JSON.parse(JSON.stringify(text)) as string;
// Keyed by the cidr alone, or by the JSON of cidr and except list: keys of the two kinds can
// never collide, whatever characters a (rejected) cidr contains.
const plain = new Map<string, IpBlock>();
const withExcept = new Map<string, IpBlock>();

const entryBytes = (key: string, block: IpBlock): number =>
  ENTRY_OVERHEAD_BYTES + 2 * key.length + INTERVAL_BYTES * (block.addresses.v4.length + block.addresses.v6.length);

/** Throws on a CIDR the API server would not have accepted; the rule turns it into an error finding. */
export function ipBlock(cidr: string, except: readonly string[] = []): IpBlock {
  charge(NETWORK_POLICY_CIDRS, 1 + except.length);
  const cache = except.length === 0 ? plain : withExcept;
  // What could not be kept is not looked up either (its key would be built for nothing): each
  // except entry adds at least five characters to the key ("::" with its quotes and comma).
  if (2 * cidr.length + 10 * except.length > ENTRY_BYTES) return parse(cidr, except);
  const key = except.length === 0 ? cidr : JSON.stringify([cidr, ...except]);
  let block = cache.get(key);
  if (block === undefined) {
    block = parse(ownCopy(cidr), except);
    const bytes = entryBytes(key, block);
    if (bytes > ENTRY_BYTES) return block;
    if (cachedBytes + bytes > CACHE_BYTES) {
      plain.clear();
      withExcept.clear();
      cachedBytes = 0;
    }
    cache.set(except.length === 0 ? ownCopy(key) : key, block);
    cachedBytes += bytes;
  }
  return block;
}

function parse(cidr: string, except: readonly string[]): IpBlock {
  const block = parseBlockOrThrow(cidr);
  const whole = setOf([block]);
  const addresses = except.length === 0 ? whole : subtract(whole, setOf(except.map(parseBlockOrThrow)));
  return { cidr, version: block.version, prefix: block.prefix, addresses };
}
