/**
 * What a person at a device does next, from nothing but that device's own view of the invoice: the whole
 * lifecycle (ask, quote, propose, accept, ship, pay, receive, dispute, change after agreement), some everyday
 * content edits along the way, and, on purpose and now and then, a mistake the device must refuse.
 *
 * Shared by the fault simulations on pods (test/support/fleet.ts) and the model's negotiation generator
 * (test/support/negotiation.ts), so both exercise the same lifecycle. Decisions use only what a real device can
 * know: propose what it sees, accept the other side's latest proposal it sees, ship, pay or receive only after it
 * sees the agreement or the shipment. So an honest move is never refused by the device's own fold, under any rule
 * that judges an op by what its author had seen; a refusal of an honest move is a bug, and the callers fail on it.
 */
import { acceptanceOf, proposalOf } from '../../src/model/builder.ts';
import type { FoldedInvoice } from '../../src/model/invoice.ts';
import type { OpType, PayloadByType } from '../../src/model/ops.ts';
import type { Side } from '../../src/model/roles.ts';

/** The lifecycle step a move belongs to (for coverage reports). */
export type StepKind = 'ask' | 'quote' | 'propose' | 'accept' | 'ship' | 'pay' | 'receive' | 'dispute' | 'change-after' | 'edit' | 'mistake';

export interface Move<T extends OpType = OpType> {
  readonly type: T;
  readonly payload: PayloadByType[T];
  readonly kind: StepKind;
  /** For a mistake made on purpose: the name of the mistake and what the refusal must say. */
  readonly mistake?: { readonly name: string; readonly refusal: RegExp };
}

/**
 * A move; or what the device waits for from the other party (an op it has to write, or has written and this device
 * has not seen); or nothing to do for now (its part is done, the money has not come in, the invoice is disputed).
 */
export type Decision = { readonly move: Move } | { readonly waitsFor: string } | { readonly idle: string };

/** How one negotiation goes: whether and when someone disputes, and how often a device makes a mistake on purpose. */
export interface Persona {
  /** The phase (as the disputing device sees it) at which that party disputes; 'never' for most negotiations. */
  readonly disputeAt: 'never' | 'negotiating' | 'agreed' | 'shipped' | 'received';
  readonly disputer: Side;
  /** Chance per move of a mistake the device must refuse. */
  readonly mistakeRate: number;
}

export const CALM: Persona = { disputeAt: 'never', disputer: 'buyer', mistakeRate: 0 };

export const PRODUCTS = ['beans', 'pencils', 'paper', 'ink'] as const;

type Roll = () => number;
const move = <T extends OpType>(type: T, payload: PayloadByType[T], kind: StepKind): Decision => ({ move: { type, payload, kind } as unknown as Move });
const pickOf = <T>(roll: Roll, list: readonly T[]): T => list[Math.floor(roll() * list.length)]!;
const price = (roll: Roll) => `${1 + Math.floor(roll() * 40)}.${pickOf(roll, ['00', '25', '50', '95'])}`;

/** The next thing a person at a device of `side` does, seeing `view`. */
export function decide(view: FoldedInvoice, side: Side, roll: Roll, persona: Persona = CALM): Decision {
  if (view.status === 'no invoice') return { idle: 'no CreateInvoice yet' };
  if (persona.mistakeRate > 0 && roll() < persona.mistakeRate) return { move: mistake(view, side, roll) };
  if (view.disputes.length > 0) return roll() < 0.25 ? move('Comment', { text: `${side}: about the dispute` }, 'edit') : { idle: 'the invoice is disputed' };
  if (persona.disputer === side && reached(view, persona.disputeAt)) {
    return move('Dispute', { reason: DISPUTE_REASONS[persona.disputeAt] }, 'dispute');
  }
  return side === 'buyer' ? buyerDecides(view, roll) : sellerDecides(view, roll);
}

const DISPUTE_REASONS: Record<Persona['disputeAt'], string> = {
  never: 'no reason',
  negotiating: 'these terms are not what we discussed',
  agreed: 'we never agreed to this',
  shipped: 'the shipment is not what was ordered',
  received: 'the goods arrived damaged',
};

function reached(view: FoldedInvoice, phase: Persona['disputeAt']): boolean {
  switch (phase) {
    case 'never':
      return false;
    case 'negotiating':
      return view.items.length > 0;
    case 'agreed':
      return view.agreement !== null;
    case 'shipped':
      return view.shipped;
    case 'received':
      // After the deal is done: received, and paid.
      return view.received && view.paid;
  }
}

function buyerDecides(view: FoldedInvoice, roll: Roll): Decision {
  if (view.agreement) {
    if (view.shipped && !view.received) return move('MarkReceived', {}, 'receive');
    if (roll() < 0.3) return buyerEdit(view, roll, 'change-after');
    return view.shipped ? { idle: 'received' } : { waitsFor: 'the seller to ship' };
  }
  if (!view.items.some((line) => line.desired > 0)) {
    // What the seller's catalog offers, if the device has seen it; otherwise anything.
    const offered = view.catalog.filter((entry) => entry.unitPrice !== null).map((entry) => entry.productCode);
    return move('AddToCart', { product: pickOf(roll, offered.length ? offered : PRODUCTS), quantity: 1 + Math.floor(roll() * 9) }, 'ask');
  }
  const proposal = view.proposal;
  if (proposal?.side === 'seller') return move('Accept', acceptanceOf(view, 'buyer'), 'accept');
  if (view.notProposable !== null) return roll() < 0.15 ? buyerEdit(view, roll, 'edit') : { waitsFor: `the seller (${view.notProposable})` };
  if (proposal?.termsHash === view.termsHash) return roll() < 0.1 ? buyerEdit(view, roll, 'edit') : { waitsFor: 'the seller to accept' };
  if (roll() < 0.6) return move('Propose', proposalOf(view), 'propose');
  return roll() < 0.3 ? buyerEdit(view, roll, 'edit') : { waitsFor: 'a proposal from the seller' };
}

function sellerDecides(view: FoldedInvoice, roll: Roll): Decision {
  if (view.agreement) {
    if (!view.shipped) return move('MarkShipped', {}, 'ship');
    if (!view.paid && roll() < 0.8) return move('MarkPaid', {}, 'pay');
    if (roll() < 0.3) return sellerEdit(view, roll, 'change-after');
    return { idle: view.paid ? 'paid' : 'the money has not come in' };
  }
  const asked = view.items.filter((line) => line.desired > 0);
  if (asked.length === 0) {
    // Nothing asked yet: the seller prices its catalog, so that what the buyer asks for is priced already.
    const quoted = new Set(view.catalog.filter((entry) => entry.unitPrice !== null).map((entry) => entry.productCode));
    const unquoted = PRODUCTS.filter((product) => !quoted.has(product));
    if (quoted.size < 2) return move('QuoteItem', { product: pickOf(roll, unquoted), unitPrice: price(roll), taxRate: pickOf(roll, ['21', '9']) }, 'quote');
    return roll() < 0.2 ? sellerEdit(view, roll, 'edit') : { waitsFor: 'the buyer to ask for something' };
  }
  const proposal = view.proposal;
  if (proposal?.side === 'buyer') return move('Accept', acceptanceOf(view, 'seller'), 'accept');
  const unpriced = view.items.find((line) => line.qty > 0 && line.unitPrice === null);
  if (unpriced) return move('QuoteItem', { product: unpriced.productCode, unitPrice: price(roll), taxRate: pickOf(roll, ['21', '9']) }, 'quote');
  if (view.notProposable !== null) return roll() < 0.15 ? sellerEdit(view, roll, 'edit') : { waitsFor: `the buyer (${view.notProposable})` };
  if (proposal?.termsHash === view.termsHash) return roll() < 0.1 ? sellerEdit(view, roll, 'edit') : { waitsFor: 'the buyer to accept' };
  if (roll() < 0.75) return move('Propose', proposalOf(view), 'propose');
  return sellerEdit(view, roll, 'edit');
}

/** An everyday change by the buyer: asking for more, a bid, an address, an extra, a note. */
function buyerEdit(view: FoldedInvoice, roll: Roll, kind: StepKind): Decision {
  const line = view.items.length ? pickOf(roll, view.items) : undefined;
  const product = line?.productCode ?? pickOf(roll, PRODUCTS);
  const ownExtra = view.extras.find((extra) => extra.addedBy.role === 'buyer');
  const options: Array<() => Decision> = [
    () => move('AddToCart', { product: pickOf(roll, PRODUCTS), quantity: 1 + Math.floor(roll() * 5) }, kind),
    () => move('EditQuantity', { product, quantity: 1 + Math.floor(roll() * 20) }, kind),
    () => move('BidItem', { product, unitPrice: price(roll), taxRate: '21' }, kind),
    () => move('ChooseDeliveryAddress', { address: { streetAddress: `Main St ${1 + Math.floor(roll() * 99)}`, postalCode: '1011', addressLocality: 'Amsterdam', addressCountry: 'NL' } }, kind),
    () => move('AddExtra', { key: 'gift-wrap', description: 'gift wrap', amount: '1.25', taxRate: '21' }, kind),
    () => (ownExtra ? move('RemoveExtra', { key: ownExtra.key }, kind) : move('Comment', { text: 'no extras, thanks' }, kind)),
    () => move('SetBuyerInfo', { info: { name: `Michiel ${1 + Math.floor(roll() * 9)}` } }, kind),
    () => move('RequestPostponedDelivery', { date: `2026-12-${String(10 + Math.floor(roll() * 18))}` }, kind),
    () => move('Comment', { text: `buyer note ${Math.floor(roll() * 1000)}` }, kind),
  ];
  return pickOf(roll, options)();
}

/** An everyday change by the seller: a new price, stock, a discount, a date, terms, tracking, a note. */
function sellerEdit(view: FoldedInvoice, roll: Roll, kind: StepKind): Decision {
  const line = view.items.length ? pickOf(roll, view.items) : undefined;
  const product = line?.productCode ?? pickOf(roll, PRODUCTS);
  const discount = view.discounts[0];
  const options: Array<() => Decision> = [
    () => move('QuoteItem', { product, unitPrice: price(roll), taxRate: '21' }, kind),
    // Enough stock for what is asked, so the line stays invoiced.
    () => move('SetProductStock', { product, quantity: (line?.desired ?? 0) + 10 + Math.floor(roll() * 50) }, kind),
    () => move('AddProductStock', { product, delta: 1 + Math.floor(roll() * 20) }, kind),
    () => move('AddDiscount', { key: 'loyal', description: 'loyalty', percent: pickOf(roll, ['5', '10']) }, kind),
    () => (discount ? move('RemoveDiscount', { key: discount.key }, kind) : move('Comment', { text: 'no discount this time' }, kind)),
    () => move('ProposeDeliveryDate', { date: `2026-12-${String(10 + Math.floor(roll() * 18))}` }, kind),
    () => move('SetPaymentTerms', { terms: 'bank transfer', dueDays: pickOf(roll, [14, 30]) }, kind),
    () => move('SetSellerInfo', { info: { name: `George ${1 + Math.floor(roll() * 9)}` } }, kind),
    () => move('AddExtra', { key: 'shipping', description: 'shipping', amount: '4.95', taxRate: '21' }, kind),
    () => (view.shipped ? move('SetTracking', { carrier: 'ParcelCo', trackingId: `TR${Math.floor(roll() * 1e6)}` }, kind) : move('Comment', { text: 'packing your order' }, kind)),
  ];
  return pickOf(roll, options)();
}

/** A mistake a person can make at this point, with the refusal the device must give. */
function mistake(view: FoldedInvoice, side: Side, roll: Roll): Move {
  const other = side === 'buyer' ? 'seller' : 'buyer';
  const options: Move[] = [
    side === 'buyer'
      ? { type: 'MarkShipped', payload: {}, kind: 'mistake', mistake: { name: 'the buyer marks it shipped', refusal: /the buyer may not write MarkShipped/ } }
      : { type: 'AddToCart', payload: { product: 'beans', quantity: 1 }, kind: 'mistake', mistake: { name: 'the seller fills the cart', refusal: /the seller may not write AddToCart/ } },
  ];
  if (view.disputes.length > 0) {
    options.push(
      side === 'buyer'
        ? { type: 'MarkReceived', payload: {}, kind: 'mistake', mistake: { name: 'acting on a disputed invoice', refusal: /disputed/ } }
        : { type: 'MarkPaid', payload: {}, kind: 'mistake', mistake: { name: 'acting on a disputed invoice', refusal: /disputed/ } },
    );
  } else if (side === 'seller' && !view.agreement) {
    options.push({ type: 'MarkShipped', payload: {}, kind: 'mistake', mistake: { name: 'shipping before the agreement', refusal: /before buyer and seller agree/ } });
  } else if (side === 'buyer' && !view.shipped) {
    options.push({ type: 'MarkReceived', payload: {}, kind: 'mistake', mistake: { name: 'receiving before the shipment', refusal: /before the seller marks it shipped/ } });
  }
  // Only while the other side never proposed at all: two parties proposing the same terms share one hash.
  const otherProposed = view.log.some((entry) => entry.type === 'Propose' && entry.state === 'accepted' && entry.author?.role === other);
  if (view.proposal?.side === side && !view.agreement && view.disputes.length === 0 && !otherProposed) {
    options.push({ type: 'Accept', payload: { termsHash: view.proposal.termsHash }, kind: 'mistake', mistake: { name: `accepting its own proposal (not the ${other}'s)`, refusal: /own proposal/ } });
  }
  return pickOf(roll, options);
}

/** How far an invoice got: the coverage categories the simulations report. */
export interface Reached {
  readonly agreed: boolean;
  readonly shipped: boolean;
  readonly receivedAndPaid: boolean;
  readonly disputed: boolean;
  readonly changedAfter: boolean;
}

export function reachedOf(view: FoldedInvoice): Reached {
  return {
    agreed: view.agreement !== null,
    shipped: view.shipped,
    receivedAndPaid: view.received && view.paid,
    disputed: view.disputes.length > 0,
    changedAfter: (view.agreement?.changesAfter.length ?? 0) > 0,
  };
}
