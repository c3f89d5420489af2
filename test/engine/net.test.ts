import fc from 'fast-check';
import { excludeCidr, overlapCidr } from 'cidr-tools';
import { intersect, isSubset, overlaps, setOf, size, subtract, union, type AddressSet } from '../../src/engine/net/address-set.js';
import { parseBlock, type Block } from '../../src/engine/net/cidr.js';
import { ipBlock } from '../../src/engine/net/ip-block.js';
import { nodeAddresses } from '../../src/engine/net/node-addresses.js';

const v4 = (a: number, b: number, c: number, d: number) => BigInt(((a << 24) >>> 0) + (b << 16) + (c << 8) + d);

describe('parseBlock', () => {
  it.each([
    { name: 'plain IPv4', text: '10.0.0.0/8', want: { version: 4, start: v4(10, 0, 0, 0), end: v4(10, 255, 255, 255), prefix: 8 } },
    { name: 'host bits masked', text: '10.1.2.3/16', want: { version: 4, start: v4(10, 1, 0, 0), end: v4(10, 1, 255, 255), prefix: 16 } },
    { name: 'leading zeros are decimal', text: '010.001.000.010/32', want: { version: 4, start: v4(10, 1, 0, 10), end: v4(10, 1, 0, 10), prefix: 32 } },
    { name: 'bare address', text: '192.168.1.1', want: { version: 4, start: v4(192, 168, 1, 1), end: v4(192, 168, 1, 1), prefix: 32 } },
    {
      name: 'IPv4-mapped IPv6 block is IPv4',
      text: '::ffff:10.0.0.0/104',
      want: { version: 4, start: v4(10, 0, 0, 0), end: v4(10, 255, 255, 255), prefix: 8 },
    },
    {
      name: 'IPv4-mapped, upper case',
      text: '::FFFF:192.168.0.0/112',
      want: { version: 4, start: v4(192, 168, 0, 0), end: v4(192, 168, 255, 255), prefix: 16 },
    },
    { name: 'IPv6', text: 'fd00::/8', want: { version: 6, start: 0xfdn << 120n, end: (0xfen << 120n) - 1n, prefix: 8 } },
    { name: 'IPv6 host bits masked', text: 'fd00::1/120', want: { version: 6, start: 0xfd00n << 112n, end: (0xfd00n << 112n) + 255n, prefix: 120 } },
    { name: 'whole IPv6 space', text: '::/0', want: { version: 6, start: 0n, end: (1n << 128n) - 1n, prefix: 0 } },
  ])('reads $name', ({ text, want }) => {
    expect(parseBlock(text)).toEqual(want);
  });

  it.each(['10.0.0.0/33', '300.1.1.1/8', '10.0.0/8', '10.0.0.0.0/8', '1::2::3/64', 'zz::1/64', 'fd00::/129', 'abc', '10.0.0.0/', '10.0.0.0/-1', ''])(
    'rejects %s',
    (text) => {
      expect(typeof parseBlock(text)).toBe('string');
    },
  );
});

describe('nodeAddresses', () => {
  it.each([
    {
      name: 'nothing known: assumed private ranges',
      cidrs: [],
      cluster: [],
      known: false,
      contains: ['10.9.9.9', '172.31.0.1', '192.168.0.1', 'fd12::1'],
      lacks: ['8.8.8.8', '172.32.0.1', '2001:db8::1'],
    },
    { name: 'nodeCIDRs', cidrs: ['203.0.113.0/24'], cluster: [], known: true, contains: ['203.0.113.9'], lacks: ['10.0.0.1'] },
    { name: 'cluster node addresses', cidrs: [], cluster: ['10.0.0.1', 'fd00::1'], known: true, contains: ['10.0.0.1', 'fd00::1'], lacks: ['10.0.0.2'] },
    { name: 'both together', cidrs: ['203.0.113.0/24'], cluster: ['10.0.0.1'], known: true, contains: ['203.0.113.9', '10.0.0.1'], lacks: ['10.0.0.2'] },
  ])('$name', ({ cidrs, cluster, known, contains, lacks }) => {
    const n = nodeAddresses(
      cidrs.map((c) => parseBlock(c) as Block),
      cluster,
    );
    expect(n.known).toBe(known);
    const one = (a: string) => setOf([parseBlock(a) as Block]);
    for (const a of contains) expect(isSubset(one(a), n.set)).toBe(true);
    for (const a of lacks) expect(overlaps(one(a), n.set)).toBe(false);
  });
});

// Blocks inside 10.0.0.0/24 (prefix 24-32) are small enough to enumerate: the interval
// arithmetic must agree with plain sets of addresses, and with cidr-tools.
const BASE = 10 * 2 ** 24;
const smallBlock = fc.record({ prefix: fc.integer({ min: 24, max: 32 }), host: fc.integer({ min: 0, max: 255 }) }).map(({ prefix, host }) => {
  const size = 2 ** (32 - prefix);
  const start = BASE + Math.floor(host / size) * size;
  return { text: `10.0.0.${start - BASE}/${prefix}`, start, end: start + size - 1 };
});
const blocks = fc.array(smallBlock, { maxLength: 4 });

const model = (bs: { start: number; end: number }[]) => {
  const s = new Set<number>();
  for (const b of bs) for (let a = b.start; a <= b.end; a++) s.add(a);
  return s;
};
const setOfTexts = (bs: { text: string }[]): AddressSet => setOf(bs.map((b) => parseBlock(b.text) as Block));
const members = (s: AddressSet) => {
  const out = new Set<number>();
  for (const i of s.v4) for (let a = i.start; a <= i.end; a++) out.add(Number(a));
  return out;
};

describe('address-set arithmetic (property-based)', () => {
  it.each([
    { name: 'union', op: union, ref: (a: Set<number>, b: Set<number>) => new Set([...a, ...b]) },
    { name: 'subtract', op: subtract, ref: (a: Set<number>, b: Set<number>) => new Set([...a].filter((x) => !b.has(x))) },
    { name: 'intersect', op: intersect, ref: (a: Set<number>, b: Set<number>) => new Set([...a].filter((x) => b.has(x))) },
  ])('$name agrees with a brute-force model', ({ op, ref }) => {
    fc.assert(
      fc.property(blocks, blocks, (a, b) => {
        const got = op(setOfTexts(a), setOfTexts(b));
        const want = ref(model(a), model(b));
        expect(members(got)).toEqual(want);
        expect(size(got)).toBe(BigInt(want.size));
      }),
    );
  });

  it('overlap and containment agree with the model and with cidr-tools', () => {
    fc.assert(
      fc.property(blocks, blocks, (a, b) => {
        const ma = model(a);
        const mb = model(b);
        const overlapping = [...ma].some((x) => mb.has(x));
        expect(overlaps(setOfTexts(a), setOfTexts(b))).toBe(overlapping);
        if (a.length && b.length)
          expect(
            overlapCidr(
              a.map((x) => x.text),
              b.map((x) => x.text),
            ),
          ).toBe(overlapping);
        expect(isSubset(setOfTexts(a), setOfTexts(b))).toBe([...ma].every((x) => mb.has(x)));
      }),
    );
  });

  it('ipBlock cidr minus except matches cidr-tools excludeCidr', () => {
    fc.assert(
      fc.property(smallBlock, blocks, (cidr, except) => {
        const got = ipBlock(
          cidr.text,
          except.map((e) => e.text),
        ).addresses;
        const want = except.length
          ? excludeCidr(
              [cidr.text],
              except.map((e) => e.text),
            )
          : [cidr.text];
        expect(members(got)).toEqual(members(setOf(want.map((w) => parseBlock(String(w)) as Block))));
      }),
    );
  });

  it('IPv4 and IPv6 never mix', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 128 }), (p4, p6) => {
        const a = setOf([parseBlock(`0.0.0.0/${p4}`) as Block]);
        const b = setOf([parseBlock(`::/${p6}`) as Block]);
        expect(overlaps(a, b)).toBe(false);
        expect(size(union(a, b))).toBe(2n ** BigInt(32 - p4) + 2n ** BigInt(128 - p6));
      }),
    );
  });

  it('an IPv4-mapped block reads as the same IPv4 block for every prefix', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 32 }), (a, b, n) => {
        expect(parseBlock(`::ffff:${a}.${b}.0.0/${96 + n}`)).toEqual(parseBlock(`${a}.${b}.0.0/${n}`));
      }),
    );
  });

  it('so does every other spelling of it (full form, hex groups)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 32 }), (a, b, n) => {
        const want = parseBlock(`${a}.${b}.0.0/${n}`);
        expect(parseBlock(`0:0:0:0:0:ffff:${a}.${b}.0.0/${96 + n}`)).toEqual(want);
        expect(parseBlock(`::ffff:${((a << 8) | b).toString(16)}:0/${96 + n}`)).toEqual(want);
        expect(parseBlock(`0000:0000:0000:0000:0000:FFFF:${((a << 8) | b).toString(16)}:0000/${96 + n}`)).toEqual(want);
      }),
    );
  });
});

describe('ipBlock cache', () => {
  it.each([
    { name: 'the same block twice', first: ['10.0.0.0/8', []], then: ['10.0.0.0/8', []], same: true },
    { name: 'the same block with the same except', first: ['10.0.0.0/8', ['10.1.0.0/16']], then: ['10.0.0.0/8', ['10.1.0.0/16']], same: true },
    { name: 'another except list', first: ['10.0.0.0/8', ['10.1.0.0/16']], then: ['10.0.0.0/8', ['10.2.0.0/16']], same: false },
    { name: 'no except after an except', first: ['10.0.0.0/8', ['10.1.0.0/16']], then: ['10.0.0.0/8', []], same: false },
  ] as { name: string; first: [string, string[]]; then: [string, string[]]; same: boolean }[])('$name', ({ first, then, same }) => {
    const a = ipBlock(...first);
    const b = ipBlock(...then);
    expect(a === b).toBe(same);
    const block = parseBlock(then[0]) as Block;
    const addresses = subtract(setOf([block]), setOf(then[1].map((e) => parseBlock(e) as Block)));
    expect(b).toEqual({ cidr: then[0], version: block.version, prefix: block.prefix, addresses });
  });

  it.each([
    { name: 'a cidr that spells a cached cidr and except list', cidr: '10.0.0.0/8\u000010.1.0.0/16' },
    { name: 'their JSON', cidr: '["10.0.0.0/8","10.1.0.0/16"]' },
  ])('$name is still rejected, every time', ({ cidr }) => {
    ipBlock('10.0.0.0/8', ['10.1.0.0/16']);
    expect(() => ipBlock(cidr)).toThrow(/is not a valid CIDR|has an invalid prefix length/);
    expect(() => ipBlock(cidr)).toThrow(/is not a valid CIDR|has an invalid prefix length/);
  });
});
