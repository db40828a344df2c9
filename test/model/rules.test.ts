import { describe, expect, it } from 'vitest';
import { acceptanceOf, proposalOf } from '../../src/model/builder.ts';
import { OpRefusedError } from '../../src/model/errors.ts';
import { fold } from '../../src/model/fold.ts';
import { asInvoiceId, type ContainerUrl, type OpId, type TermsHash, type WebId } from '../../src/model/ids.ts';
import type { FoldedInvoice, InvoiceLine } from '../../src/model/invoice.ts';
import { OP_TYPES, type AnyOp, type Op, type OpType, type ParticipantRole, type PayloadByType, type SourcedOp } from '../../src/model/ops.ts';
import {
  BUYER,
  BUYER_DEPT,
  CARRIER_P,
  SELLER,
  SELLER_DEPT,
  STRANGER,
  SimDevice,
  TAX,
  createPayload,
  entryOf,
  forge,
  participantDevice,
  party,
  rejection,
  send,
  short,
  started,
  syncAll,
  type Started,
} from '../support/invoice-kit.ts';

// One test (or a few) per rule of the issue's table, written against the spec. Devices that "don't sync"
// before writing make concurrent ops; syncAll then gives every device every op.

const line = (invoice: FoldedInvoice, code: string): InvoiceLine | undefined => invoice.items.find((l) => l.productCode === code);
const iso = (ms: number) => new Date(ms).toISOString();

/** The buyer wants 2 beans, the seller quotes 1.50 at 21 %: 3.00 net, 0.63 VAT, 3.63 gross. */
function priced(s: Started): void {
  s.bd.write('AddToCart', { product: 'beans', quantity: 2 }, s.now());
  s.sd.write('QuoteItem', { product: 'beans', unitPrice: '1.50', taxRate: '21' }, s.now());
  syncAll(s.all);
}

/** Seller desktop proposes what it sees, buyer desktop accepts it; everybody syncs. */
function agreed(s: Started): { propose: Op<'Propose'>; accept: Op<'Accept'> } {
  const propose = s.sd.write('Propose', proposalOf(s.sd.view()), s.now());
  send(s.sd, s.bd);
  const accept = s.bd.write('Accept', acceptanceOf(s.bd.view(), 'buyer'), s.now());
  syncAll(s.all);
  return { propose, accept };
}

describe('CreateInvoice', () => {
  it('sets invoice id, currency, buyer and seller (WebID, op container, info)', () => {
    const s = started('EUR');
    const invoice = s.sm.view();
    expect(invoice.invoiceId).toBe('INV-1');
    expect(invoice.currency).toBe('EUR');
    expect(invoice.status).toBe('draft');
    expect(invoice.buyer).toEqual({ webId: BUYER.webId, container: BUYER.container, info: { name: 'Michiel' } });
    expect(invoice.seller).toEqual({ webId: SELLER.webId, container: SELLER.container, info: { name: 'George' } });
    expect(invoice.participants.map((p) => p.role).sort()).toEqual(['buyer', 'seller']);
    expect(invoice.rejected).toEqual([]);
  });

  it('a second, different CreateInvoice is rejected and changes nothing', () => {
    const s = started('EUR');
    const second = s.sm.write('CreateInvoice', createPayload('USD'), s.now());
    syncAll(s.all);
    const invoice = s.bd.view();
    expect(invoice.currency).toBe('EUR');
    expect(invoice.rejected).toHaveLength(1);
    expect(rejection(invoice, second.id)).toBe(`a different CreateInvoice for this invoice already exists (op ${short(s.create.id)})`);
  });

  it('the seller may create the invoice too', () => {
    const sd = new SimDevice('seller', 'desktop', SELLER.container);
    const bd = new SimDevice('buyer', 'desktop', BUYER.container);
    sd.write('CreateInvoice', createPayload('GBP'), 1_764_000_000_000);
    send(sd, bd);
    const add = bd.write('AddToCart', { product: 'tea', quantity: 1 }, 1_764_000_001_000);
    const invoice = bd.view();
    expect(invoice.status).toBe('draft');
    expect(invoice.currency).toBe('GBP');
    expect(entryOf(invoice, add.id)?.state).toBe('accepted');
    expect(invoice.rejected).toEqual([]);
  });

  it("a counterparty cannot take the invoice over with an earlier-clocked CreateInvoice once the origin is known", () => {
    const s = started('EUR');
    // The seller forges a CreateInvoice in USD, clocked before the buyer's original, into its own container.
    const forged = forge(s.sm, 'CreateInvoice', createPayload('USD'), { clock: { wallMs: 1, counter: 0 }, deps: [] });
    const ops = s.sm.all();
    // Without an origin the earliest clock wins: the documented weakness the origin closes.
    expect(fold(ops, { invoiceId: s.invoiceId }).currency).toBe('USD');
    const anchored = fold(ops, { invoiceId: s.invoiceId, origin: BUYER.container });
    expect(anchored.currency).toBe('EUR');
    expect(rejection(anchored, forged.id)).toBe(
      `a different CreateInvoice for this invoice already exists (op ${short(s.create.id)} in ${BUYER.container}, where the invoice was created)`,
    );
  });

  it('without a CreateInvoice there is no invoice, and ops wait for it', () => {
    const s = started('EUR');
    const add = s.bd.write('AddToCart', { product: 'beans', quantity: 1 }, s.now());
    const invoice = fold(s.bd.all().filter((sourced) => sourced.op.id !== s.create.id), { invoiceId: s.invoiceId });
    expect(invoice.status).toBe('no invoice');
    expect(invoice.pending.map((entry) => entry.opId)).toEqual([add.id]);
    expect(invoice.pending[0]?.reason).toBe(`waits for op ${s.create.id.slice(0, 12)}…, which has not arrived`);
  });
});

describe('SetBuyerInfo / SetSellerInfo: last writer wins', () => {
  it('the latest clock wins between concurrent writes of two devices', () => {
    const s = started();
    s.bm.write('SetBuyerInfo', { info: { name: 'Michiel (mobile)' } }, s.now());
    s.bd.write('SetBuyerInfo', { info: { name: 'Michiel (desktop, later)' } }, s.now());
    s.sd.write('SetSellerInfo', { info: { name: 'George (desktop)' } }, s.now());
    s.sm.write('SetSellerInfo', { info: { name: 'George (mobile, later)', vatId: 'NL123' } }, s.now());
    syncAll(s.all);
    for (const device of s.all) {
      expect(device.view().buyer?.info).toEqual({ name: 'Michiel (desktop, later)' });
      expect(device.view().seller?.info).toEqual({ name: 'George (mobile, later)', vatId: 'NL123' });
    }
  });

  it('a tie on the clock goes to the highest op id', () => {
    const s = started();
    const at = s.now();
    const a = s.bd.write('SetBuyerInfo', { info: { name: 'Desktop' } }, at);
    const b = s.bm.write('SetBuyerInfo', { info: { name: 'Mobile' } }, at);
    expect(a.clock).toEqual(b.clock);
    syncAll(s.all);
    const expected = a.id > b.id ? 'Desktop' : 'Mobile';
    for (const device of s.all) expect(device.view().buyer?.info.name).toBe(expected);
  });
});

describe('AddToCart / EditQuantity / RemoveFromCart: desired quantity is a counter with reset', () => {
  it('two devices each adding one pack concurrently give 2 packs', () => {
    const s = started();
    s.bd.write('AddToCart', { product: 'pack', quantity: 1 }, s.now());
    s.bm.write('AddToCart', { product: 'pack', quantity: 1 }, s.now());
    syncAll(s.all);
    expect(line(s.sd.view(), 'pack')).toMatchObject({ desired: 2, available: null, qty: 2 });
  });

  it('an Edit after seeing the adds fixes the quantity', () => {
    const s = started();
    s.bd.write('AddToCart', { product: 'pack', quantity: 1 }, s.now());
    s.bm.write('AddToCart', { product: 'pack', quantity: 1 }, s.now());
    syncAll(s.all);
    s.bd.write('EditQuantity', { product: 'pack', quantity: 1 }, s.now());
    syncAll(s.all);
    expect(line(s.sm.view(), 'pack')).toMatchObject({ desired: 1, qty: 1 });
  });

  it('an Add concurrent with an Edit adds on top of the Edit', () => {
    const s = started();
    s.bd.write('AddToCart', { product: 'pack', quantity: 2 }, s.now());
    syncAll(s.all);
    s.bd.write('EditQuantity', { product: 'pack', quantity: 5 }, s.now());
    s.bm.write('AddToCart', { product: 'pack', quantity: 1 }, s.now());
    syncAll(s.all);
    expect(line(s.sd.view(), 'pack')).toMatchObject({ desired: 6, qty: 6 });
  });

  it('of two concurrent Edits the latest sets the quantity', () => {
    const s = started();
    s.bd.write('AddToCart', { product: 'pack', quantity: 2 }, s.now());
    syncAll(s.all);
    s.bd.write('EditQuantity', { product: 'pack', quantity: 3 }, s.now());
    s.bm.write('EditQuantity', { product: 'pack', quantity: 7 }, s.now());
    syncAll(s.all);
    expect(line(s.sd.view(), 'pack')).toMatchObject({ desired: 7, qty: 7 });
  });

  it('RemoveFromCart sets 0: the line is shown but not invoiced; an Add concurrent with the Remove survives', () => {
    const s = started();
    s.bd.write('AddToCart', { product: 'pack', quantity: 4 }, s.now());
    s.sd.write('QuoteItem', { product: 'pack', unitPrice: '2.00', taxRate: '21' }, s.now());
    syncAll(s.all);
    s.bd.write('RemoveFromCart', { product: 'pack' }, s.now());
    send(s.bd, s.sd);
    const removed = s.sd.view();
    expect(line(removed, 'pack')).toEqual({ productCode: 'pack', desired: 0, available: null, qty: 0, unitPrice: '2', taxRate: '21', bid: null, lineTotal: '0.00' });
    expect(removed.totals).toEqual({ net: '0.00', tax: [], taxTotal: '0.00', gross: '0.00' });
    s.bm.write('AddToCart', { product: 'pack', quantity: 3 }, s.now()); // bm has not seen the Remove
    syncAll(s.all);
    expect(line(s.sd.view(), 'pack')).toMatchObject({ desired: 3, qty: 3, lineTotal: '6.00' });
  });
});

describe('SetProductStock / AddProductStock / ItemOutOfStock: available quantity', () => {
  it('no stock op means unlimited (available null): the desired quantity is invoiced', () => {
    const s = started();
    s.bd.write('AddToCart', { product: 'pack', quantity: 40 }, s.now());
    syncAll(s.all);
    expect(line(s.sd.view(), 'pack')).toMatchObject({ desired: 40, available: null, qty: 40 });
  });

  it('the invoiced quantity is min(desired, available); an AddProductStock concurrent with a Set adds on top', () => {
    const s = started();
    s.bd.write('AddToCart', { product: 'pack', quantity: 10 }, s.now());
    s.sd.write('SetProductStock', { product: 'pack', quantity: 5 }, s.now());
    s.sm.write('AddProductStock', { product: 'pack', delta: 2 }, s.now());
    syncAll(s.all);
    expect(line(s.bd.view(), 'pack')).toMatchObject({ desired: 10, available: 7, qty: 7 });
    s.sm.write('AddProductStock', { product: 'pack', delta: -3 }, s.now());
    syncAll(s.all);
    expect(line(s.bd.view(), 'pack')).toMatchObject({ desired: 10, available: 4, qty: 4 });
    s.bm.write('EditQuantity', { product: 'pack', quantity: 3 }, s.now());
    syncAll(s.all);
    expect(line(s.bd.view(), 'pack')).toMatchObject({ desired: 3, available: 4, qty: 3 });
  });

  it('ItemOutOfStock sets 0 (shown, not invoiced); stock added after it counts again', () => {
    const s = started();
    s.bd.write('AddToCart', { product: 'pack', quantity: 5 }, s.now());
    s.sd.write('QuoteItem', { product: 'pack', unitPrice: '3.00', taxRate: '21' }, s.now());
    s.sd.write('SetProductStock', { product: 'pack', quantity: 9 }, s.now());
    syncAll(s.all);
    s.sm.write('ItemOutOfStock', { product: 'pack' }, s.now());
    syncAll(s.all);
    const out = s.bd.view();
    expect(line(out, 'pack')).toMatchObject({ desired: 5, available: 0, qty: 0 });
    expect(out.totals.net).toBe('0.00');
    expect(out.totals.gross).toBe('0.00');
    s.sd.write('AddProductStock', { product: 'pack', delta: 2 }, s.now());
    syncAll(s.all);
    const restocked = s.bd.view();
    expect(line(restocked, 'pack')).toMatchObject({ desired: 5, available: 2, qty: 2, lineTotal: '6.00' });
    expect(restocked.totals.gross).toBe('7.26');
  });

  it('stock and quotes for a product nobody asked for are kept in the catalog, in any arrival order', () => {
    const s = started();
    s.sd.write('SetProductStock', { product: 'cups', quantity: 4 }, s.now());
    s.sd.write('QuoteItem', { product: 'cups', unitPrice: '2.00', taxRate: '21' }, s.now());
    syncAll(s.all);
    const before = s.bd.view();
    expect(before.rejected).toEqual([]);
    expect(before.items).toEqual([]);
    expect(before.catalog).toEqual([{ productCode: 'cups', available: 4, unitPrice: '2', taxRate: '21' }]);
    s.bm.write('AddToCart', { product: 'cups', quantity: 6 }, s.now());
    syncAll(s.all);
    const after = s.sd.view();
    expect(after.catalog).toEqual([]);
    expect(line(after, 'cups')).toEqual({ productCode: 'cups', desired: 6, available: 4, qty: 4, unitPrice: '2', taxRate: '21', bid: null, lineTotal: '8.00' });
    const reversed = fold([...s.sd.all()].reverse(), { invoiceId: s.invoiceId });
    expect(JSON.stringify(reversed)).toBe(JSON.stringify(after));
  });
});

describe('QuoteItem / BidItem', () => {
  it('the lowest quote is the price, even when a higher one comes later', () => {
    const s = started();
    s.bd.write('AddToCart', { product: 'pack', quantity: 2 }, s.now());
    s.sd.write('QuoteItem', { product: 'pack', unitPrice: '10.00', taxRate: '21' }, s.now());
    s.sm.write('QuoteItem', { product: 'pack', unitPrice: '8.00', taxRate: '9' }, s.now());
    syncAll(s.all);
    s.sd.write('QuoteItem', { product: 'pack', unitPrice: '12.00', taxRate: '21' }, s.now());
    syncAll(s.all);
    expect(line(s.bd.view(), 'pack')).toMatchObject({ unitPrice: '8', taxRate: '9', qty: 2, lineTotal: '16.00' });
  });

  it('a bid is informational, shown beside the quote, and "accepted" once a quote equals it', () => {
    const s = started();
    s.bd.write('AddToCart', { product: 'pack', quantity: 2 }, s.now());
    s.bm.write('BidItem', { product: 'pack', unitPrice: '7.50', taxRate: '21' }, s.now());
    syncAll(s.all);
    const onlyBid = s.sd.view();
    expect(line(onlyBid, 'pack')).toMatchObject({ unitPrice: null, lineTotal: null, bid: { unitPrice: '7.5', taxRate: '21', accepted: false } });
    expect(onlyBid.notProposable).toBe('line pack has no quoted price yet');
    s.sd.write('QuoteItem', { product: 'pack', unitPrice: '8.00', taxRate: '21' }, s.now());
    syncAll(s.all);
    expect(line(s.bd.view(), 'pack')).toMatchObject({ unitPrice: '8', bid: { unitPrice: '7.5', taxRate: '21', accepted: false }, lineTotal: '16.00' });
    s.sm.write('QuoteItem', { product: 'pack', unitPrice: '7.5', taxRate: '21' }, s.now());
    syncAll(s.all);
    expect(line(s.bd.view(), 'pack')).toMatchObject({ unitPrice: '7.5', bid: { unitPrice: '7.5', taxRate: '21', accepted: true }, lineTotal: '15.00' });
  });
});

describe('AddExtra / RemoveExtra: add-wins set', () => {
  it('either party adds extras; amounts are shown in the currency', () => {
    const s = started();
    s.bd.write('AddExtra', { key: 'gift-wrap', description: 'Gift wrap', amount: '2', taxRate: '21' }, s.now());
    s.sm.write('AddExtra', { key: 'shipping', description: 'Shipping', amount: '5.9', taxRate: '21' }, s.now());
    syncAll(s.all);
    const extras = s.sd.view().extras;
    expect(extras.map((e) => [e.key, e.amount, e.taxRate, e.addedBy.role])).toEqual([
      ['gift-wrap', '2.00', '21', 'buyer'],
      ['shipping', '5.90', '21', 'seller'],
    ]);
  });

  it('a RemoveExtra concurrent with an AddExtra leaves the extra; one after seeing it removes it', () => {
    const s = started();
    s.sd.write('AddExtra', { key: 'shipping', description: 'Shipping', amount: '5.00', taxRate: '21' }, s.now());
    syncAll(s.all);
    s.sd.write('RemoveExtra', { key: 'shipping' }, s.now());
    s.sm.write('AddExtra', { key: 'shipping', description: 'Express shipping', amount: '7.50', taxRate: '21' }, s.now());
    syncAll(s.all);
    expect(s.bd.view().extras.map((e) => [e.key, e.description, e.amount])).toEqual([['shipping', 'Express shipping', '7.50']]);
    s.sd.write('RemoveExtra', { key: 'shipping' }, s.now());
    syncAll(s.all);
    const invoice = s.bd.view();
    expect(invoice.extras).toEqual([]);
    expect(invoice.rejected).toEqual([]);
  });

  it('the buyer removing an extra the seller added is rejected, and the extra stays', () => {
    const s = started();
    s.sd.write('AddExtra', { key: 'shipping', description: 'Shipping', amount: '5.00', taxRate: '21' }, s.now());
    syncAll(s.all);
    const remove = s.bd.write('RemoveExtra', { key: 'shipping' }, s.now());
    syncAll(s.all);
    const invoice = s.sm.view();
    expect(rejection(invoice, remove.id)).toBe('the buyer may only remove extras the buyer added, and "shipping" was added by the seller');
    expect(invoice.extras.map((e) => e.key)).toEqual(['shipping']);
  });

  it('the buyer removes extras the buyer added; the seller removes any extra', () => {
    const s = started();
    s.bd.write('AddExtra', { key: 'gift-wrap', description: 'Gift wrap', amount: '2.00', taxRate: '21' }, s.now());
    s.bm.write('AddExtra', { key: 'card', description: 'Card', amount: '1.00', taxRate: '21' }, s.now());
    syncAll(s.all);
    const byBuyer = s.bm.write('RemoveExtra', { key: 'gift-wrap' }, s.now());
    const bySeller = s.sd.write('RemoveExtra', { key: 'card' }, s.now());
    syncAll(s.all);
    const invoice = s.bd.view();
    expect(entryOf(invoice, byBuyer.id)?.state).toBe('accepted');
    expect(entryOf(invoice, bySeller.id)?.state).toBe('accepted');
    expect(invoice.extras).toEqual([]);
  });
});

describe('AddDiscount / RemoveDiscount: add-wins set, seller only', () => {
  it('a RemoveDiscount concurrent with an AddDiscount leaves the discount; one after seeing it removes it', () => {
    const s = started();
    priced(s); // 3.00 at 21 %
    s.sd.write('AddDiscount', { key: 'promo', description: 'Promo', amount: '1.00', taxRate: '21' }, s.now());
    syncAll(s.all);
    s.sd.write('RemoveDiscount', { key: 'promo' }, s.now());
    s.sm.write('AddDiscount', { key: 'promo', description: 'Promo 10%', percent: '10' }, s.now());
    syncAll(s.all);
    const kept = s.bd.view();
    expect(kept.discounts.map((d) => [d.key, d.description, d.amount, d.percent, d.taxRate])).toEqual([['promo', 'Promo 10%', '0.30', '10', null]]);
    expect(kept.totals.net).toBe('2.70');
    s.sm.write('RemoveDiscount', { key: 'promo' }, s.now());
    syncAll(s.all);
    const removed = s.bd.view();
    expect(removed.discounts).toEqual([]);
    expect(removed.totals.net).toBe('3.00');
    expect(removed.rejected).toEqual([]);
  });
});

describe('ProposeDeliveryDate / RequestPostponedDelivery', () => {
  it('the delivery date is the latest seller proposal', () => {
    const s = started();
    s.sd.write('ProposeDeliveryDate', { date: '2026-12-01' }, s.now());
    s.sm.write('ProposeDeliveryDate', { date: '2026-12-03' }, s.now());
    syncAll(s.all);
    expect(s.bd.view().delivery).toEqual({ date: '2026-12-03', requestedDate: null, requestOpen: false, address: null });
  });

  it("a buyer's request stays open until the seller proposes that date after seeing the request", () => {
    const s = started();
    s.sd.write('ProposeDeliveryDate', { date: '2026-12-01' }, s.now());
    syncAll(s.all);
    s.bm.write('RequestPostponedDelivery', { date: '2026-12-10' }, s.now());
    s.sm.write('ProposeDeliveryDate', { date: '2026-12-10' }, s.now()); // has not seen the request
    syncAll(s.all);
    expect(s.bd.view().delivery).toMatchObject({ date: '2026-12-10', requestedDate: '2026-12-10', requestOpen: true });
    s.sd.write('ProposeDeliveryDate', { date: '2026-12-05' }, s.now()); // saw it, proposes another date
    syncAll(s.all);
    expect(s.bd.view().delivery).toMatchObject({ date: '2026-12-05', requestedDate: '2026-12-10', requestOpen: true });
    s.sd.write('ProposeDeliveryDate', { date: '2026-12-10' }, s.now());
    syncAll(s.all);
    expect(s.bd.view().delivery).toMatchObject({ date: '2026-12-10', requestedDate: '2026-12-10', requestOpen: false });
  });
});

describe('ChooseDeliveryAddress / SetPaymentTerms / SetTracking: last writer wins', () => {
  const home = { streetAddress: 'Main St 1', postalCode: '1011', addressLocality: 'Amsterdam', addressCountry: 'NL' };
  const office = { streetAddress: 'Dam 2', postalCode: '1012', addressLocality: 'Amsterdam', addressCountry: 'NL' };

  it('the latest address wins', () => {
    const s = started();
    s.bd.write('ChooseDeliveryAddress', { address: home }, s.now());
    s.bm.write('ChooseDeliveryAddress', { address: office }, s.now());
    syncAll(s.all);
    expect(s.sd.view().delivery.address).toEqual(office);
  });

  it('payment terms: the latest wins, a tie on the clock goes to the highest op id', () => {
    const s = started();
    s.sd.write('SetPaymentTerms', { terms: 'prepaid' }, s.now());
    syncAll(s.all);
    expect(s.bd.view().paymentTerms).toEqual({ terms: 'prepaid', dueDays: null });
    const at = s.now();
    const a = s.sd.write('SetPaymentTerms', { terms: 'net 30', dueDays: 30 }, at);
    const b = s.sm.write('SetPaymentTerms', { terms: 'net 14', dueDays: 14 }, at);
    expect(a.clock).toEqual(b.clock);
    syncAll(s.all);
    const expected = a.id > b.id ? { terms: 'net 30', dueDays: 30 } : { terms: 'net 14', dueDays: 14 };
    for (const device of s.all) expect(device.view().paymentTerms).toEqual(expected);
  });

  it('tracking is set by the seller or a carrier participant; the latest wins', () => {
    const s = started();
    s.sd.write('AddParticipant', { role: 'carrier', webId: CARRIER_P.webId, container: CARRIER_P.container, allowedTypes: ['Comment', 'SetTracking'] }, s.now());
    syncAll(s.all);
    const carrier = participantDevice(CARRIER_P, 'scanner', s.sd);
    s.sd.write('SetTracking', { carrier: 'ParcelCo', trackingId: 'TR1' }, s.now());
    const bySeller = s.sd.view().tracking;
    expect(bySeller).toEqual({ carrier: 'ParcelCo', trackingId: 'TR1', url: null, setBy: { role: 'seller', webId: SELLER.webId, container: SELLER.container } });
    carrier.write('SetTracking', { carrier: 'ParcelCo', trackingId: 'TR2', url: 'https://parcelco.example/t/TR2' }, s.now());
    syncAll([...s.all, carrier]);
    expect(s.bd.view().tracking).toEqual({
      carrier: 'ParcelCo',
      trackingId: 'TR2',
      url: 'https://parcelco.example/t/TR2',
      setBy: { role: 'carrier', webId: CARRIER_P.webId, container: CARRIER_P.container },
    });
  });
});

describe('Comment: any participant, kept in order', () => {
  it('comments of buyer, seller, carrier and tax authority are kept in order', () => {
    const s = started();
    s.sd.write('AddParticipant', { role: 'carrier', webId: CARRIER_P.webId, container: CARRIER_P.container, allowedTypes: ['Comment'] }, s.now());
    s.bd.write('AddParticipant', { role: 'tax-authority', webId: TAX.webId, container: TAX.container, allowedTypes: ['Comment'] }, s.now());
    syncAll(s.all);
    const carrier = participantDevice(CARRIER_P, 'scanner', s.sd);
    const tax = participantDevice(TAX, 'office', s.sd);
    s.bm.write('Comment', { text: 'first, buyer' }, s.now());
    s.sd.write('Comment', { text: 'second, seller' }, s.now());
    carrier.write('Comment', { text: 'third, carrier' }, s.now());
    tax.write('Comment', { text: 'fourth, tax authority' }, s.now());
    s.bd.write('Comment', { text: 'fifth, buyer again' }, s.now());
    const devices = [...s.all, carrier, tax];
    syncAll(devices);
    const comments = s.sm.view().comments;
    expect(comments.map((c) => [c.text, c.author.role])).toEqual([
      ['first, buyer', 'buyer'],
      ['second, seller', 'seller'],
      ['third, carrier', 'carrier'],
      ['fourth, tax authority', 'tax-authority'],
      ['fifth, buyer again', 'buyer'],
    ]);
    for (const device of devices) expect(device.view().comments).toEqual(comments);
  });
});

describe('AddParticipant', () => {
  it('the buyer adds a buyer-side department; its later ops are judged by the allowed types', () => {
    const s = started();
    s.bd.write('AddParticipant', { role: 'buyer-department', webId: BUYER_DEPT.webId, container: BUYER_DEPT.container, allowedTypes: ['Comment', 'AddToCart'], name: 'Purchasing' }, s.now());
    syncAll(s.all);
    const dept = participantDevice(BUYER_DEPT, 'purchasing', s.bd, 'buyer');
    const add = dept.write('AddToCart', { product: 'paper', quantity: 3 }, s.now());
    const bid = dept.write('BidItem', { product: 'paper', unitPrice: '1.00', taxRate: '21' }, s.now());
    syncAll([...s.all, dept]);
    const invoice = s.sd.view();
    expect(invoice.participants.find((p) => p.role === 'buyer-department')).toMatchObject({ webId: BUYER_DEPT.webId, allowedTypes: ['AddToCart', 'Comment'], name: 'Purchasing' });
    expect(entryOf(invoice, add.id)).toMatchObject({ state: 'accepted', author: { role: 'buyer-department', webId: BUYER_DEPT.webId, container: BUYER_DEPT.container } });
    expect(line(invoice, 'paper')).toMatchObject({ desired: 3, bid: null });
    expect(rejection(invoice, bid.id)).toBe(`the buyer department ${BUYER_DEPT.webId} was only allowed to write AddToCart, Comment`);
  });

  it('the seller adds a seller-side department and the carrier', () => {
    const s = started();
    s.sd.write('AddParticipant', { role: 'seller-department', webId: SELLER_DEPT.webId, container: SELLER_DEPT.container, allowedTypes: ['QuoteItem'] }, s.now());
    s.sm.write('AddParticipant', { role: 'carrier', webId: CARRIER_P.webId, container: CARRIER_P.container, allowedTypes: ['SetTracking'] }, s.now());
    s.bd.write('AddToCart', { product: 'paper', quantity: 3 }, s.now());
    syncAll(s.all);
    const dept = participantDevice(SELLER_DEPT, 'warehouse', s.sd, 'seller');
    const carrier = participantDevice(CARRIER_P, 'scanner', s.sd);
    dept.write('QuoteItem', { product: 'paper', unitPrice: '0.99', taxRate: '21' }, s.now());
    const stock = dept.write('SetProductStock', { product: 'paper', quantity: 1 }, s.now());
    carrier.write('SetTracking', { carrier: 'ParcelCo', trackingId: 'TR9' }, s.now());
    const comment = carrier.write('Comment', { text: 'on its way' }, s.now());
    syncAll([...s.all, dept, carrier]);
    const invoice = s.bd.view();
    expect(line(invoice, 'paper')).toMatchObject({ unitPrice: '0.99', available: null, qty: 3, lineTotal: '2.97' });
    expect(invoice.tracking).toMatchObject({ trackingId: 'TR9', setBy: { role: 'carrier' } });
    expect(rejection(invoice, stock.id)).toBe(`the seller department ${SELLER_DEPT.webId} was only allowed to write QuoteItem`);
    expect(rejection(invoice, comment.id)).toBe(`the carrier ${CARRIER_P.webId} was only allowed to write SetTracking`);
    expect(invoice.rejected).toHaveLength(2);
  });

  it('either party adds a tax authority, for comments only', () => {
    const s = started();
    const auditor = party('auditor');
    s.bd.write('AddParticipant', { role: 'tax-authority', webId: TAX.webId, container: TAX.container, allowedTypes: ['Comment'] }, s.now());
    s.sd.write('AddParticipant', { role: 'tax-authority', webId: auditor.webId, container: auditor.container, allowedTypes: ['Comment'] }, s.now());
    const tooMuch = s.sm.write('AddParticipant', { role: 'tax-authority', webId: party('tax2').webId, container: party('tax2').container, allowedTypes: ['Comment', 'SetTracking'] }, s.now());
    syncAll(s.all);
    const tax = participantDevice(TAX, 'office', s.bd);
    const other = participantDevice(auditor, 'office', s.sd);
    tax.write('Comment', { text: 'VAT number checked' }, s.now());
    other.write('Comment', { text: 'noted' }, s.now());
    syncAll([...s.all, tax, other]);
    const invoice = s.sm.view();
    expect(invoice.comments.map((c) => [c.author.role, c.text])).toEqual([
      ['tax-authority', 'VAT number checked'],
      ['tax-authority', 'noted'],
    ]);
    expect(rejection(invoice, tooMuch.id)).toBe('a tax authority may not be allowed SetTracking');
    expect(invoice.rejected).toHaveLength(1);
  });

  it('the wrong admitter is rejected, and the would-be participant stays unknown', () => {
    const s = started();
    const sellerAddsBuyerDept = s.sd.write('AddParticipant', { role: 'buyer-department', webId: BUYER_DEPT.webId, container: BUYER_DEPT.container, allowedTypes: ['AddToCart'] }, s.now());
    const buyerAddsSellerDept = s.bd.write('AddParticipant', { role: 'seller-department', webId: SELLER_DEPT.webId, container: SELLER_DEPT.container, allowedTypes: ['QuoteItem'] }, s.now());
    const buyerAddsCarrier = s.bm.write('AddParticipant', { role: 'carrier', webId: CARRIER_P.webId, container: CARRIER_P.container, allowedTypes: ['SetTracking'] }, s.now());
    syncAll(s.all);
    const dept = participantDevice(BUYER_DEPT, 'purchasing', s.bd, 'buyer');
    const add = dept.write('AddToCart', { product: 'paper', quantity: 3 }, s.now());
    syncAll([...s.all, dept]);
    const invoice = s.sm.view();
    expect(rejection(invoice, sellerAddsBuyerDept.id)).toBe('the seller may not add a buyer department');
    expect(rejection(invoice, buyerAddsSellerDept.id)).toBe('the buyer may not add a seller department');
    expect(rejection(invoice, buyerAddsCarrier.id)).toBe('the buyer may not add a carrier');
    expect(rejection(invoice, add.id)).toBe(`it was read from ${BUYER_DEPT.container}, which is not the op container of a participant admitted before it`);
    expect(invoice.participants.map((p) => p.role).sort()).toEqual(['buyer', 'seller']);
    expect(invoice.items).toEqual([]);
  });

  it('a carrier may not be allowed more than tracking and comments; a department may not admit anyone', () => {
    const s = started();
    const carrierTooMuch = s.sd.write('AddParticipant', { role: 'carrier', webId: CARRIER_P.webId, container: CARRIER_P.container, allowedTypes: ['QuoteItem', 'SetTracking'] }, s.now());
    const deptMayAdmit = s.bd.write('AddParticipant', { role: 'buyer-department', webId: party('hr').webId, container: party('hr').container, allowedTypes: ['AddParticipant'] }, s.now());
    s.bd.write('AddParticipant', { role: 'buyer-department', webId: BUYER_DEPT.webId, container: BUYER_DEPT.container, allowedTypes: ['AddToCart'] }, s.now());
    syncAll(s.all);
    const dept = participantDevice(BUYER_DEPT, 'purchasing', s.bd, 'buyer');
    const admit = dept.write('AddParticipant', { role: 'buyer-department', webId: party('sub').webId, container: party('sub').container, allowedTypes: ['AddToCart'] }, s.now());
    syncAll([...s.all, dept]);
    const invoice = s.sd.view();
    expect(rejection(invoice, carrierTooMuch.id)).toBe('a carrier may not be allowed QuoteItem');
    expect(rejection(invoice, deptMayAdmit.id)).toBe('a buyer department may not be allowed AddParticipant');
    expect(rejection(invoice, admit.id)).toBe(`the buyer department ${BUYER_DEPT.webId} was only allowed to write AddToCart`);
    expect(invoice.participants.map((p) => p.role).sort()).toEqual(['buyer', 'buyer-department', 'seller']);
  });

  it('an op a participant wrote before it was admitted (concurrently) is rejected', () => {
    const s = started();
    const dept = participantDevice(BUYER_DEPT, 'purchasing', s.bd, 'buyer');
    const early = dept.write('AddToCart', { product: 'paper', quantity: 1 }, s.now());
    s.bd.write('AddParticipant', { role: 'buyer-department', webId: BUYER_DEPT.webId, container: BUYER_DEPT.container, allowedTypes: ['AddToCart'] }, s.now());
    syncAll([...s.all, dept]);
    const later = dept.write('AddToCart', { product: 'paper', quantity: 2 }, s.now());
    syncAll([...s.all, dept]);
    const invoice = s.sd.view();
    expect(rejection(invoice, early.id)).toBe(`it was read from ${BUYER_DEPT.container}, which is not the op container of a participant admitted before it`);
    expect(entryOf(invoice, later.id)?.state).toBe('accepted');
    expect(line(invoice, 'paper')).toMatchObject({ desired: 2 });
  });

  it('ops from a container that belongs to no participant are rejected', () => {
    const s = started();
    const mallory = participantDevice(STRANGER, 'laptop', s.bd);
    const add = mallory.write('AddToCart', { product: 'paper', quantity: 100 }, s.now());
    const comment = mallory.write('Comment', { text: 'hello' }, s.now());
    syncAll([...s.all, mallory]);
    const invoice = s.bd.view();
    const reason = `it was read from ${STRANGER.container}, which is not the op container of a participant admitted before it`;
    expect(rejection(invoice, add.id)).toBe(reason);
    expect(rejection(invoice, comment.id)).toBe(reason);
    expect(entryOf(invoice, add.id)?.author).toBeNull();
    expect(invoice.items).toEqual([]);
    expect(invoice.comments).toEqual([]);
  });
});

describe('status machine', () => {
  it('draft → "seller proposes" → "agreed" when the buyer accepts the same terms hash', () => {
    const s = started();
    priced(s);
    expect(s.bd.view().status).toBe('draft');
    const propose = s.sd.write('Propose', proposalOf(s.sd.view()), s.now());
    syncAll(s.all);
    const proposed = s.bm.view();
    expect(proposed.status).toBe('seller proposes');
    expect(proposed.proposal).toMatchObject({ side: 'seller', termsHash: propose.payload.termsHash, opId: propose.id });
    const accept = s.bm.write('Accept', acceptanceOf(proposed, 'buyer'), s.now());
    syncAll(s.all);
    for (const device of s.all) {
      const invoice = device.view();
      expect(invoice.status).toBe('agreed');
      expect(invoice.agreement).toMatchObject({ termsHash: propose.payload.termsHash, acceptOpId: accept.id, acceptedBy: { role: 'buyer' }, changesAfter: [] });
      expect(invoice.agreement?.totals).toEqual({ net: '3.00', tax: [{ category: 'S', rate: '21', base: '3.00', amount: '0.63' }], taxTotal: '0.63', gross: '3.63' });
      expect(invoice.termsHash).toBe(propose.payload.termsHash);
    }
  });

  it('draft → "buyer proposes" → "agreed" when the seller accepts', () => {
    const s = started();
    priced(s);
    const propose = s.bm.write('Propose', proposalOf(s.bm.view()), s.now());
    syncAll(s.all);
    expect(s.sd.view().status).toBe('buyer proposes');
    s.sm.write('Accept', acceptanceOf(s.sm.view(), 'seller'), s.now());
    syncAll(s.all);
    const invoice = s.bd.view();
    expect(invoice.status).toBe('agreed');
    expect(invoice.agreement?.termsHash).toBe(propose.payload.termsHash);
    expect(invoice.agreement?.acceptedBy.role).toBe('seller');
  });

  it('an Accept of a hash nobody proposed is rejected', () => {
    const s = started();
    priced(s);
    const hash = 'ab'.repeat(32) as TermsHash;
    const accept = s.bd.write('Accept', { termsHash: hash }, s.now());
    syncAll(s.all);
    const invoice = s.sd.view();
    expect(rejection(invoice, accept.id)).toBe(`it accepts terms ${short(hash)} that nobody proposed`);
    expect(invoice.status).toBe('draft');
    expect(invoice.agreement).toBeNull();
  });

  it('an Accept of a hash that only a rejected Propose named is an Accept of a hash nobody proposed', () => {
    const s = started();
    priced(s);
    const bogus = 'ab'.repeat(32) as TermsHash;
    const propose = s.sd.write('Propose', { termsHash: bogus, heads: [...s.sd.view().heads] }, s.now());
    syncAll(s.all);
    const accept = s.bd.write('Accept', { termsHash: bogus }, s.now());
    syncAll(s.all);
    const invoice = s.sm.view();
    expect(rejection(invoice, propose.id)).toMatch(/^its terms hash abababababab… does not match the invoice at the heads it names/);
    expect(rejection(invoice, accept.id)).toBe(`it accepts terms ${short(bogus)} that nobody proposed`);
    expect(invoice.status).toBe('draft');
  });

  it('an Accept of the acceptor\'s own proposal is rejected', () => {
    const s = started();
    priced(s);
    const propose = s.sd.write('Propose', proposalOf(s.sd.view()), s.now());
    syncAll(s.all);
    expect(() => acceptanceOf(s.sm.view(), 'seller')).toThrow(OpRefusedError);
    const accept = s.sm.write('Accept', { termsHash: propose.payload.termsHash }, s.now());
    syncAll(s.all);
    const invoice = s.bd.view();
    expect(rejection(invoice, accept.id)).toBe('a party cannot accept its own proposal');
    expect(invoice.status).toBe('seller proposes');
  });

  it('a Propose whose hash does not match the invoice at its heads is rejected', () => {
    const s = started();
    priced(s);
    const real = proposalOf(s.sd.view());
    const bad = 'cd'.repeat(32) as TermsHash;
    const propose = s.sd.write('Propose', { termsHash: bad, heads: real.heads as OpId[] }, s.now());
    syncAll(s.all);
    const invoice = s.bd.view();
    expect(rejection(invoice, propose.id)).toBe(`its terms hash ${short(bad)} does not match the invoice at the heads it names (${short(real.termsHash)})`);
    expect(invoice.status).toBe('draft');
  });

  it('a Propose after agreement is rejected', () => {
    const s = started();
    priced(s);
    const { propose } = agreed(s);
    s.bd.write('AddToCart', { product: 'beans', quantity: 1 }, s.now());
    const content = fold(s.bd.all().filter((sourced) => sourced.op.type !== 'Propose' && sourced.op.type !== 'Accept'), { invoiceId: s.invoiceId });
    const again = s.bd.write('Propose', { termsHash: content.termsHash!, heads: [...s.bd.view().heads] }, s.now());
    syncAll(s.all);
    const invoice = s.sd.view();
    expect(rejection(invoice, again.id)).toBe(`the invoice is already agreed on terms ${short(propose.payload.termsHash)}`);
    expect(invoice.status).toBe('agreed');
  });

  it('MarkShipped and MarkPaid before agreement are rejected', () => {
    const s = started();
    priced(s);
    const shipped = s.sd.write('MarkShipped', {}, s.now());
    s.sd.write('Propose', proposalOf(s.sd.view()), s.now());
    const paid = s.sm.write('MarkPaid', {}, s.now());
    syncAll(s.all);
    const invoice = s.bd.view();
    expect(rejection(invoice, shipped.id)).toBe('it cannot be marked shipped before buyer and seller agree');
    expect(rejection(invoice, paid.id)).toBe('it cannot be marked paid before buyer and seller agree');
    expect(invoice.status).toBe('seller proposes');
    expect(invoice.shipped).toBe(false);
    expect(invoice.paid).toBe(false);
  });

  it('MarkReceived before shipped is rejected', () => {
    const s = started();
    priced(s);
    agreed(s);
    const received = s.bm.write('MarkReceived', {}, s.now());
    syncAll(s.all);
    const invoice = s.sd.view();
    expect(rejection(invoice, received.id)).toBe('it cannot be marked received before the seller marks it shipped');
    expect(invoice.status).toBe('agreed');
    expect(invoice.received).toBe(false);
  });

  it('agreed → "shipped" → "shipped and paid" → "received and paid"', () => {
    const s = started();
    priced(s);
    agreed(s);
    s.sd.write('MarkShipped', {}, s.now());
    syncAll(s.all);
    expect(s.bd.view().status).toBe('shipped');
    s.sm.write('MarkPaid', {}, s.now());
    syncAll(s.all);
    expect(s.bd.view().status).toBe('shipped and paid');
    s.bm.write('MarkReceived', {}, s.now());
    syncAll(s.all);
    const invoice = s.sd.view();
    expect(invoice.status).toBe('received and paid');
    expect([invoice.shipped, invoice.paid, invoice.received]).toEqual([true, true, true]);
    expect(invoice.rejected).toEqual([]);
  });

  it('agreed → "paid"; and agreed → "shipped" → "received"', () => {
    const paidFirst = started();
    priced(paidFirst);
    agreed(paidFirst);
    paidFirst.sd.write('MarkPaid', {}, paidFirst.now());
    syncAll(paidFirst.all);
    expect(paidFirst.bd.view().status).toBe('paid');

    const s = started();
    priced(s);
    agreed(s);
    s.sd.write('MarkShipped', {}, s.now());
    syncAll(s.all);
    s.bd.write('MarkReceived', {}, s.now());
    syncAll(s.all);
    expect(s.sm.view().status).toBe('received');
  });

  it('changes after agreement are listed in changesAfter and change neither the agreed lines nor the totals', () => {
    const s = started();
    priced(s);
    const { propose } = agreed(s);
    const before = s.bd.view();
    const add = s.bm.write('AddToCart', { product: 'beans', quantity: 5 }, s.now());
    const quote = s.sm.write('QuoteItem', { product: 'beans', unitPrice: '1.00', taxRate: '21' }, s.now());
    const extra = s.sd.write('AddExtra', { key: 'shipping', description: 'Shipping', amount: '4.00', taxRate: '21' }, s.now());
    syncAll(s.all);
    const after = s.bd.view();
    expect(after.status).toBe('agreed');
    expect(after.agreement?.changesAfter.map((c) => [c.opId, c.type])).toEqual([
      [add.id, 'AddToCart'],
      [quote.id, 'QuoteItem'],
      [extra.id, 'AddExtra'],
    ]);
    expect(after.items).toEqual(before.items);
    expect(after.extras).toEqual([]);
    expect(line(after, 'beans')).toMatchObject({ qty: 2, unitPrice: '1.5', lineTotal: '3.00' });
    expect(after.totals).toEqual({ net: '3.00', tax: [{ category: 'S', rate: '21', base: '3.00', amount: '0.63' }], taxTotal: '0.63', gross: '3.63' });
    expect(after.termsHash).toBe(propose.payload.termsHash);
  });

  it('the agreed invoice is exactly the causal past of the proposal: an edit concurrent with the proposal is a change after', () => {
    const s = started();
    priced(s);
    const propose = s.sd.write('Propose', proposalOf(s.sd.view()), s.now());
    const concurrent = s.bm.write('AddToCart', { product: 'beans', quantity: 1 }, s.now()); // bm has not seen the proposal
    send(s.sd, s.bd);
    s.bd.write('Accept', acceptanceOf(s.bd.view(), 'buyer'), s.now());
    syncAll(s.all);
    const invoice = s.sm.view();
    expect(invoice.status).toBe('agreed');
    expect(invoice.agreement?.termsHash).toBe(propose.payload.termsHash);
    expect(invoice.agreement?.changesAfter.map((c) => c.opId)).toEqual([concurrent.id]);
    expect(line(invoice, 'beans')).toMatchObject({ desired: 2, qty: 2 });
    expect(invoice.totals.gross).toBe('3.63');
  });

  describe('from any state, the buyer or the seller can dispute', () => {
    const reach: Record<string, (s: Started) => void> = {
      draft: (s) => priced(s),
      'seller proposes': (s) => {
        priced(s);
        s.sd.write('Propose', proposalOf(s.sd.view()), s.now());
        syncAll(s.all);
      },
      agreed: (s) => {
        priced(s);
        agreed(s);
      },
      'shipped and paid': (s) => {
        priced(s);
        agreed(s);
        s.sd.write('MarkShipped', {}, s.now());
        s.sd.write('MarkPaid', {}, s.now());
        syncAll(s.all);
      },
      'received and paid': (s) => {
        priced(s);
        agreed(s);
        s.sd.write('MarkShipped', {}, s.now());
        s.sd.write('MarkPaid', {}, s.now());
        syncAll(s.all);
        s.bd.write('MarkReceived', {}, s.now());
        syncAll(s.all);
      },
    };
    for (const [state, setUp] of Object.entries(reach)) {
      for (const side of ['buyer', 'seller'] as const) {
        it(`${side} disputes from "${state}" → "${side}-disagrees"`, () => {
          const s = started();
          setUp(s);
          expect(s.bd.view().status).toBe(state);
          const writer = side === 'buyer' ? s.bm : s.sm;
          const dispute = writer.write('Dispute', { reason: `the ${side} disagrees` }, s.now());
          syncAll(s.all);
          const invoice = s.sd.view();
          expect(invoice.status).toBe(`${side}-disagrees`);
          expect(invoice.disputes).toEqual([{ side, reason: `the ${side} disagrees`, opId: dispute.id, author: entryOf(invoice, dispute.id)?.author }]);
          expect(invoice.disputes[0]?.author.role).toBe(side);
          expect(invoice.rejected).toEqual([]);
        });
      }
    }
  });
});

describe('rejections of malformed or misplaced ops (the fold never throws)', () => {
  it('the builder refuses a negative quantity locally, writing nothing', () => {
    const s = started();
    const before = s.bd.all().length;
    expect(() => s.bd.write('AddToCart', { product: 'pack', quantity: -1 }, s.now())).toThrow('AddToCart was not written: quantity must be at least 1, got -1');
    expect(s.bd.all().length).toBe(before);
  });

  it('negative and non-integer quantities are rejected with the reason', () => {
    const s = started();
    const cases: Array<[AnyOp, string]> = [
      [forge(s.bd, 'AddToCart', { product: 'pack', quantity: -1 }) as AnyOp, 'quantity must be at least 1, got -1'],
      [forge(s.bd, 'AddToCart', { product: 'pack', quantity: 0 }) as AnyOp, 'quantity must be at least 1, got 0'],
      [forge(s.bd, 'EditQuantity', { product: 'pack', quantity: -2 }) as AnyOp, 'quantity must be zero or more, got -2'],
      [forge(s.bd, 'AddToCart', { product: 'pack', quantity: 1.5 }) as AnyOp, 'quantity must be a whole number, got 1.5'],
      [forge(s.sd, 'SetProductStock', { product: 'pack', quantity: -3 }) as AnyOp, 'quantity must be zero or more, got -3'],
      [forge(s.sd, 'AddProductStock', { product: 'pack', delta: 0.5 }) as AnyOp, `stock change must be a non-zero whole number between -1000000000 and 1000000000, got 0.5`],
    ];
    syncAll(s.all);
    const invoice = s.sm.view();
    for (const [op, reason] of cases) expect(rejection(invoice, op.id)).toBe(reason);
    expect(invoice.rejected).toHaveLength(cases.length);
    expect(invoice.items).toEqual([]);
    expect(invoice.catalog).toEqual([]);
  });

  it('a NaN amount is rejected with the reason', () => {
    const s = started();
    const quote = forge(s.sd, 'QuoteItem', { product: 'pack', unitPrice: 'NaN', taxRate: '21' });
    const extra = forge(s.bd, 'AddExtra', { key: 'tip', description: 'Tip', amount: 'NaN', taxRate: '21' });
    const discount = forge(s.sm, 'AddDiscount', { key: 'promo', description: 'Promo', amount: 'NaN', taxRate: '21' });
    syncAll(s.all);
    const invoice = s.bd.view();
    expect(rejection(invoice, quote.id)).toBe('unit price must be a decimal number like "12.50", got "NaN"');
    expect(rejection(invoice, extra.id)).toBe('amount must be a decimal number like "12.50", got "NaN"');
    expect(rejection(invoice, discount.id)).toBe('discount amount must be a decimal number like "12.50", got "NaN"');
    expect(invoice.extras).toEqual([]);
    expect(invoice.discounts).toEqual([]);
    expect(invoice.catalog).toEqual([]);
  });

  it('an op for another invoice id is rejected', () => {
    const s = started();
    const stray = new SimDevice('buyer', 'desktop', BUYER.container, asInvoiceId('INV-2'));
    send(s.bd, stray);
    const add = stray.write('AddToCart', { product: 'pack', quantity: 1 }, s.now());
    s.sd.receive(stray.all());
    const invoice = s.sd.view();
    expect(rejection(invoice, add.id)).toBe('it belongs to invoice INV-2, not INV-1');
    expect(invoice.items).toEqual([]);
  });

  it('an op changed after its id was computed is rejected', () => {
    const s = started();
    const add = s.bd.write('AddToCart', { product: 'pack', quantity: 1 }, s.now());
    const tampered = { ...add, payload: { ...add.payload, quantity: 1000 } } as AnyOp;
    const invoice = fold(
      [...s.bd.all().filter((sourced) => sourced.op.id !== add.id), { op: tampered, container: BUYER.container }],
      { invoiceId: s.invoiceId },
    );
    expect(invoice.rejected).toHaveLength(1);
    expect(invoice.rejected[0]?.opId).toBe(add.id);
    expect(invoice.rejected[0]?.reason).toBe('its content does not match its id: it was altered after it was made');
    expect(invoice.items).toEqual([]);
  });

  it('a tampered copy of a valid op, planted in another container, is rejected whichever copy arrives first', () => {
    const s = started();
    const quote = s.sd.write('QuoteItem', { product: 'pack', unitPrice: '5', taxRate: '0' }, s.now());
    // The buyer's container gets a copy under the same name, with another price: it must not become a second source.
    const tampered = { ...quote, payload: { ...quote.payload, unitPrice: '0.01' } } as AnyOp;
    const planted = { op: tampered, container: BUYER.container };
    const inOrder = fold([...s.sd.all(), planted], { invoiceId: s.invoiceId });
    const reversed = fold([planted, ...s.sd.all()].reverse(), { invoiceId: s.invoiceId });
    expect(JSON.stringify(reversed)).toBe(JSON.stringify(inOrder));
    expect(inOrder.rejected.map((entry) => entry.reason)).toEqual(['its content does not match its id: it was altered after it was made']);
    expect(inOrder.catalog).toEqual([{ productCode: 'pack', available: null, unitPrice: '5', taxRate: '0' }]);
  });

  it('an op whose deps never arrive waits in pending with a readable reason, and so do ops after it', () => {
    const s = started();
    const first = s.bm.write('AddToCart', { product: 'pack', quantity: 1 }, s.now());
    const second = s.bm.write('AddToCart', { product: 'pack', quantity: 2 }, s.now());
    const third = s.bm.write('Comment', { text: 'two more' }, s.now());
    const withoutFirst: SourcedOp[] = s.bm.all().filter((sourced) => sourced.op.id !== first.id);
    const invoice = fold(withoutFirst, { invoiceId: s.invoiceId });
    expect(invoice.pending.map((entry) => [entry.opId, entry.state, entry.reason])).toEqual([
      [second.id, 'pending', `waits for op ${first.id.slice(0, 12)}…, which has not arrived`],
      [third.id, 'pending', `waits for op ${second.id.slice(0, 12)}…, which is itself waiting`],
    ]);
    expect(invoice.rejected).toEqual([]);
    expect(invoice.items).toEqual([]);
    expect(invoice.comments).toEqual([]);
  });

  it('an op whose clock goes backwards vs a dep is rejected', () => {
    const s = started();
    const quote = s.sd.write('QuoteItem', { product: 'pack', unitPrice: '1.00', taxRate: '21' }, s.now());
    const back = { wallMs: quote.clock.wallMs - 5000, counter: 0 };
    const stale = forge(s.sd, 'QuoteItem', { product: 'pack', unitPrice: '0.01', taxRate: '21' }, { clock: back, deps: [quote.id] });
    const same = forge(s.sm, 'SetProductStock', { product: 'pack', quantity: 1 }, { clock: quote.clock, deps: [quote.id] });
    syncAll(s.all);
    const invoice = s.bd.view();
    expect(rejection(invoice, stale.id)).toBe(`its clock (${iso(back.wallMs)}) is not after that of op ${short(quote.id)} it depends on: a clock may never go backwards`);
    expect(rejection(invoice, same.id)).toBe(`its clock (${iso(quote.clock.wallMs)}) is not after that of op ${short(quote.id)} it depends on: a clock may never go backwards`);
    expect(invoice.catalog).toEqual([{ productCode: 'pack', available: null, unitPrice: '1', taxRate: '21' }]);
  });

  it('garbage in place of an op is rejected, not thrown', () => {
    const s = started();
    const invoice = fold([...s.bd.all(), { op: null as unknown as AnyOp, container: BUYER.container }, { op: { id: 'x' } as unknown as AnyOp, container: BUYER.container }], { invoiceId: s.invoiceId });
    expect(invoice.status).toBe('draft');
    expect(invoice.rejected.map((entry) => entry.reason)).toEqual(['op must be an object', 'op id must be 64 hex characters']);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Every op type × every writer that may not write it: the fold rejects the op with the reason.
// ---------------------------------------------------------------------------------------------------------

const BUYER_TYPES = new Set<OpType>([
  'CreateInvoice', 'AddExtra', 'RemoveExtra', 'Comment', 'AddParticipant', 'Propose', 'Accept', 'Dispute',
  'SetBuyerInfo', 'AddToCart', 'EditQuantity', 'RemoveFromCart', 'BidItem', 'RequestPostponedDelivery', 'ChooseDeliveryAddress', 'SetBuyerReference', 'MarkReceived',
]);
const SELLER_TYPES = new Set<OpType>([
  'CreateInvoice', 'AddExtra', 'RemoveExtra', 'Comment', 'AddParticipant', 'Propose', 'Accept', 'Dispute',
  'SetSellerInfo', 'SetProductStock', 'AddProductStock', 'ItemOutOfStock', 'QuoteItem', 'AddDiscount', 'RemoveDiscount',
  'ProposeDeliveryDate', 'SetPaymentTerms', 'SetInvoiceDetails', 'SetTracking', 'MarkShipped', 'MarkPaid',
]);
/** Spelled out by hand from the issue's table (not computed from src/model/roles.ts). */
function mayOnlyBeWrittenBy(type: OpType): string {
  return `${type} may only be written by ${type === 'SetTracking' ? 'the seller or a carrier the seller added' : partiesOf(type)}`;
}
function partiesOf(type: OpType): string {
  if (BUYER_TYPES.has(type) && SELLER_TYPES.has(type)) return 'the buyer or the seller';
  return BUYER_TYPES.has(type) ? 'the buyer' : 'the seller';
}

describe('every op type is rejected from every writer that may not write it', () => {
  // One invoice with a participant of each role, each allowed a narrow set of types.
  const base = started();
  const restricted: Array<{ role: ParticipantRole; who: { webId: WebId; container: ContainerUrl }; allowed: OpType[]; admitter: SimDevice; side: 'buyer' | 'seller' | 'other' }> = [
    { role: 'buyer-department', who: BUYER_DEPT, allowed: ['AddToCart', 'Comment'], admitter: base.bd, side: 'buyer' },
    { role: 'seller-department', who: SELLER_DEPT, allowed: ['QuoteItem', 'SetProductStock'], admitter: base.sd, side: 'seller' },
    { role: 'carrier', who: CARRIER_P, allowed: ['Comment', 'SetTracking'], admitter: base.sd, side: 'other' },
    { role: 'tax-authority', who: TAX, allowed: ['Comment'], admitter: base.bd, side: 'other' },
  ];
  for (const r of restricted) {
    r.admitter.write('AddParticipant', { role: r.role, webId: r.who.webId, container: r.who.container, allowedTypes: r.allowed }, base.now());
  }
  syncAll(base.all);
  const baseOps = base.bd.all();
  const auditor = party('auditor');

  const sample: { [T in OpType]: PayloadByType[T] } = {
    CreateInvoice: createPayload('USD'),
    SetBuyerInfo: { info: { name: 'Someone else' } },
    SetSellerInfo: { info: { name: 'Someone else' } },
    AddToCart: { product: 'pack', quantity: 1 },
    EditQuantity: { product: 'pack', quantity: 2 },
    RemoveFromCart: { product: 'pack' },
    SetProductStock: { product: 'pack', quantity: 5 },
    AddProductStock: { product: 'pack', delta: 3 },
    ItemOutOfStock: { product: 'pack' },
    QuoteItem: { product: 'pack', unitPrice: '1.00', taxRate: '21' },
    BidItem: { product: 'pack', unitPrice: '0.50', taxRate: '21' },
    AddExtra: { key: 'tip', description: 'Tip', amount: '1.00', taxRate: '21' },
    RemoveExtra: { key: 'tip' },
    AddDiscount: { key: 'promo', description: 'Promo', percent: '5' },
    RemoveDiscount: { key: 'promo' },
    ProposeDeliveryDate: { date: '2026-12-01' },
    RequestPostponedDelivery: { date: '2026-12-08' },
    ChooseDeliveryAddress: { address: { streetAddress: 'Main St 1', postalCode: '1011', addressLocality: 'Amsterdam', addressCountry: 'NL' } },
    SetPaymentTerms: { terms: 'net 30', dueDays: 30 },
    SetInvoiceDetails: { number: 'INV-1', issueDate: '2026-12-01' },
    SetBuyerReference: { reference: 'PO-1' },
    SetTracking: { carrier: 'ParcelCo', trackingId: 'TR1' },
    Comment: { text: 'hello' },
    AddParticipant: { role: 'tax-authority', webId: auditor.webId, container: auditor.container, allowedTypes: ['Comment'] },
    Propose: { termsHash: 'ef'.repeat(32) as TermsHash, heads: [base.create.id] },
    Accept: { termsHash: 'ef'.repeat(32) as TermsHash },
    MarkShipped: {},
    MarkPaid: {},
    MarkReceived: {},
    Dispute: { reason: 'no' },
  };

  const writers: Array<{ name: string; container: ContainerUrl; side: 'buyer' | 'seller' | 'other'; may: (type: OpType) => boolean; reason: (type: OpType) => string }> = [
    { name: 'buyer', container: BUYER.container, side: 'buyer', may: (t) => BUYER_TYPES.has(t), reason: mayOnlyBeWrittenBy },
    { name: 'seller', container: SELLER.container, side: 'seller', may: (t) => SELLER_TYPES.has(t), reason: mayOnlyBeWrittenBy },
    ...restricted.map((r) => ({
      name: `${r.role} allowed ${r.allowed.join(', ')}`,
      container: r.who.container,
      side: r.side,
      may: (t: OpType) => r.allowed.includes(t),
      reason: (t: OpType) =>
        t === 'CreateInvoice'
          ? // A CreateInvoice has no deps, so nothing (not even the admission) is in its causal past.
            `it was read from ${r.who.container}, which is not the op container of a participant admitted before it`
          : `the ${r.role.replace('-', ' ')} ${r.who.webId} was only allowed to write ${[...r.allowed].sort().join(', ')}`,
    })),
  ];

  const cases = writers.flatMap((w) => OP_TYPES.filter((type) => !w.may(type)).map((type) => ({ writer: w, type })));

  it('covers all 30 op types and every kind of writer', () => {
    expect(OP_TYPES).toHaveLength(30);
    expect(new Set(cases.map((c) => c.type)).size).toBe(30);
    expect(cases.filter((c) => c.writer.name === 'buyer').map((c) => c.type)).toEqual([
      'SetSellerInfo', 'SetProductStock', 'AddProductStock', 'ItemOutOfStock', 'QuoteItem', 'AddDiscount', 'RemoveDiscount',
      'ProposeDeliveryDate', 'SetPaymentTerms', 'SetInvoiceDetails', 'SetTracking', 'MarkShipped', 'MarkPaid',
    ]);
    expect(cases.filter((c) => c.writer.name === 'seller').map((c) => c.type)).toEqual([
      'SetBuyerInfo', 'AddToCart', 'EditQuantity', 'RemoveFromCart', 'BidItem', 'RequestPostponedDelivery', 'ChooseDeliveryAddress', 'SetBuyerReference',
      'MarkReceived',
    ]);
    expect(cases).toHaveLength(13 + 9 + 28 + 28 + 28 + 29);
  });

  it.each(cases.map((c) => [c.writer.name, c.type, c] as const))('%s may not write %s', (_name, type, { writer }) => {
    const device = new SimDevice(writer.side, 'rogue', writer.container, base.invoiceId);
    device.receive(baseOps);
    const before = device.view();
    const op = device.write(type as 'Comment', sample[type] as PayloadByType['Comment'], base.now(), { skipLocalCheck: true });
    const invoice = device.view();
    expect(rejection(invoice, op.id)).toBe(writer.reason(type));
    expect(invoice.rejected).toHaveLength(1);
    // Nothing the rejected op says shows up in the invoice.
    const { log: _l, heads: _h, latestClock: _c, rejected: _r, ...shown } = invoice;
    const { log: _l2, heads: _h2, latestClock: _c2, rejected: _r2, ...shownBefore } = before;
    expect(shown).toEqual(shownBefore);
  });
});
