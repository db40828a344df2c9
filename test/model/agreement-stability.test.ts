import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fold } from '../../src/model/fold.ts';
import type { OpId } from '../../src/model/ids.ts';
import type { FoldedInvoice } from '../../src/model/invoice.ts';
import type { SourcedOp } from '../../src/model/ops.ts';
import { agreementScript, ancestry, playAgreement, sideOfContainer, type Played, type Snapshot } from '../support/agreement-arbitraries.ts';
import { fcParams } from '../support/fc.ts';

// Issue 15's property: once a device's view shows an agreement that its own party did not contest concurrently (no
// device of that party proposed or accepted without having seen the agreement's Accept, unseen by it), every later
// view of every device, after any further ops in any order, shows the same agreement, the same agreed totals, and
// every MarkShipped, MarkPaid and MarkReceived that view had accepted.

const RUNS = 1000;
const MARKS = new Set(['MarkShipped', 'MarkPaid', 'MarkReceived']);

/** A permutation drawn from fast-check, so that it shrinks and replays with the seed. */
const permuted = <T>(items: readonly T[], keys: readonly number[]): T[] =>
  items.map((item, i) => ({ item, key: keys[i % keys.length] ?? 0, i })).sort((a, b) => a.key - b.key || a.i - b.i).map(({ item }) => item);

/** What a view shows agreed: the agreement (but for changes after it), the agreed totals and lines. */
const agreedPart = (invoice: FoldedInvoice): string => {
  const { termsHash, proposal, totals } = invoice.agreement ?? {};
  return JSON.stringify({ termsHash, proposal, totals, shown: invoice.totals, items: invoice.items });
};
const acceptedMarks = (invoice: FoldedInvoice): string[] => invoice.log.filter((e) => MARKS.has(e.type) && e.state === 'accepted').map((e) => e.opId);

/** The later view keeps what the earlier one showed: agreement, agreed totals and invoice, every accepted mark. */
function expectKept(earlier: FoldedInvoice, later: FoldedInvoice): void {
  // Compared as strings first: thousands of views per run, and expect() is only needed to report a failure.
  const marks = acceptedMarks(earlier);
  const laterMarks = new Set(acceptedMarks(later));
  if (later.agreement !== null && agreedPart(later) === agreedPart(earlier) && marks.every((id) => laterMarks.has(id))) return;
  expect(later.agreement).not.toBeNull();
  expect(JSON.parse(agreedPart(later))).toEqual(JSON.parse(agreedPart(earlier)));
  expect(marks.filter((id) => !laterMarks.has(id))).toEqual([]);
}

/** Whether a device of `side` proposed or accepted concurrently with the Accept the view shows agreed. */
function contestedBy(side: 'buyer' | 'seller', view: Snapshot, played: Played, inPast: (a: OpId, b: OpId) => boolean): boolean {
  const accept = view.invoice.agreement!.acceptOpId;
  return played.ops.some(
    ({ op, container }) =>
      (op.type === 'Propose' || op.type === 'Accept') && op.id !== accept && sideOfContainer(container) === side && !inPast(op.id, accept) && !inPast(accept, op.id),
  );
}
const contestedByOwnParty = (view: Snapshot, played: Played, inPast: (a: OpId, b: OpId) => boolean) =>
  contestedBy(view.side, view, played, inPast);
const contestedByCounterparty = (view: Snapshot, played: Played, inPast: (a: OpId, b: OpId) => boolean) =>
  contestedBy(view.side === 'buyer' ? 'seller' : 'buyer', view, played, inPast);

/** Two Propose ops of one party, from different devices, neither having seen the other. */
function concurrentProposals(ops: readonly SourcedOp[], side: 'buyer' | 'seller', inPast: (a: OpId, b: OpId) => boolean): boolean {
  const proposals = ops.filter((s) => s.op.type === 'Propose' && sideOfContainer(s.container) === side).map((s) => s.op);
  return proposals.some((a) => proposals.some((b) => a.device !== b.device && !inPast(a.id, b.id) && !inPast(b.id, a.id) && a.id !== b.id));
}

/** Two Accept ops, neither having seen the other (of one party, or crossed). */
function concurrentAccepts(ops: readonly SourcedOp[], inPast: (a: OpId, b: OpId) => boolean): boolean {
  const accepts = ops.filter((s) => s.op.type === 'Accept').map((s) => s.op);
  return accepts.some((a) => accepts.some((b) => a.id !== b.id && !inPast(a.id, b.id) && !inPast(b.id, a.id)));
}

describe('agreements that hold', () => {
  it('an agreement a device saw, uncontested by its own party, stays with its totals and accepted marks in every later view', () => {
    const seen = {
      runs: 0,
      proposed: 0,
      concurrentBuyer: 0,
      concurrentSeller: 0,
      concurrentBoth: 0,
      agreed: 0,
      shipped: 0,
      checked: 0,
      checkedAgainstCounterparty: 0,
      unseenRejected: 0,
      concurrentAccepts: 0,
      acceptanceLost: 0,
      contestedViews: 0,
    };
    const orderKeys = fc.array(fc.integer(), { minLength: 1, maxLength: 60 });
    const supersetMask = fc.array(fc.boolean(), { minLength: 1, maxLength: 60 });
    fc.assert(
      fc.property(agreementScript, orderKeys, supersetMask, (script, keys, mask) => {
        const played = playAgreement(script);
        const inPast = ancestry(played.ops);
        const final = fold(permuted(played.ops, keys));
        expect(JSON.stringify(final)).toBe(JSON.stringify(fold(played.ops)));

        let checked = false;
        let againstCounterparty = false;
        let randomSupersets = 0;
        played.snapshots.forEach((view, index) => {
          if (!view.invoice.agreement) return;
          if (contestedByOwnParty(view, played, inPast)) {
            seen.contestedViews++;
            return;
          }
          // What a device knows is closed under deps, so knowing the view's heads is knowing everything it knew.
          const later = played.snapshots.slice(index + 1).filter((w) => view.invoice.heads.every((id) => w.known.has(id)));
          for (const w of later) expectKept(view.invoice, w.invoice);
          expectKept(view.invoice, final);
          if (randomSupersets++ < 3) {
            const extra = played.ops.filter((s, i) => view.known.has(s.op.id) || mask[i % mask.length]);
            expectKept(view.invoice, fold(permuted(extra, keys)));
          }
          checked ||= played.ops.length > view.known.size || later.some((w) => w.known.size > view.known.size);
          againstCounterparty ||= contestedByCounterparty(view, played, inPast);
        });

        seen.runs++;
        const types = played.ops.map((s) => s.op.type);
        if (types.includes('Propose')) seen.proposed++;
        const [buyer, seller] = [concurrentProposals(played.ops, 'buyer', inPast), concurrentProposals(played.ops, 'seller', inPast)];
        if (buyer) seen.concurrentBuyer++;
        if (seller) seen.concurrentSeller++;
        if (buyer && seller) seen.concurrentBoth++;
        if (final.agreement) seen.agreed++;
        if (final.shipped) seen.shipped++;
        if (checked) seen.checked++;
        if (againstCounterparty) seen.checkedAgainstCounterparty++;
        if (final.rejected.some((r) => r.type === 'Propose' && r.reason?.startsWith('it was made concurrently with the agreement'))) seen.unseenRejected++;
        if (concurrentAccepts(played.ops, inPast)) seen.concurrentAccepts++;
        if (final.rejected.some((r) => r.type === 'Accept' && r.reason?.includes(' instead: '))) seen.acceptanceLost++;
      }),
      fcParams(RUNS),
    );
    console.info('agreement stability, runs reaching each state:', seen);
    const share = (count: number) => count / seen.runs;
    expect(seen.runs).toBeGreaterThanOrEqual(RUNS);
    expect(share(seen.proposed)).toBeGreaterThan(0.9);
    expect(share(seen.concurrentBuyer)).toBeGreaterThan(0.5);
    expect(share(seen.concurrentSeller)).toBeGreaterThan(0.5);
    expect(share(seen.concurrentBoth)).toBeGreaterThan(0.3);
    expect(share(seen.agreed)).toBeGreaterThan(0.7);
    expect(share(seen.shipped)).toBeGreaterThan(0.4);
    // Most runs have a view with an agreement its own party did not contest, compared with views that know more...
    expect(share(seen.checked)).toBeGreaterThan(0.5);
    // ...and in many of them the other party did propose or accept without having seen that agreement.
    expect(share(seen.checkedAgainstCounterparty)).toBeGreaterThan(0.08);
    expect(share(seen.unseenRejected)).toBeGreaterThan(0.2);
    expect(share(seen.concurrentAccepts)).toBeGreaterThan(0.07);
    // An acceptance losing to another needs a party's devices to act on different offers at once: rarer, and covered
    // case by case in agreement.test.ts; here a few runs (about 1 %) must reach it.
    expect(seen.acceptanceLost).toBeGreaterThanOrEqual(3);
    expect(seen.contestedViews).toBeGreaterThan(0);
  }, 600_000);
});
