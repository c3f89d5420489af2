// CIDR parsing as lenient as the API server still accepts (cidr-tools reads unusual IPv4 spellings).
// The API server validates ipBlocks with k8s.io/utils/net ParseCIDRSloppy: leading zeros in
// IPv4 octets are read as decimal (Go before 1.17 behaviour) and host bits are allowed.
import { parseCidr } from 'cidr-tools';

/** One CIDR block as an inclusive address interval. */
export interface Block {
  readonly version: 4 | 6;
  readonly start: bigint;
  readonly end: bigint;
  readonly prefix: number;
}

// An IPv4-mapped IPv6 block ::ffff:a.b.c.d/(96+n) is the IPv4 block a.b.c.d/n, as Go-based
// CNIs read it (net.ParseCIDR then To4()). The dotted short form is rewritten before parsing
// (so its octets get the same leading-zero leniency); any other spelling of the same block
// (0:0:0:0:0:ffff:10.0.0.0/104, ::ffff:a00:0/104) is converted after parsing.
const V4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,3})$/i;
const V4_MAPPED_PREFIX = 0xffffn << 32n;
const V4_MASK = 0xffffffffn;
const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/i;

// cidr-tools' own input checks are rudimentary (it accepts 300.1.1.1 and 1::2::3), so the
// address syntax is checked here first.
function validV4(address: string): boolean {
  const m = V4.exec(address);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

/**
 * The 128-bit value of an IPv6 address, or null when its syntax is wrong. Computed here rather
 * than by cidr-tools, which also formats the address back to text: at hundreds of thousands of
 * except entries that formatting was most of the cost.
 */
function v6Value(address: string): bigint | null {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  // An embedded IPv4 tail (::ffff:1.2.3.4) stands for the last two groups.
  if (text.includes('.', lastColon)) {
    const tail = text.slice(lastColon + 1);
    if (!validV4(tail)) return null;
    const [a, b, c, d] = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1].split(':') : [];
  const written = head.length + tail.length;
  if (halves.length === 2 ? written > 7 : written !== 8) return null;
  const groups = [...head, ...Array<string>(8 - written).fill('0'), ...tail];
  if (!groups.every((g) => HEX_GROUP.test(g))) return null;
  return BigInt(`0x${groups.map((g) => g.padStart(4, '0')).join('')}`);
}

const DIGIT_0 = 48;
const DIGIT_9 = 57;
const DOT = 46;
const SLASH = 47;

/**
 * The common spelling, a.b.c.d or a.b.c.d/n with nothing around it, read without regular
 * expressions, string copies or cidr-tools: a policy may carry hundreds of thousands of
 * except entries, and the general path costs about 7 µs each (mostly allocation). Null for
 * anything else, which the general path reads (or rejects) with the same result.
 */
function plainV4(text: string): Block | null {
  let address = 0;
  let octet = 0;
  let digits = 0;
  let octets = 0;
  let i = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= DIGIT_0 && c <= DIGIT_9) {
      octet = octet * 10 + (c - DIGIT_0);
      if (++digits > 3 || octet > 255) return null;
    } else if (c === DOT || c === SLASH) {
      if (digits === 0) return null;
      address = address * 256 + octet;
      octets++;
      octet = 0;
      digits = 0;
      if (c === SLASH) break;
      if (octets > 3) return null;
    } else {
      return null;
    }
  }
  let prefix = 32;
  if (i === text.length) {
    if (digits === 0) return null;
    address = address * 256 + octet;
    octets++;
  } else {
    prefix = 0;
    const digitsFrom = i + 1;
    for (i = digitsFrom; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < DIGIT_0 || c > DIGIT_9 || i - digitsFrom >= 3) return null;
      prefix = prefix * 10 + (c - DIGIT_0);
    }
    if (i === digitsFrom || prefix > 32) return null;
  }
  if (octets !== 4) return null;
  const hostSize = 2 ** (32 - prefix);
  const start = address - (address % hostSize);
  const first = BigInt(start);
  return { version: 4, start: first, end: hostSize === 1 ? first : BigInt(start + hostSize - 1), prefix };
}

/**
 * Parses a CIDR (or a bare address, as a /32 or /128): host bits after the prefix are masked,
 * leading zeros in IPv4 octets are decimal. Returns an error message instead of throwing.
 */
export function parseBlock(text: string): Block | string {
  const fast = plainV4(text);
  if (fast !== null) return fast;
  const trimmed = text.trim();
  const mapped = V4_MAPPED.exec(trimmed);
  const candidate = mapped && Number(mapped[2]) >= 96 ? `${mapped[1]}/${Number(mapped[2]) - 96}` : trimmed;
  const slash = candidate.indexOf('/');
  const address = slash < 0 ? candidate : candidate.slice(0, slash);
  const prefixText = slash < 0 ? null : candidate.slice(slash + 1);
  const version = address.includes(':') ? 6 : 4;
  const value = version === 6 ? v6Value(address) : null;
  if (version === 4 ? !validV4(address) : value === null) return `"${text}" is not a valid CIDR`;
  const bits = version === 4 ? 32 : 128;
  if (prefixText !== null && (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits)) return `"${text}" has an invalid prefix length`;
  if (value !== null) {
    const prefix = prefixText === null ? 128 : Number(prefixText);
    const host = (1n << BigInt(128 - prefix)) - 1n;
    const start = value & ~host;
    const end = start | host;
    if (prefix >= 96 && (start & ~V4_MASK) === V4_MAPPED_PREFIX) return { version: 4, start: start & V4_MASK, end: end & V4_MASK, prefix: prefix - 96 };
    return { version: 6, start, end, prefix };
  }
  // Leading zeros are decimal: "010.0.0.1" is 10.0.0.1, so octets are rewritten as numbers.
  const normalised = address.split('.').map(Number).join('.');
  try {
    const p = parseCidr(prefixText === null ? normalised : `${normalised}/${Number(prefixText)}`);
    return { version: 4, start: p.start, end: p.end, prefix: Number(p.prefix) };
  } catch {
    return `"${text}" is not a valid CIDR`;
  }
}

/** parseBlock for callers that treat a bad CIDR as a programmer or input error to report. */
export function parseBlockOrThrow(text: string): Block {
  const b = parseBlock(text);
  if (typeof b === 'string') throw new Error(b);
  return b;
}
