// The interval module against a plain reference: sets of integers enumerated one by one.
// Intervals are drawn from a window of 96 integers placed at the bottom of the IPv4 space,
// at its top edge (2^32, where the number sort gives way to the bigint one) and at the top
// of the IPv6 space, so every sort path and the 128-bit arithmetic are exercised; lists run
// past 32 intervals so the typed-array sorts are used, with overlaps, nesting, repeats and
// adjacency all common in so small a window.
import { parseCidr } from 'cidr-tools';
import fc from 'fast-check';
import { count, countCommon, intersect, isSubset, normalise, overlaps, subtract, union, unionAll, type Interval } from '../../src/engine/net/intervals.js';
import { ipBlock } from '../../src/engine/net/ip-block.js';
import { parseBlock, type Block } from '../../src/engine/net/cidr.js';

const WINDOW = 96;
const BASES = [0n, 2n ** 32n - 48n, 2n ** 128n - 96n];

const interval = (base: bigint) =>
  fc.tuple(fc.integer({ min: 0, max: WINDOW - 1 }), fc.integer({ min: 0, max: 12 })).map(([at, length]) => ({
    start: base + BigInt(at),
    end: base + BigInt(Math.min(at + length, WINDOW - 1)),
  }));
// Short lists, and long ones that take the typed-array sorts (from 32 intervals).
const rawList = (base: bigint) => fc.oneof(fc.array(interval(base), { maxLength: 8 }), fc.array(interval(base), { minLength: 32, maxLength: 64 }));
const twoLists = fc.constantFrom(...BASES).chain((base) => fc.tuple(rawList(base), rawList(base)));

/** The reference: every member, one by one. */
function members(list: readonly Interval[]): Set<bigint> {
  const s = new Set<bigint>();
  for (const i of list) for (let x = i.start; x <= i.end; x++) s.add(x);
  return s;
}

function expectNormalised(list: readonly Interval[]): void {
  list.forEach((i, k) => {
    expect(i.start <= i.end).toBe(true);
    if (k > 0) expect(i.start > list[k - 1].end + 1n).toBe(true);
  });
}

describe('interval lists (property-based, against enumerated sets)', () => {
  it('normalise keeps the members and leaves sorted, disjoint, non-adjacent intervals', () => {
    fc.assert(
      fc.property(twoLists, ([a]) => {
        const got = normalise(a);
        expectNormalised(got);
        expect(members(got)).toEqual(members(a));
      }),
    );
  });

  it.each([
    { name: 'union', op: union, ref: (a: Set<bigint>, b: Set<bigint>) => new Set([...a, ...b]) },
    { name: 'unionAll', op: (a: Interval[], b: Interval[]) => unionAll([a, [], b]), ref: (a: Set<bigint>, b: Set<bigint>) => new Set([...a, ...b]) },
    { name: 'subtract', op: subtract, ref: (a: Set<bigint>, b: Set<bigint>) => new Set([...a].filter((x) => !b.has(x))) },
    { name: 'intersect', op: intersect, ref: (a: Set<bigint>, b: Set<bigint>) => new Set([...a].filter((x) => b.has(x))) },
  ])('$name agrees with the reference', ({ op, ref }) => {
    fc.assert(
      fc.property(twoLists, ([rawA, rawB]) => {
        const got = op(normalise(rawA), normalise(rawB));
        expectNormalised(got);
        const want = ref(members(rawA), members(rawB));
        expect(members(got)).toEqual(want);
        expect(count(got)).toBe(BigInt(want.size));
      }),
    );
  });

  it('countCommon, overlaps and isSubset agree with the reference', () => {
    fc.assert(
      fc.property(twoLists, fc.integer({ min: 1, max: 40 }), ([rawA, rawB], cap) => {
        const [a, b] = [normalise(rawA), normalise(rawB)];
        const [ma, mb] = [members(rawA), members(rawB)];
        const common = [...ma].filter((x) => mb.has(x)).length;
        expect(countCommon(a, b, BigInt(cap))).toBe(BigInt(Math.min(common, cap)));
        expect(countCommon(b, a, BigInt(cap))).toBe(BigInt(Math.min(common, cap)));
        expect(overlaps(a, b)).toBe(common > 0);
        expect(isSubset(a, b)).toBe(common === ma.size);
      }),
    );
  });
});

// Address blocks for ipBlock: IPv4 inside 10.0.0.0/24 and IPv6 inside fd00::/120, small
// enough to enumerate, with excepts that overlap, nest, repeat or lie outside the cidr.
const v4Block = fc.tuple(fc.integer({ min: 22, max: 32 }), fc.integer({ min: 0, max: 1023 })).map(([prefix, host]) => {
  const size = 2 ** (32 - prefix);
  const first = Math.floor(host / size) * size;
  return `10.0.${first >> 8}.${first & 255}/${prefix}`;
});
const v6Block = fc.tuple(fc.integer({ min: 118, max: 128 }), fc.integer({ min: 0, max: 1023 })).map(([prefix, host]) => `fd00::${host.toString(16)}/${prefix}`);
const blocksOf = (b: fc.Arbitrary<string>) => fc.tuple(b, fc.oneof(fc.array(b, { maxLength: 6 }), fc.array(b, { minLength: 32, maxLength: 48 })));

const membersOfBlocks = (texts: readonly string[]) => members(texts.map((t) => parseBlock(t) as Block));

describe('ipBlock: cidr minus except (property-based)', () => {
  it.each([
    { name: 'IPv4', blocks: blocksOf(v4Block) },
    { name: 'IPv6', blocks: blocksOf(v6Block) },
  ])('$name agrees with the enumerated difference', ({ blocks }) => {
    fc.assert(
      fc.property(blocks, ([cidr, except]) => {
        const got = ipBlock(cidr, except).addresses;
        const want = membersOfBlocks([cidr]);
        for (const x of membersOfBlocks(except)) want.delete(x);
        expect(members([...got.v4, ...got.v6])).toEqual(want);
      }),
      { numRuns: 200 },
    );
  });
});

// Dotted quads as people and generators write them: leading zeros, octets and prefixes out of
// range, parts missing or extra.
const number = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 999 }));
const written = fc.tuple(number, fc.integer({ min: 0, max: 2 })).map(([n, zeros]) => '0'.repeat(zeros) + String(n));
const dottedQuad = fc
  .tuple(fc.array(written, { minLength: 3, maxLength: 5 }), fc.option(fc.oneof(written, fc.constant('')), { nil: undefined }))
  .map(([octets, prefix]) => octets.join('.') + (prefix === undefined ? '' : `/${prefix}`));

describe('parseBlock', () => {
  // A trailing space sends a text down the general path (which trims), so the two readings of
  // the same CIDR can be compared.
  it('reads a plain dotted quad as the general path does', () => {
    fc.assert(
      fc.property(dottedQuad, (text) => {
        const [fast, general] = [parseBlock(text), parseBlock(`${text} `)];
        // Rejections name the text as written, so only their kind is compared.
        if (typeof general === 'string') expect(typeof fast).toBe('string');
        else expect(fast).toEqual(general);
      }),
      { numRuns: 2000 },
    );
  });
});

// IPv6 texts: eight groups of one to four hex digits, a run of them compressed to `::` or
// not, sometimes an embedded IPv4 tail, sometimes a prefix.
const hexGroup = fc.oneof(
  fc.constant('0'),
  fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16)),
  fc.stringMatching(/^[0-9a-fA-F]{1,4}$/),
);
const v6Text = fc
  .tuple(
    fc.array(hexGroup, { minLength: 8, maxLength: 8 }),
    fc.option(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 8 })), { nil: undefined }),
    fc.option(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), { nil: undefined }),
    fc.option(fc.integer({ min: 0, max: 128 }), { nil: undefined }),
  )
  .map(([groups, run, v4Tail, prefix]) => {
    const g = v4Tail ? groups.slice(0, 6) : groups;
    let text = g.join(':');
    if (run) {
      const [at, length] = [Math.min(run[0], g.length - 1), Math.max(1, Math.min(run[1], g.length - run[0]))];
      text = `${g.slice(0, at).join(':')}::${g.slice(at + length).join(':')}`;
    }
    if (v4Tail) text += `${text.endsWith(':') ? '' : ':'}${v4Tail.join('.')}`;
    return prefix === undefined ? text : `${text}/${prefix}`;
  });

describe('parseBlock, IPv6', () => {
  // cidr-tools is the reference for the value; an IPv4-mapped block reads as IPv4 (cidr.ts).
  it('agrees with cidr-tools', () => {
    fc.assert(
      fc.property(v6Text, (text) => {
        const want = parseCidr(text);
        const prefix = Number(want.prefix);
        const mapped = prefix >= 96 && want.start >> 32n === 0xffffn;
        const expected = mapped
          ? { version: 4, start: want.start & 0xffffffffn, end: want.end & 0xffffffffn, prefix: prefix - 96 }
          : { version: 6, start: want.start, end: want.end, prefix };
        expect(parseBlock(text)).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('ipBlock cache bound', () => {
  const excepts = (n: number) => Array.from({ length: n }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
  it.each([
    { name: 'a short except list is kept', except: excepts(3), kept: true },
    { name: 'a list over the entry size is read afresh each time', except: excepts(500), kept: false },
    { name: 'a cidr padded past the entry size is read afresh each time', cidr: `${' '.repeat(5000)}10.0.0.0/8`, except: [], kept: false },
  ])('$name', ({ cidr = '10.0.0.0/8', except, kept }) => {
    const first = ipBlock(cidr, except);
    const again = ipBlock(cidr, [...except]);
    expect(first === again).toBe(kept);
    expect(again).toEqual(first);
  });
});
