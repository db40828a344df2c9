import { describe, expect, it } from 'vitest';
import { acceptanceOf, proposalOf } from '../../src/model/builder.ts';
import { fold } from '../../src/model/fold.ts';
import type { FoldedInvoice } from '../../src/model/invoice.ts';
import type { Op, SourcedOp } from '../../src/model/ops.ts';
import { entryOf, rejection, send, short, started, syncAll, type Started } from '../support/invoice-kit.ts';

// Issue 15: an Accept is judged by what its author could see. A proposal it had not seen cannot undo it; a conflict
// between acceptances is borne by the party whose own devices decided concurrently. In-memory devices, no pods.

/** The buyer wants 2 beans, the seller quotes 1.50 at 21 %: 3.00 net, 3.63 gross. Everyone has seen it. */
function priced(): Started {
  const s = started();
  s.bd.write('AddToCart', { product: 'beans', quantity: 2 }, s.now());
  s.sd.write('QuoteItem', { product: 'beans', unitPrice: '1.50', taxRate: '21' }, s.now());
  syncAll(s.all);
  return s;
}

/** The union of what every device knows, folded in three arrival orders: they must agree. */
function everywhere(s: Started): FoldedInvoice {
  const ops: SourcedOp[] = [...new Map(s.all.flatMap((d) => d.all()).map((o) => [`${o.op.id} ${o.container}`, o])).values()];
  const orders = [ops, [...ops].reverse(), [...ops.slice(5), ...ops.slice(0, 5)]];
  const folded = orders.map((list) => JSON.stringify(fold(list, { invoiceId: s.invoiceId })));
  expect(new Set(folded).size).toBe(1);
  for (const device of s.all) device.receive(ops);
  for (const device of s.all) expect(JSON.stringify(device.view())).toBe(folded[0]);
  return JSON.parse(folded[0]!) as FoldedInvoice;
}

const agreementOf = (invoice: FoldedInvoice) => {
  const { changesAfter: _changes, ...rest } = invoice.agreement ?? { changesAfter: [] };
  return rest;
};

const unseenReason = (agreed: Op<'Propose'>, accept: Op<'Accept'>) =>
  `it was made concurrently with the agreement on terms ${short(agreed.payload.termsHash)}: the Accept (op ${short(accept.id)}) had not seen it, ` +
  'and an acceptance is never undone by a proposal its author could not have seen';

describe('a proposal the acceptor could not have seen does not undo the acceptance', () => {
  it("the issue's case: the seller accepted the buyer's offer and shipped; the buyer's other device re-proposed, clocked in between", () => {
    const s = priced();
    const t1 = s.now();
    const h1 = s.bd.write('Propose', proposalOf(s.bd.view()), t1);
    send(s.bd, s.sd);
    const accept = s.sd.write('Accept', acceptanceOf(s.sd.view(), 'seller'), t1 + 2000);
    const shipped = s.sd.write('MarkShipped', {}, t1 + 3000);
    const sellerSaw = s.sd.view();
    expect(sellerSaw.status).toBe('shipped');
    // Buyer-mobile never saw H1: it edits a quantity and proposes H2, with a clock between H1 and the Accept.
    const edit = s.bm.write('EditQuantity', { product: 'beans', quantity: 5 }, t1 + 500);
    const h2 = s.bm.write('Propose', proposalOf(s.bm.view()), t1 + 600);
    expect(h1.clock.wallMs < h2.clock.wallMs && h2.clock.wallMs < accept.clock.wallMs).toBe(true);
    expect(h2.payload.termsHash).not.toBe(h1.payload.termsHash);

    const invoice = everywhere(s);
    expect(invoice.status).toBe('shipped');
    expect(agreementOf(invoice)).toEqual(agreementOf(sellerSaw));
    expect(invoice.agreement).toMatchObject({ termsHash: h1.payload.termsHash, acceptOpId: accept.id, acceptedBy: { role: 'seller' }, proposal: { opId: h1.id, side: 'buyer' } });
    expect(invoice.agreement?.changesAfter.map((c) => c.opId)).toEqual([edit.id]);
    expect(invoice.totals.gross).toBe('3.63');
    expect(invoice.items[0]).toMatchObject({ productCode: 'beans', qty: 2 });
    expect(entryOf(invoice, shipped.id)?.state).toBe('accepted');
    expect(entryOf(invoice, accept.id)?.state).toBe('accepted');
    expect(rejection(invoice, h2.id)).toBe(unseenReason(h1, accept));
    expect(invoice.rejected.map((r) => r.opId)).toEqual([h2.id]);
  });

  it("the mirror image: the buyer accepted the seller's offer; the seller's other device re-proposed a cheaper quote, clocked in between", () => {
    const s = priced();
    const t1 = s.now();
    const s1 = s.sd.write('Propose', proposalOf(s.sd.view()), t1);
    send(s.sd, s.bd);
    const accept = s.bd.write('Accept', acceptanceOf(s.bd.view(), 'buyer'), t1 + 2000);
    const buyerSaw = s.bd.view();
    expect(buyerSaw.status).toBe('agreed');
    const quote = s.sm.write('QuoteItem', { product: 'beans', unitPrice: '1.00', taxRate: '21' }, t1 + 500);
    const s2 = s.sm.write('Propose', proposalOf(s.sm.view()), t1 + 600);
    expect(s1.clock.wallMs < s2.clock.wallMs && s2.clock.wallMs < accept.clock.wallMs).toBe(true);

    let invoice = everywhere(s);
    expect(invoice.status).toBe('agreed');
    expect(agreementOf(invoice)).toEqual(agreementOf(buyerSaw));
    expect(invoice.agreement?.termsHash).toBe(s1.payload.termsHash);
    expect(invoice.agreement?.changesAfter.map((c) => c.opId)).toEqual([quote.id]);
    expect(rejection(invoice, s2.id)).toBe(unseenReason(s1, accept));

    // The deal goes on: shipped, paid, received, on the terms the buyer accepted.
    s.sm.write('MarkShipped', {}, s.now());
    s.sm.write('MarkPaid', {}, s.now());
    send(s.sm, s.bd);
    s.bd.write('MarkReceived', {}, s.now());
    invoice = everywhere(s);
    expect(invoice.status).toBe('received and paid');
    expect(invoice.totals.gross).toBe('3.63');
    expect(invoice.rejected.map((r) => r.opId)).toEqual([s2.id]);
  });
});

describe("an Accept is judged by its own causal past", () => {
  it('an Accept of an offer it had seen superseded by a newer offer of the other side is rejected', () => {
    const s = priced();
    const s1 = s.sd.write('Propose', proposalOf(s.sd.view()), s.now());
    s.sd.write('QuoteItem', { product: 'beans', unitPrice: '1.25', taxRate: '21' }, s.now());
    const s2 = s.sd.write('Propose', proposalOf(s.sd.view()), s.now());
    send(s.sd, s.bd);
    const stale = s.bd.write('Accept', { termsHash: s1.payload.termsHash }, s.now());
    const invoice = everywhere(s);
    expect(rejection(invoice, stale.id)).toBe(
      `the proposal of terms ${short(s1.payload.termsHash)} was superseded by a proposal of terms ${short(s2.payload.termsHash)} (op ${short(s2.id)}), which it had seen`,
    );
    expect(invoice.status).toBe('seller proposes');
    expect(invoice.proposal?.opId).toBe(s2.id);
  });

  it('an Accept after its own side counter-proposed (in what it had seen) is rejected', () => {
    const s = priced();
    const s1 = s.sd.write('Propose', proposalOf(s.sd.view()), s.now());
    send(s.sd, s.bd);
    s.bd.write('EditQuantity', { product: 'beans', quantity: 3 }, s.now());
    const b1 = s.bd.write('Propose', proposalOf(s.bd.view()), s.now());
    send(s.bd, s.bm);
    const accept = s.bm.write('Accept', { termsHash: s1.payload.termsHash }, s.now());
    const invoice = everywhere(s);
    expect(rejection(invoice, accept.id)).toBe(
      `the proposal of terms ${short(s1.payload.termsHash)} was superseded by the buyer's own proposal of terms ${short(b1.payload.termsHash)} (op ${short(b1.id)}), which it had seen`,
    );
    expect(invoice.status).toBe('buyer proposes');
  });

  it('an Accept of a proposal it had not seen is rejected, even when that proposal is older by clock', () => {
    const s = priced();
    const s1 = s.sd.write('Propose', proposalOf(s.sd.view()), s.now());
    const blind = s.bm.write('Accept', { termsHash: s1.payload.termsHash }, s.now());
    const invoice = everywhere(s);
    expect(rejection(invoice, blind.id)).toBe(`it accepts terms ${short(s1.payload.termsHash)} from a proposal it had not seen`);
    expect(invoice.status).toBe('seller proposes');
  });
});

describe('a conflict within one party is borne by that party', () => {
  // The example: seller-desktop counter-proposes H2 and the buyer accepts H2, while seller-mobile, which saw
  // only the buyer's H1, accepts H1 and ships. Whatever the clocks, the buyer's acceptance stands.
  for (const when of ['before', 'after'] as const) {
    it(`seller-mobile's concurrent acceptance of the older offer loses, clocked ${when} the buyer's`, () => {
      const s = priced();
      const t = s.now();
      const h1 = s.bd.write('Propose', proposalOf(s.bd.view()), t);
      syncAll(s.all);
      s.sd.write('QuoteItem', { product: 'beans', unitPrice: '1.25', taxRate: '21' }, t + 1000);
      const h2 = s.sd.write('Propose', proposalOf(s.sd.view()), t + 2000);
      send(s.sd, s.bd);
      const buyerAccept = s.bd.write('Accept', acceptanceOf(s.bd.view(), 'buyer'), t + 3000);
      const buyerSaw = s.bd.view();
      expect(buyerSaw.agreement?.termsHash).toBe(h2.payload.termsHash);
      const sellerAccept = s.sm.write('Accept', acceptanceOf(s.sm.view(), 'seller'), when === 'before' ? t + 1500 : t + 4000);
      const shipped = s.sm.write('MarkShipped', {}, t + 5000);
      expect(sellerAccept.payload.termsHash).toBe(h1.payload.termsHash);

      const invoice = everywhere(s);
      expect(invoice.status).toBe('agreed');
      expect(agreementOf(invoice)).toEqual(agreementOf(buyerSaw));
      expect(invoice.agreement).toMatchObject({ termsHash: h2.payload.termsHash, acceptOpId: buyerAccept.id, acceptedBy: { role: 'buyer' } });
      expect(invoice.totals.gross).toBe('3.03');
      expect(rejection(invoice, sellerAccept.id)).toBe(
        `the invoice is agreed on terms ${short(h2.payload.termsHash)} by op ${short(buyerAccept.id)} instead: this Accept was made concurrently with ` +
          `op ${short(h2.id)}, a Propose of the seller's own side, while op ${short(buyerAccept.id)} conflicts with no decision of its own side: ` +
          "a party's concurrent decisions are its own to reconcile",
      );
      expect(rejection(invoice, shipped.id)).toBe(
        `it was made on the acceptance of terms ${short(h1.payload.termsHash)} (op ${short(sellerAccept.id)}), which lost: ` +
          `the invoice is agreed on terms ${short(h2.payload.termsHash)} by op ${short(buyerAccept.id)}`,
      );
      expect(invoice.shipped).toBe(false);
      expect(entryOf(invoice, h2.id)?.state).toBe('accepted');
    });
  }

  it("the buyer's device accepts while another buyer device counter-proposes, and the seller accepts that: the seller's acceptance stands", () => {
    const s = priced();
    const s1 = s.sd.write('Propose', proposalOf(s.sd.view()), s.now());
    syncAll(s.all);
    const buyerAccept = s.bd.write('Accept', acceptanceOf(s.bd.view(), 'buyer'), s.now());
    s.bm.write('EditQuantity', { product: 'beans', quantity: 4 }, s.now());
    const b1 = s.bm.write('Propose', proposalOf(s.bm.view()), s.now());
    send(s.bm, s.sm);
    const sellerAccept = s.sm.write('Accept', acceptanceOf(s.sm.view(), 'seller'), s.now());
    const sellerSaw = s.sm.view();

    const invoice = everywhere(s);
    expect(agreementOf(invoice)).toEqual(agreementOf(sellerSaw));
    expect(invoice.agreement).toMatchObject({ termsHash: b1.payload.termsHash, acceptOpId: sellerAccept.id, acceptedBy: { role: 'seller' } });
    expect(invoice.totals.gross).toBe('7.26');
    expect(rejection(invoice, buyerAccept.id)).toMatch(
      new RegExp(`^the invoice is agreed on terms ${short(b1.payload.termsHash)} by op ${short(sellerAccept.id)} instead: this Accept was made concurrently with op ${short(b1.id)}, a Propose of the buyer's own side`),
    );
    expect(entryOf(invoice, s1.id)?.state).toBe('accepted');
  });

  for (const when of ['before', 'after'] as const) {
    it(`two buyer devices accept different seller offers: the acceptance of the later offer wins (stale one clocked ${when})`, () => {
      const s = priced();
      s.sd.write('Propose', proposalOf(s.sd.view()), s.now());
      syncAll(s.all);
      s.sd.write('QuoteItem', { product: 'beans', unitPrice: '1.25', taxRate: '21' }, s.now());
      const s2 = s.sd.write('Propose', proposalOf(s.sd.view()), s.now());
      send(s.sd, s.bd);
      const t = s.now();
      const fresh = s.bd.write('Accept', acceptanceOf(s.bd.view(), 'buyer'), t);
      send(s.bd, s.sd);
      const shipped = s.sd.write('MarkShipped', {}, t + 1000);
      const sellerSaw = s.sd.view();
      const stale = s.bm.write('Accept', acceptanceOf(s.bm.view(), 'buyer'), when === 'before' ? t - 500 : t + 2000);

      const invoice = everywhere(s);
      expect(agreementOf(invoice)).toEqual(agreementOf(sellerSaw));
      expect(invoice.agreement?.termsHash).toBe(s2.payload.termsHash);
      expect(invoice.status).toBe('shipped');
      expect(entryOf(invoice, shipped.id)?.state).toBe('accepted');
      expect(rejection(invoice, stale.id)).toBe(
        `the invoice is agreed on terms ${short(s2.payload.termsHash)} by op ${short(fresh.id)} instead: both acceptances were made concurrently with ` +
          `a decision of their own side, and op ${short(fresh.id)} accepts the later proposal (op ${short(s2.id)})`,
      );
    });
  }

  it('two buyer devices accept the same offer concurrently: one agreement, both acceptances kept, a shipment after either counts', () => {
    const s = priced();
    const s1 = s.sd.write('Propose', proposalOf(s.sd.view()), s.now());
    syncAll(s.all);
    const first = s.bd.write('Accept', acceptanceOf(s.bd.view(), 'buyer'), s.now());
    const second = s.bm.write('Accept', acceptanceOf(s.bm.view(), 'buyer'), s.now());
    send(s.bm, s.sd);
    const shipped = s.sd.write('MarkShipped', {}, s.now());
    const invoice = everywhere(s);
    expect(invoice.agreement).toMatchObject({ termsHash: s1.payload.termsHash, acceptOpId: first.id });
    expect(entryOf(invoice, second.id)?.state).toBe('accepted');
    expect(entryOf(invoice, shipped.id)?.state).toBe('accepted');
    expect(invoice.rejected).toEqual([]);
  });

  it('crossed acceptances, each side also proposing concurrently: the acceptance of the later proposal wins, on every device', () => {
    const s = priced();
    s.bd.write('EditQuantity', { product: 'beans', quantity: 3 }, s.now());
    const b1 = s.bd.write('Propose', proposalOf(s.bd.view()), s.now());
    const s1 = s.sd.write('Propose', proposalOf(s.sd.view()), s.now());
    send(s.sd, s.bm);
    send(s.bd, s.sm);
    const buyerAccept = s.bm.write('Accept', acceptanceOf(s.bm.view(), 'buyer'), s.now());
    const sellerAccept = s.sm.write('Accept', acceptanceOf(s.sm.view(), 'seller'), s.now());
    expect([buyerAccept.payload.termsHash, sellerAccept.payload.termsHash]).toEqual([s1.payload.termsHash, b1.payload.termsHash]);
    const invoice = everywhere(s);
    expect(invoice.agreement).toMatchObject({ termsHash: s1.payload.termsHash, acceptOpId: buyerAccept.id });
    expect(rejection(invoice, sellerAccept.id)).toMatch(/both acceptances were made concurrently with a decision of their own side/);
    expect(rejection(invoice, b1.id)).toBe(unseenReason(s1, buyerAccept));
  });
});

describe('after the agreement', () => {
  it('a Dispute stops only the status ops made after seeing it: a concurrent Accept and shipment stand', () => {
    const s = priced();
    const s1 = s.sd.write('Propose', proposalOf(s.sd.view()), s.now());
    syncAll(s.all);
    const dispute = s.bm.write('Dispute', { reason: 'wrong beans' }, s.now());
    const accept = s.bd.write('Accept', acceptanceOf(s.bd.view(), 'buyer'), s.now());
    send(s.bd, s.sd);
    const shipped = s.sd.write('MarkShipped', {}, s.now());
    send(s.bm, s.sm);
    send(s.sd, s.sm);
    const paid = s.sm.write('MarkPaid', {}, s.now());
    const invoice = everywhere(s);
    expect(invoice.status).toBe('buyer-disagrees');
    expect(invoice.agreement).toMatchObject({ termsHash: s1.payload.termsHash, acceptOpId: accept.id });
    expect(entryOf(invoice, shipped.id)?.state).toBe('accepted');
    expect(invoice.shipped).toBe(true);
    expect(rejection(invoice, paid.id)).toBe(`the invoice is disputed (op ${short(dispute.id)}): settle it out of band and start a new invoice`);
  });

  it('two seller devices marking shipped concurrently are both accepted; a mark made after seeing one is a duplicate', () => {
    const s = priced();
    s.sd.write('Propose', proposalOf(s.sd.view()), s.now());
    syncAll(s.all);
    s.bd.write('Accept', acceptanceOf(s.bd.view(), 'buyer'), s.now());
    syncAll(s.all);
    const one = s.sd.write('MarkShipped', {}, s.now());
    const two = s.sm.write('MarkShipped', {}, s.now());
    send(s.sd, s.sm);
    const three = s.sm.write('MarkShipped', {}, s.now());
    const invoice = everywhere(s);
    expect(entryOf(invoice, one.id)?.state).toBe('accepted');
    expect(entryOf(invoice, two.id)?.state).toBe('accepted');
    expect(rejection(invoice, three.id)).toMatch(new RegExp(`^it was already marked shipped by op (${short(one.id)}|${short(two.id)})$`));
  });

  it('a mark whose author had not seen what it needs is rejected, even when that exists concurrently', () => {
    const s = priced();
    s.sd.write('Propose', proposalOf(s.sd.view()), s.now());
    syncAll(s.all);
    s.bd.write('Accept', acceptanceOf(s.bd.view(), 'buyer'), s.now());
    const blindShip = s.sm.write('MarkShipped', {}, s.now());
    send(s.bd, s.sd);
    s.sd.write('MarkShipped', {}, s.now());
    const blindReceive = s.bd.write('MarkReceived', {}, s.now());
    const invoice = everywhere(s);
    expect(rejection(invoice, blindShip.id)).toBe('it marks the invoice shipped without having seen the agreement');
    expect(rejection(invoice, blindReceive.id)).toBe('it marks the goods received without having seen them shipped');
    expect(invoice.status).toBe('shipped');
  });

  it('a Propose made after seeing the agreement is rejected as already agreed, and so is a second Accept', () => {
    const s = priced();
    const s1 = s.sd.write('Propose', proposalOf(s.sd.view()), s.now());
    syncAll(s.all);
    s.bd.write('Accept', acceptanceOf(s.bd.view(), 'buyer'), s.now());
    syncAll(s.all);
    const again = s.bm.write('Accept', { termsHash: s1.payload.termsHash }, s.now());
    const invoice = everywhere(s);
    expect(rejection(invoice, again.id)).toBe(`the invoice is already agreed on terms ${short(s1.payload.termsHash)}`);
  });
});
