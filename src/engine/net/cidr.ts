// CIDR parsing as lenient as the API server still accepts (cidr-tools does the arithmetic).
import { parseCidr } from 'cidr-tools';

/** One CIDR block as an inclusive address interval. */
export interface Block {
  readonly version: 4 | 6;
  readonly start: bigint;
  readonly end: bigint;
  readonly prefix: number;
}

// An IPv4-mapped IPv6 block ::ffff:a.b.c.d/(96+n) is the IPv4 block a.b.c.d/n, as Go-based
// CNIs read it (net.ParseCIDR then To4()).
const V4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,3})$/i;

/**
 * Parses a CIDR (or a bare address, as a /32 or /128): host bits after the prefix are masked,
 * leading zeros in IPv4 octets are decimal. Returns an error message instead of throwing.
 */
export function parseBlock(text: string): Block | string {
  const trimmed = text.trim();
  const mapped = V4_MAPPED.exec(trimmed);
  const candidate = mapped && Number(mapped[2]) >= 96 ? `${mapped[1]}/${Number(mapped[2]) - 96}` : trimmed;
  try {
    const p = parseCidr(candidate);
    const prefix = Number(p.prefix);
    const bits = p.version === 4 ? 32 : 128;
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) return `"${text}" has an invalid prefix length`;
    return { version: p.version, start: p.start, end: p.end, prefix };
  } catch {
    return `"${text}" is not a valid CIDR`;
  }
}
