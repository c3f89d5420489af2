// The network-policy rule's address reasoning against a brute-force model: with known node
// addresses N inside 10.0.0.0/24, an egress rule naming 10250 to `cidr except ...` is a
// finding exactly when the block keeps two or more node addresses, or all of them; a rule
// allowing every port is one exactly when the block keeps only node addresses (2+ or all);
// and the blocks of several rules naming 10250 are a finding exactly when together they keep
// two or more node addresses, or all of them.
import fc from 'fast-check';
import { cluster, hits, policy } from './helpers.js';

const BASE = 10 * 2 ** 24;
const block = fc.record({ prefix: fc.integer({ min: 24, max: 32 }), host: fc.integer({ min: 0, max: 255 }) }).map(({ prefix, host }) => {
  const size = 2 ** (32 - prefix);
  const first = Math.floor(host / size) * size;
  return { text: `10.0.0.${first}/${prefix}`, start: BASE + first, end: BASE + first + size - 1 };
});
const addresses = (bs: { start: number; end: number }[]) => {
  const s = new Set<number>();
  for (const b of bs) for (let a = b.start; a <= b.end; a++) s.add(a);
  return s;
};

describe('netpol-sensitive-exposure with known node addresses (property-based)', () => {
  it.each([
    { name: 'naming the port', ports: [{ port: 10250 }], onlyNodes: false },
    { name: 'allowing every port', ports: undefined, onlyNodes: true },
  ])('$name agrees with the model', ({ ports, onlyNodes }) => {
    fc.assert(
      fc.property(fc.array(block, { minLength: 1, maxLength: 3 }), block, fc.array(block, { maxLength: 3 }), (nodes, cidr, except) => {
        const n = addresses(nodes);
        const a = addresses([cidr]);
        for (const x of addresses(except)) a.delete(x);
        const kept = [...a].filter((x) => n.has(x)).length;
        const extra = a.size - kept;
        const p = policy({ nodeCIDRs: nodes.map((b) => b.text) });
        const rule: Record<string, unknown> = {
          to: [{ ipBlock: except.length ? { cidr: cidr.text, except: except.map((e) => e.text) } : { cidr: cidr.text } }],
        };
        if (ports) rule.ports = ports;
        const object = {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: 'n' },
          spec: { podSelector: {}, policyTypes: ['Egress'], egress: [rule] },
        };
        const found = hits('netpol-sensitive-exposure', object, { policy: p, cluster: cluster() }).some(([, v]) => v === 10250);
        const reachesNodes = kept >= 2 || kept === n.size;
        expect(found).toBe(reachesNodes && (!onlyNodes || extra === 0));
      }),
      { numRuns: 200 },
    );
  });

  it('blocks over several rules naming the port agree with the model of their union', () => {
    const ipBlock = (b: { text: string }, except: { text: string }[]) => ({
      ipBlock: except.length ? { cidr: b.text, except: except.map((e) => e.text) } : { cidr: b.text },
    });
    const rule = fc.record({ blocks: fc.array(fc.record({ cidr: block, except: fc.array(block, { maxLength: 2 }) }), { minLength: 1, maxLength: 3 }) });
    fc.assert(
      fc.property(fc.array(block, { minLength: 1, maxLength: 3 }), fc.array(rule, { minLength: 1, maxLength: 3 }), (nodes, rules) => {
        const n = addresses(nodes);
        const opened = new Set<number>();
        for (const r of rules) {
          for (const b of r.blocks) {
            const a = addresses([b.cidr]);
            for (const x of addresses(b.except)) a.delete(x);
            for (const x of a) opened.add(x);
          }
        }
        const kept = [...opened].filter((x) => n.has(x)).length;
        const p = policy({ nodeCIDRs: nodes.map((b) => b.text) });
        const egress = rules.map((r) => ({ to: r.blocks.map((b) => ipBlock(b.cidr, b.except)), ports: [{ port: 10250 }] }));
        const object = {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: 'n' },
          spec: { podSelector: {}, policyTypes: ['Egress'], egress },
        };
        const found = hits('netpol-sensitive-exposure', object, { policy: p, cluster: cluster() }).some(([, v]) => v === 10250);
        expect(found).toBe(kept >= 2 || kept === n.size);
      }),
      { numRuns: 300 },
    );
  });
});
