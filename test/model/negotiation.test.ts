import { describe, expect, it } from 'vitest';
import { acceptanceOf, proposalOf } from '../../src/model/builder.ts';
import { asInvoiceId } from '../../src/model/ids.ts';
import type { FoldedInvoice } from '../../src/model/invoice.ts';
import { OP_TYPES, type AnyOp, type Op, type OpType } from '../../src/model/ops.ts';
import { BUYER, CARRIER_P, SELLER, SimDevice, T0, createPayload, send, syncAll } from '../support/invoice-kit.ts';

// One negotiation through every op type of the issue's table, from 2 buyer devices, 2 seller devices and a
// carrier, to "received and paid" (and then a dispute, the 30th op type). Totals are computed by hand below.

describe('a negotiation through every op type, to "received and paid"', () => {
  const invoiceId = asInvoiceId('2026-0042');
  let t = T0;
  const now = () => (t += 1000);
  const bd = new SimDevice('buyer', 'desktop', BUYER.container, invoiceId);
  const bm = new SimDevice('buyer', 'mobile', BUYER.container, invoiceId);
  const sd = new SimDevice('seller', 'desktop', SELLER.container, invoiceId);
  const sm = new SimDevice('seller', 'mobile', SELLER.container, invoiceId);
  const carrier = new SimDevice('other', 'scanner', CARRIER_P.container, invoiceId);
  const parties = [bd, bm, sd, sm];
  const everyone = [...parties, carrier];
  const written: AnyOp[] = [];
  const w = <T extends OpType>(op: Op<T>) => {
    written.push(op as AnyOp);
    return op;
  };

  // --- set-up -------------------------------------------------------------------------------------------
  w(bd.write('CreateInvoice', createPayload('EUR'), now()));
  syncAll(parties);
  w(sd.write('AddParticipant', { role: 'carrier', webId: CARRIER_P.webId, container: CARRIER_P.container, allowedTypes: ['SetTracking', 'Comment'], name: 'ParcelCo' }, now()));
  syncAll(parties);
  send(sd, carrier);
  w(bm.write('SetBuyerInfo', { info: { name: 'Michiel B.V.', vatId: 'NL001B01' } }, now()));
  w(sm.write('SetSellerInfo', { info: { name: 'George Ltd', vatId: 'NL002B02' } }, now()));

  // --- the cart: coffee added on both buyer devices concurrently (2 + 3 = 5), then fixed to 4 -------------
  w(bd.write('AddToCart', { product: 'coffee', quantity: 2 }, now()));
  w(bm.write('AddToCart', { product: 'coffee', quantity: 3 }, now()));
  syncAll(parties);
  const concurrentCoffee = bd.view().items.find((line) => line.productCode === 'coffee')?.desired;
  w(bd.write('EditQuantity', { product: 'coffee', quantity: 4 }, now()));
  w(bm.write('AddToCart', { product: 'tea', quantity: 3 }, now()));
  w(bm.write('AddToCart', { product: 'mug', quantity: 2 }, now()));
  w(bm.write('AddToCart', { product: 'spoon', quantity: 1 }, now()));
  w(bm.write('RemoveFromCart', { product: 'spoon' }, now()));

  // --- stock: Set 10 and −7 written concurrently on the two seller devices → 3 coffee available -------------
  w(sd.write('SetProductStock', { product: 'coffee', quantity: 10 }, now()));
  w(sm.write('AddProductStock', { product: 'coffee', delta: -7 }, now()));

  // --- quotes: 12.50 and 11.99 concurrently, then 13.00 later: the lowest (11.99) is the price -------------
  w(sd.write('QuoteItem', { product: 'coffee', unitPrice: '12.50', taxRate: '9' }, now()));
  w(sm.write('QuoteItem', { product: 'coffee', unitPrice: '11.99', taxRate: '9' }, now()));
  w(sm.write('QuoteItem', { product: 'tea', unitPrice: '4.125', taxRate: '9' }, now()));
  w(sm.write('QuoteItem', { product: 'mug', unitPrice: '7.50', taxRate: '21' }, now()));
  syncAll(parties);
  w(sd.write('QuoteItem', { product: 'coffee', unitPrice: '13.00', taxRate: '9' }, now()));
  w(sd.write('ItemOutOfStock', { product: 'mug' }, now()));
  w(bd.write('BidItem', { product: 'coffee', unitPrice: '11.99', taxRate: '9' }, now()));

  // --- extras and discounts ------------------------------------------------------------------------------
  w(bd.write('AddExtra', { key: 'gift-wrap', description: 'Gift wrap', amount: '2.00', taxRate: '21' }, now()));
  w(sd.write('AddExtra', { key: 'shipping', description: 'Shipping', amount: '5.95', taxRate: '21' }, now()));
  w(sd.write('AddDiscount', { key: 'loyalty', description: 'Loyalty 10%', percent: '10' }, now()));
  w(sm.write('AddDiscount', { key: 'promo', description: 'Promo', amount: '3.00', taxRate: '21' }, now()));
  syncAll(parties);
  w(bm.write('RemoveExtra', { key: 'gift-wrap' }, now()));
  w(sd.write('RemoveDiscount', { key: 'promo' }, now()));

  // --- delivery, address, payment terms, comments -------------------------------------------------------
  w(sd.write('ProposeDeliveryDate', { date: '2026-12-01' }, now()));
  syncAll(parties);
  w(bm.write('RequestPostponedDelivery', { date: '2026-12-08' }, now()));
  syncAll(parties);
  const requestWasOpen = sm.view().delivery.requestOpen;
  w(sm.write('ProposeDeliveryDate', { date: '2026-12-08' }, now()));
  const address = { streetAddress: 'Keizersgracht 1', postalCode: '1015', addressLocality: 'Amsterdam', addressCountry: 'NL' };
  w(bd.write('ChooseDeliveryAddress', { address }, now()));
  w(sm.write('SetPaymentTerms', { terms: 'net 30', dueDays: 30 }, now()));
  w(sd.write('SetInvoiceDetails', { number: 'S-2026-0042', issueDate: '2026-11-30' }, now()));
  w(bd.write('SetBuyerReference', { reference: 'KITCHEN', orderReference: 'PO-77' }, now()));
  w(bm.write('Comment', { text: 'Please ring twice' }, now()));
  w(sd.write('Comment', { text: 'Noted' }, now()));
  syncAll(everyone);
  w(carrier.write('Comment', { text: 'Pick-up booked' }, now()));
  syncAll(everyone);

  // --- proposal and acceptance --------------------------------------------------------------------------
  const draftHashes = everyone.map((device) => device.view().termsHash);
  const draft = bd.view();
  const propose = w(sd.write('Propose', proposalOf(sd.view()), now()));
  send(sd, bm);
  const accept = w(bm.write('Accept', acceptanceOf(bm.view(), 'buyer'), now()));
  syncAll(everyone);
  const atAgreement = everyone.map((device) => device.view());

  // --- changes after agreement (listed, not applied) ----------------------------------------------------
  const lateAdd = w(bd.write('AddToCart', { product: 'tea', quantity: 2 }, now()));
  const lateDiscount = w(sm.write('AddDiscount', { key: 'late', description: 'Too late', percent: '50' }, now()));
  syncAll(everyone);

  // --- shipping, tracking, payment, receipt -------------------------------------------------------------
  w(sd.write('MarkShipped', {}, now()));
  syncAll(everyone);
  w(carrier.write('SetTracking', { carrier: 'ParcelCo', trackingId: 'PC-778899', url: 'https://parcelco.example/t/PC-778899' }, now()));
  w(sm.write('MarkPaid', {}, now()));
  syncAll(everyone);
  w(bd.write('MarkReceived', {}, now()));
  syncAll(everyone);
  const finalViews = everyone.map((device) => device.view());
  const final: FoldedInvoice = finalViews[0]!;

  // --- and afterwards, the buyer disputes ---------------------------------------------------------------
  const dispute = w(bm.write('Dispute', { reason: 'one bag of coffee was torn' }, now()));
  syncAll(everyone);
  const disputed = sd.view();

  // Totals by hand:
  //   coffee: desired 4 (2 + 3 concurrently, then edited to 4), available 10 − 7 = 3 → qty 3
  //           lowest quote 11.99 at 9 %: 3 × 11.99 = 35.97
  //   tea:    3 × 4.125 = 12.375 → 12.38 at 9 %
  //   mug:    out of stock → qty 0, shown, not invoiced
  //   spoon:  removed → desired 0, shown, not invoiced
  //   extras: gift-wrap removed; shipping 5.95 at 21 %
  //   discounts: promo removed; loyalty 10 % of each rate's base:
  //           9 %: base 35.97 + 12.38 = 48.35; 10 % = 4.835 → 4.84; 48.35 − 4.84 = 43.51
  //          21 %: base 5.95;                 10 % = 0.595 → 0.60;  5.95 − 0.60 =  5.35
  //           loyalty discount shown as 4.84 + 0.60 = 5.44
  //   VAT:    9 % of 43.51 = 3.9159 → 3.92;  21 % of 5.35 = 1.1235 → 1.12
  //   net 43.51 + 5.35 = 48.86; tax 3.92 + 1.12 = 5.04; gross 48.86 + 5.04 = 53.90
  const expectedTotals = {
    net: '48.86',
    tax: [
      { category: 'S', rate: '9', base: '43.51', amount: '3.92' },
      { category: 'S', rate: '21', base: '5.35', amount: '1.12' },
    ],
    taxTotal: '5.04',
    gross: '53.90',
  };

  it('used all 30 op types, every one accepted, nothing rejected or pending', () => {
    expect(new Set(written.map((op) => op.type))).toEqual(new Set(OP_TYPES));
    const log = disputed.log;
    expect(new Set(log.filter((entry) => entry.state === 'accepted').map((entry) => entry.type))).toEqual(new Set(OP_TYPES));
    expect(log).toHaveLength(written.length);
    expect(disputed.rejected).toEqual([]);
    expect(disputed.pending).toEqual([]);
  });

  it('the concurrent adds counted twice and the request was open until the seller proposed its date', () => {
    expect(concurrentCoffee).toBe(5);
    expect(requestWasOpen).toBe(true);
  });

  it('the draft has the hand-computed lines, extras, discounts and totals, the same on every device', () => {
    for (const hash of draftHashes) expect(hash).toBe(draftHashes[0]);
    expect(draft.status).toBe('draft');
    expect(draft.items).toEqual([
      { productCode: 'coffee', desired: 4, available: 3, qty: 3, unitPrice: '11.99', taxRate: '9', bid: { unitPrice: '11.99', taxRate: '9', accepted: true }, lineTotal: '35.97' },
      { productCode: 'mug', desired: 2, available: 0, qty: 0, unitPrice: '7.5', taxRate: '21', bid: null, lineTotal: '0.00' },
      { productCode: 'spoon', desired: 0, available: null, qty: 0, unitPrice: null, taxRate: null, bid: null, lineTotal: null },
      { productCode: 'tea', desired: 3, available: null, qty: 3, unitPrice: '4.125', taxRate: '9', bid: null, lineTotal: '12.38' },
    ]);
    expect(draft.catalog).toEqual([]);
    expect(draft.extras.map((e) => [e.key, e.amount, e.taxRate, e.addedBy.role])).toEqual([['shipping', '5.95', '21', 'seller']]);
    expect(draft.discounts.map((d) => [d.key, d.amount, d.taxRate, d.percent])).toEqual([['loyalty', '5.44', null, '10']]);
    expect(draft.totals).toEqual(expectedTotals);
    expect(draft.notProposable).toBeNull();
  });

  it('agreement: the seller proposed, the buyer accepted, and every device has the same agreed terms hash', () => {
    expect(propose.payload.termsHash).toBe(draftHashes[0]);
    expect(accept.payload.termsHash).toBe(propose.payload.termsHash);
    for (const view of atAgreement) {
      expect(view.status).toBe('agreed');
      expect(view.termsHash).toBe(propose.payload.termsHash);
      expect(view.agreement?.termsHash).toBe(propose.payload.termsHash);
      expect(view.agreement?.proposal.side).toBe('seller');
      expect(view.agreement?.acceptedBy.role).toBe('buyer');
      expect(view.agreement?.totals).toEqual(expectedTotals);
      expect(view.agreement?.changesAfter).toEqual([]);
    }
  });

  it('changes after agreement are listed in changesAfter and change neither lines nor totals', () => {
    for (const view of finalViews) {
      expect(view.agreement?.changesAfter.map((change) => [change.opId, change.type, change.author?.role])).toEqual([
        [lateAdd.id, 'AddToCart', 'buyer'],
        [lateDiscount.id, 'AddDiscount', 'seller'],
      ]);
      expect(view.agreement?.termsHash).toBe(propose.payload.termsHash);
      expect(view.termsHash).toBe(propose.payload.termsHash);
      expect(view.items).toEqual(draft.items);
      expect(view.discounts).toEqual(draft.discounts);
      expect(view.totals).toEqual(expectedTotals);
      expect(view.agreement?.totals).toEqual(expectedTotals);
    }
  });

  it('ends "received and paid" on every device, with party info, delivery, terms, tracking and comments', () => {
    for (const view of finalViews) expect(JSON.stringify(view)).toBe(JSON.stringify(final));
    expect(final.invoiceId).toBe('2026-0042');
    expect(final.status).toBe('received and paid');
    expect([final.shipped, final.paid, final.received]).toEqual([true, true, true]);
    expect(final.buyer?.info).toEqual({ name: 'Michiel B.V.', vatId: 'NL001B01' });
    expect(final.seller?.info).toEqual({ name: 'George Ltd', vatId: 'NL002B02' });
    expect(final.delivery).toEqual({ date: '2026-12-08', requestedDate: '2026-12-08', requestOpen: false, address });
    expect(final.paymentTerms).toEqual({ terms: 'net 30', dueDays: 30 });
    expect(final.tracking).toEqual({
      carrier: 'ParcelCo',
      trackingId: 'PC-778899',
      url: 'https://parcelco.example/t/PC-778899',
      setBy: { role: 'carrier', webId: CARRIER_P.webId, container: CARRIER_P.container },
    });
    expect(final.comments.map((c) => [c.author.role, c.text])).toEqual([
      ['buyer', 'Please ring twice'],
      ['seller', 'Noted'],
      ['carrier', 'Pick-up booked'],
    ]);
    expect(final.participants.map((p) => [p.role, p.allowedTypes])).toEqual([
      ['buyer', null],
      ['seller', null],
      ['carrier', ['Comment', 'SetTracking']],
    ]);
    expect(final.totals).toEqual(expectedTotals);
    expect(final.rejected).toEqual([]);
  });

  it('a dispute afterwards makes it "buyer-disagrees", keeping the agreed totals', () => {
    expect(disputed.status).toBe('buyer-disagrees');
    expect(disputed.disputes.map((d) => [d.side, d.reason, d.opId])).toEqual([['buyer', 'one bag of coffee was torn', dispute.id]]);
    expect(disputed.totals).toEqual(expectedTotals);
    expect(disputed.agreement?.termsHash).toBe(propose.payload.termsHash);
  });
});
