// What a NetworkPolicy ports list lets through, written from the API reference independently
// of the carve-out, and random ports lists to try it on: shared by the remediation properties.
import fc from 'fast-check';
import type { Protocol } from '../../src/engine/policy/model.js';
import type { PolicyPort } from '../../src/engine/remediate/netpol-carve-out.js';

export const PROTOCOLS: Protocol[] = ['TCP', 'UDP', 'SCTP'];

/** No list or an empty one: every port of every protocol; named ports never match a number. */
export function allows(ports: readonly PolicyPort[] | undefined, protocol: Protocol, n: number): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some(
    (e) => (e.protocol ?? 'TCP') === protocol && typeof e.port !== 'string' && (e.port === undefined || (n >= e.port && n <= (e.endPort ?? e.port))),
  );
}

/** Interval ends and their neighbours, and the kubelet's ports: lists that agree there agree on every port. */
export function probes(...lists: (readonly PolicyPort[] | undefined)[]): number[] {
  const ends = [1, 65535, 10250, 10255];
  for (const l of lists) for (const e of l ?? []) if (typeof e.port === 'number') ends.push(e.port, e.endPort ?? e.port);
  return [...new Set(ends.flatMap((x) => [x - 1, x, x + 1]))].filter((x) => x >= 1 && x <= 65535);
}

export const protocol = fc.constantFrom<Protocol>(...PROTOCOLS);

/** One entry: a port or range of a protocol (or none), a whole protocol, or a named port. */
export const portEntry = (port: fc.Arbitrary<number>): fc.Arbitrary<PolicyPort> =>
  fc.oneof(
    fc.record({ protocol: fc.option(protocol, { nil: undefined }), a: port, b: port, withEnd: fc.boolean() }).map(({ protocol: p, a, b, withEnd }) => {
      const [lo, hi] = [Math.min(a, b), Math.max(a, b)];
      const e: PolicyPort = withEnd && hi > lo ? { port: lo, endPort: hi } : { port: lo };
      return p ? { protocol: p, ...e } : e;
    }),
    protocol.map((p) => ({ protocol: p })),
    fc.constant<PolicyPort>({ port: 'https' }),
  );
