import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fold } from '../../src/model/fold.ts';
import type { SourcedOp } from '../../src/model/ops.ts';
import { fcParams } from '../support/fc.ts';
import { generateNegotiation, type Negotiation } from '../support/negotiation.ts';

// Random negotiations: 2 buyer devices, 2 seller devices and a carrier, pairwise syncs, some ops written by
// the wrong party, proposals/accepts/shipping attempted along the way from each device's own view.
const negotiation = fc
  .record({ seed: fc.integer(), ops: fc.integer({ min: 5, max: 70 }), products: fc.integer({ min: 1, max: 6 }) })
  .map(({ seed, ops, products }) => generateNegotiation({ seed, ops, products, hostileRate: 0.05, statusFlow: 'random', carrier: true, syncRate: 0.3 }));

const json = (ops: readonly SourcedOp[]) => JSON.stringify(fold(ops));
const RUNS = 1000;

/** A permutation of `items` drawn from fast-check, so that it shrinks and replays with the seed. */
const permuted = <T>(items: readonly T[], keys: readonly number[]): T[] =>
  items.map((item, i) => ({ item, key: keys[i % keys.length] ?? 0, i })).sort((a, b) => a.key - b.key || a.i - b.i).map(({ item }) => item);

describe('the fold is a function of the set of ops', () => {
  it('gives the same invoice for every permutation, with any ops duplicated', () => {
    fc.assert(
      fc.property(negotiation, fc.array(fc.integer(), { minLength: 1, maxLength: 80 }), fc.array(fc.nat(), { maxLength: 20 }), (n: Negotiation, keys, dupIdx) => {
        const expected = json(n.ops);
        const duplicates = dupIdx.map((i) => n.ops[i % n.ops.length]!);
        expect(json(permuted([...n.ops, ...duplicates], keys))).toBe(expected);
      }),
      fcParams(RUNS),
    );
  });

  it('gives the same invoice when a replica gets any half first and the rest later', () => {
    fc.assert(
      fc.property(negotiation, fc.array(fc.boolean(), { minLength: 1, maxLength: 80 }), (n: Negotiation, mask) => {
        const first = n.ops.filter((_, i) => mask[i % mask.length]);
        const later = n.ops.filter((_, i) => !mask[i % mask.length]);
        fold(first); // a replica folds what it has so far; nothing it computed may leak into the next fold
        expect(json([...later, ...first])).toBe(json(n.ops));
      }),
      fcParams(RUNS),
    );
  });

  it('makes every device agree, status and agreed invoice included, once they have exchanged everything', () => {
    fc.assert(
      fc.property(negotiation, (n: Negotiation) => {
        const views = n.deviceKnowledge.map((known) => {
          const rest = n.ops.filter((op) => !known.includes(op));
          return json([...known, ...rest]);
        });
        for (const view of views) expect(view).toBe(views[0]);
        const invoice = fold(n.ops);
        expect(invoice.status).not.toBe('no invoice');
        expect(invoice.pending).toEqual([]);
      }),
      fcParams(RUNS),
    );
  });

  it('the generated negotiations do reach agreement, shipping and rejections (the properties above are not vacuous)', () => {
    const statuses = new Map<string, number>();
    let rejected = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const invoice = fold(generateNegotiation({ seed, ops: 70, products: 3, hostileRate: 0.05, statusFlow: 'random', carrier: true, syncRate: 0.3 }).ops);
      statuses.set(invoice.status, (statuses.get(invoice.status) ?? 0) + 1);
      rejected += invoice.rejected.length;
    }
    expect(statuses.get('agreed') ?? 0).toBeGreaterThan(0);
    expect([...statuses.keys()].filter((status) => /shipped|paid|received/.test(status)).length).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  });
});
