import fc from 'fast-check';
import { formatRange, inRange, parsePortRange, rangeContains, rangeSize, rangesOverlap, type PortRange } from '../../src/engine/ports.js';

const port = fc.integer({ min: 1, max: 65535 });
const range = fc.tuple(port, port).map(([a, b]): PortRange => ({ lo: Math.min(a, b), hi: Math.max(a, b) }));
// Small ranges over a narrow band so overlaps are common and enumeration is cheap.
const small = fc
  .tuple(fc.integer({ min: 10240, max: 10270 }), fc.integer({ min: 0, max: 12 }))
  .map(([lo, n]): PortRange => ({ lo, hi: Math.min(lo + n, 65535) }));
const ports = (r: PortRange) => Array.from({ length: r.hi - r.lo + 1 }, (_, i) => r.lo + i);

describe('port ranges', () => {
  it.each([
    { name: 'single port', text: '10250', want: { lo: 10250, hi: 10250 } },
    { name: 'range', text: '30000-32767', want: { lo: 30000, hi: 32767 } },
    { name: 'spaces', text: ' 2379 - 2380 ', want: { lo: 2379, hi: 2380 } },
    { name: 'reversed', text: '10-1', want: 'error' },
    { name: 'zero', text: '0', want: 'error' },
    { name: 'too high', text: '65536', want: 'error' },
    { name: 'not a number', text: 'http', want: 'error' },
  ])('parses $name', ({ text, want }) => {
    const r = parsePortRange(text);
    if (want === 'error') expect(typeof r).toBe('string');
    else expect(r).toEqual(want);
  });

  it('formatRange and parsePortRange round-trip', () => {
    fc.assert(fc.property(range, (r) => expect(parsePortRange(formatRange(r))).toEqual(r)));
  });

  it('overlap, containment and size agree with enumerated ports', () => {
    fc.assert(
      fc.property(small, small, fc.integer({ min: 10230, max: 10290 }), (a, b, p) => {
        const pa = new Set(ports(a));
        expect(rangesOverlap(a, b)).toBe(ports(b).some((x) => pa.has(x)));
        expect(rangeContains(a, b)).toBe(ports(b).every((x) => pa.has(x)));
        expect(inRange(a, p)).toBe(pa.has(p));
        expect(rangeSize(a)).toBe(pa.size);
      }),
    );
  });
});
