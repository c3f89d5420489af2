// Kubernetes' CEL IP and CIDR libraries (`kubernetes.net.ip`, `net.cidr`) for @bufbuild/cel,
// written from their documented behaviour (k8s.io/apiserver/pkg/cel/library/ip.go and
// cidr.go): addresses are parsed as Go's net/netip parses them (four decimal IPv4 octets
// without leading zeros, IPv6 with at most one `::`), zones and IPv4-mapped IPv6 addresses
// are refused, and a CIDR may carry host bits (`cidr('192.168.0.1/24')` is accepted; `masked()`
// clears them).
//
// @bufbuild/cel has no opaque user types, so an IP or CIDR value is a one-entry map under a
// key no Kubernetes object can hold (it starts with NUL): the methods below recognise it, and
// two equal addresses are equal maps because the value stored is canonical.
import { CelScalar, celFunc, celMethod, isCelMap, mapType, type CelFunc, type CelMap } from '@bufbuild/cel';

const IP_KEY = '\u0000net.IP';
const CIDR_KEY = '\u0000net.CIDR';

export interface Address {
  family: 4 | 6;
  /** The address as a 32- or 128-bit number. */
  value: bigint;
}

function parseV4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const p of parts) {
    // netip refuses leading zeros ("010" could be read as octal) and empty octets.
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseV6(text: string): bigint | null {
  if (text.includes('%')) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (s: string): bigint[] | null => {
    if (s === '') return [];
    const parts = s.split(':');
    const out: bigint[] = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseV4(p);
        if (v4 === null) return null;
        out.push(v4 >> 16n, v4 & 0xffffn);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
        out.push(BigInt(`0x${p}`));
      }
    }
    return out;
  };
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  if (head === null || tail === null) return null;
  // An embedded IPv4 address may only end the address.
  if (halves.length === 2 && halves[0].includes('.')) return null;
  const written = head.length + tail.length;
  if (halves.length === 1 ? written !== 8 : written > 7) return null;
  const groups = [...head, ...Array<bigint>(8 - written).fill(0n), ...tail];
  return groups.reduce((v, g) => (v << 16n) | g, 0n);
}

/** An address as Kubernetes' `ip()` accepts it, or null. */
export function parseAddress(text: string): Address | null {
  if (text.includes(':')) {
    const value = parseV6(text);
    if (value === null) return null;
    // IPv4-mapped (::ffff:a.b.c.d) addresses are refused by the library.
    if (value >> 32n === 0xffffn) return null;
    return { family: 6, value };
  }
  const value = parseV4(text);
  return value === null ? null : { family: 4, value };
}

const bitsOf = (family: 4 | 6): number => (family === 4 ? 32 : 128);

/** The canonical text (Go's netip Addr.String(): RFC 5952 for IPv6). */
export function formatAddress(a: Address): string {
  if (a.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((a.value >> s) & 0xffn)).join('.');
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((s) => Number((a.value >> s) & 0xffffn));
  // The longest run of two or more zero groups (the first of equal runs) becomes `::`.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export interface Prefix {
  address: Address;
  bits: number;
}

export function parsePrefix(text: string): Prefix | null {
  const slash = text.lastIndexOf('/');
  if (slash < 0) return null;
  const address = parseAddress(text.slice(0, slash));
  const bitsText = text.slice(slash + 1);
  // netip.ParsePrefix: decimal bits, no sign, no leading zeros.
  if (address === null || !/^(0|[1-9]\d{0,2})$/.test(bitsText)) return null;
  const bits = Number(bitsText);
  return bits > bitsOf(address.family) ? null : { address, bits };
}

const mask = (family: 4 | 6, bits: number): bigint => {
  const width = BigInt(bitsOf(family));
  return ((1n << width) - 1n) ^ ((1n << (width - BigInt(bits))) - 1n);
};

export const prefixContains = (p: Prefix, a: Address): boolean =>
  p.address.family === a.family && (p.address.value & mask(a.family, p.bits)) === (a.value & mask(a.family, p.bits));

const ipValue = (a: Address): Map<string, string> => new Map([[IP_KEY, formatAddress(a)]]);
const cidrValue = (p: Prefix): Map<string, string> => new Map([[CIDR_KEY, `${formatAddress(p.address)}/${p.bits}`]]);

function asIP(m: CelMap): Address {
  const text = m.get(IP_KEY);
  if (typeof text !== 'string') throw new Error('no such overload: not an IP address');
  return parseAddress(text)!;
}

function asCIDR(m: CelMap): Prefix {
  const text = m.get(CIDR_KEY);
  if (typeof text !== 'string') throw new Error('no such overload: not a CIDR');
  return parsePrefix(text)!;
}

function ipOrThrow(text: string): Address {
  const a = parseAddress(text);
  if (a === null) throw new Error(`IP Address "${text}" parse error during conversion from string`);
  return a;
}

function cidrOrThrow(text: string): Prefix {
  const p = parsePrefix(text);
  if (p === null) throw new Error(`network address parse error during conversion from string: "${text}"`);
  return p;
}

const MAP = mapType(CelScalar.STRING, CelScalar.DYN);

/** True for the values ip() and cidr() return, so `string()` and equality can tell them apart. */
export const isNetValue = (v: unknown): boolean => isCelMap(v) && (v.has(IP_KEY) || v.has(CIDR_KEY));

export const NET_FUNCS: CelFunc[] = [
  celFunc('ip', [CelScalar.STRING], MAP, (s) => ipValue(ipOrThrow(s))),
  celFunc('isIP', [CelScalar.STRING], CelScalar.BOOL, (s) => parseAddress(s) !== null),
  celFunc('ip.isCanonical', [CelScalar.STRING], CelScalar.BOOL, (s) => formatAddress(ipOrThrow(s)) === s),
  celMethod('family', MAP, [], CelScalar.INT, function () {
    return BigInt(asIP(this).family);
  }),
  celMethod('isUnspecified', MAP, [], CelScalar.BOOL, function () {
    return asIP(this).value === 0n;
  }),
  celMethod('isLoopback', MAP, [], CelScalar.BOOL, function () {
    const a = asIP(this);
    return a.family === 4 ? a.value >> 24n === 127n : a.value === 1n;
  }),
  celMethod('isLinkLocalMulticast', MAP, [], CelScalar.BOOL, function () {
    const a = asIP(this);
    return a.family === 4 ? a.value >> 8n === 0xe00000n : a.value >> 112n === 0xff02n;
  }),
  celMethod('isLinkLocalUnicast', MAP, [], CelScalar.BOOL, function () {
    const a = asIP(this);
    return a.family === 4 ? a.value >> 16n === 0xa9fen : a.value >> 118n === 0x3fan;
  }),
  celMethod('isGlobalUnicast', MAP, [], CelScalar.BOOL, function () {
    // Go's Addr.IsGlobalUnicast: not unspecified, loopback, multicast, link-local or (IPv4) broadcast.
    const a = asIP(this);
    if (a.family === 4) return a.value !== 0n && a.value !== 0xffffffffn && a.value >> 24n !== 127n && a.value >> 28n !== 0xen && a.value >> 16n !== 0xa9fen;
    return a.value !== 0n && a.value !== 1n && a.value >> 120n !== 0xffn && a.value >> 118n !== 0x3fan;
  }),
  celFunc('cidr', [CelScalar.STRING], MAP, (s) => cidrValue(cidrOrThrow(s))),
  celFunc('isCIDR', [CelScalar.STRING], CelScalar.BOOL, (s) => parsePrefix(s) !== null),
  celMethod('containsIP', MAP, [CelScalar.STRING], CelScalar.BOOL, function (s) {
    return prefixContains(asCIDR(this), ipOrThrow(s));
  }),
  celMethod('containsIP', MAP, [MAP], CelScalar.BOOL, function (ip) {
    return prefixContains(asCIDR(this), asIP(ip));
  }),
  celMethod('containsCIDR', MAP, [CelScalar.STRING], CelScalar.BOOL, function (s) {
    const outer = asCIDR(this);
    const inner = cidrOrThrow(s);
    return outer.bits <= inner.bits && prefixContains(outer, inner.address);
  }),
  celMethod('containsCIDR', MAP, [MAP], CelScalar.BOOL, function (c) {
    const outer = asCIDR(this);
    const inner = asCIDR(c);
    return outer.bits <= inner.bits && prefixContains(outer, inner.address);
  }),
  celMethod('ip', MAP, [], MAP, function () {
    return ipValue(asCIDR(this).address);
  }),
  celMethod('prefixLength', MAP, [], CelScalar.INT, function () {
    return BigInt(asCIDR(this).bits);
  }),
  celMethod('masked', MAP, [], MAP, function () {
    const p = asCIDR(this);
    return cidrValue({ address: { family: p.address.family, value: p.address.value & mask(p.address.family, p.bits) }, bits: p.bits });
  }),
  celFunc('string', [MAP], CelScalar.STRING, (m) => {
    if (m.has(IP_KEY)) return m.get(IP_KEY) as string;
    if (m.has(CIDR_KEY)) return m.get(CIDR_KEY) as string;
    throw new Error('no such overload: string(map)');
  }),
];
