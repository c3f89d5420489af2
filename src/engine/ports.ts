// Port ranges: "n" or "lo-hi", inclusive, parsed once at policy load.

export interface PortRange {
  readonly lo: number;
  readonly hi: number;
}

export const MAX_PORT = 65535;

/** The protocols a Kubernetes port can name (core/v1 Protocol). */
export const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** A port's protocol as the API server defaults it: TCP when omitted (or, read leniently, unknown). */
export const protocolOrTcp = (value: unknown): Protocol => PROTOCOLS.find((p) => p === value) ?? 'TCP';

/** Parses "n" or "lo-hi"; returns an error message instead of throwing. */
export function parsePortRange(text: string): PortRange | string {
  const m = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5}))?\s*$/.exec(text);
  if (!m) return `"${text}" is not a port or a range "lo-hi"`;
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo < 1 || hi > MAX_PORT) return `"${text}" is outside 1-${MAX_PORT}`;
  if (lo > hi) return `"${text}" has its low end above its high end`;
  return { lo, hi };
}

export const inRange = (r: PortRange, port: number): boolean => port >= r.lo && port <= r.hi;

export const rangesOverlap = (a: PortRange, b: PortRange): boolean => a.lo <= b.hi && b.lo <= a.hi;

export const rangeContains = (outer: PortRange, inner: PortRange): boolean => inner.lo >= outer.lo && inner.hi <= outer.hi;

export const formatRange = (r: PortRange): string => (r.lo === r.hi ? String(r.lo) : `${r.lo}-${r.hi}`);

export const rangeSize = (r: PortRange): number => r.hi - r.lo + 1;
