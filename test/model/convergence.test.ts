import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fold } from '../../src/model/fold.ts';
import type { SourcedOp } from '../../src/model/ops.ts';
import { fcParams, PROPERTY_RUNS } from '../support/fc.ts';
import { reachedOf } from '../support/lifecycle.ts';
import { generateNegotiation, type Negotiation } from '../support/negotiation.ts';

type TallyKey = 'agreed' | 'shipped' | 'receivedAndPaid' | 'disputed' | 'changedAfter' | 'rejected';

/** How far the generated negotiations got, folded over all their ops. */
class Tally {
  runs = 0;
  private readonly counts: Record<TallyKey, number> = { agreed: 0, shipped: 0, receivedAndPaid: 0, disputed: 0, changedAfter: 0, rejected: 0 };

  count(n: Negotiation): Negotiation {
    const invoice = fold(n.ops);
    const reached = { ...reachedOf(invoice), rejected: invoice.rejected.length > 0 };
    this.runs++;
    for (const key of Object.keys(this.counts) as Array<TallyKey>) if (reached[key]) this.counts[key]++;
    return n;
  }

  share(key: TallyKey): number {
    return this.runs === 0 ? 0 : this.counts[key] / this.runs;
  }

  report(): string {
    const pct = (key: TallyKey) => `${(100 * this.share(key)).toFixed(1)} %`;
    return `${this.runs} negotiations: agreed (and beyond) ${pct('agreed')}, shipped ${pct('shipped')}, received and paid ${pct('receivedAndPaid')}, a dispute ${pct('disputed')}, changes after agreement ${pct('changedAfter')}, some op rejected ${pct('rejected')}`;
  }
}

// Random negotiations: 2 buyer devices, 2 seller devices and a carrier, pairwise syncs, some ops written by
// the wrong party, and the lifecycle (propose, accept, ship, pay, receive, dispute, change after agreement, a few
// mistakes) taken along the way from each device's own view (test/support/lifecycle.ts).
const generated = new Tally();
const negotiation = fc
  .record({ seed: fc.integer(), ops: fc.integer({ min: 5, max: 70 }), products: fc.integer({ min: 1, max: 6 }) })
  .map(({ seed, ops, products }) => generateNegotiation({ seed, ops, products, hostileRate: 0.05, statusFlow: 'random', carrier: true, syncRate: 0.3 }))
  .map((n) => generated.count(n));

const json = (ops: readonly SourcedOp[]) => JSON.stringify(fold(ops));

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
      fcParams(PROPERTY_RUNS),
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
      fcParams(PROPERTY_RUNS),
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
      fcParams(PROPERTY_RUNS),
    );
  });

  it('the negotiations the properties above ran do reach agreement and beyond (they are not vacuous)', () => {
    // Counted over exactly the runs of the three properties above (this file's own distribution, not another one).
    console.info(`convergence properties: ${generated.report()}`);
    expect(generated.runs, 'run the whole file: this test counts the runs of the properties above').toBeGreaterThanOrEqual(3 * PROPERTY_RUNS);
    expect(generated.share('agreed')).toBeGreaterThanOrEqual(1 / 3);
    expect(generated.share('shipped')).toBeGreaterThanOrEqual(0.2);
    expect(generated.share('receivedAndPaid')).toBeGreaterThanOrEqual(0.1);
    expect(generated.share('disputed')).toBeGreaterThanOrEqual(0.1);
    expect(generated.share('changedAfter')).toBeGreaterThanOrEqual(0.2);
    expect(generated.share('rejected')).toBeGreaterThanOrEqual(0.5);
  });
});
