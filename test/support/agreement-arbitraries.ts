/**
 * fast-check scripts of negotiations that reach agreements under concurrency, for the agreement-stability property:
 * 2–3 devices per party edit terms, propose, accept, mark shipped / paid / received, learn what one other device knows
 * or everything made so far, now and then dispute or accept an offer that is not the latest. Each device's clock is
 * skewed by up to ±3 s while steps are 1 s apart, so concurrent ops are clocked in every order. `playAgreement` runs
 * a script on in-memory devices and keeps every device's view after each of its steps.
 */
import fc from 'fast-check';
import { acceptanceOf, makeOp, proposalOf } from '../../src/model/builder.ts';
import type { FoldedInvoice } from '../../src/model/invoice.ts';
import type { OpId } from '../../src/model/ids.ts';
import type { AnyOp, OpType, PayloadByType, SourcedOp } from '../../src/model/ops.ts';
import type { Side } from '../../src/model/roles.ts';
import { BUYER, SELLER, SimDevice, createPayload, syncAll, T0 } from './invoice-kit.ts';

export type AgreementStep =
  /** The device does the next thing its view allows: mark, accept the other side's offer, propose, or edit. */
  | { readonly t: 'act'; readonly d: number; readonly k: number }
  /** The device edits the terms and proposes them, even with an offer of the other side open. */
  | { readonly t: 'counter'; readonly d: number; readonly k: number }
  /**
   * Every device of one side acts from its own view, none seeing what the others do now ('synced': each first learns
   * everything made so far): 'counter' gives concurrent proposals, 'act' concurrent acceptances and proposals.
   */
  | { readonly t: 'burst'; readonly side: 0 | 1; readonly k: number; readonly each: 'counter' | 'act'; readonly synced: boolean }
  /** Accept some offer of the other side the device has seen, not necessarily the latest (usually rejected). */
  | { readonly t: 'acceptAny'; readonly d: number; readonly k: number }
  /** The device learns what one other device knows. */
  | { readonly t: 'send'; readonly from: number; readonly to: number }
  /** The device learns everything every device has made so far (a crawl of pods every device pushes to at once). */
  | { readonly t: 'sync'; readonly d: number }
  | { readonly t: 'dispute'; readonly d: number };

export interface AgreementScript {
  readonly buyers: number;
  readonly sellers: number;
  /** Clock skew per device, in ms. */
  readonly skews: readonly number[];
  readonly steps: readonly AgreementStep[];
}

const d = fc.nat(5);
const k = fc.nat(60);
const stepArb: fc.Arbitrary<AgreementStep> = fc.oneof(
  { weight: 40, arbitrary: fc.record({ t: fc.constant('act' as const), d, k }) },
  { weight: 10, arbitrary: fc.record({ t: fc.constant('counter' as const), d, k }) },
  { weight: 16, arbitrary: fc.record({ t: fc.constant('burst' as const), side: fc.constantFrom(0 as const, 1 as const), k, each: fc.constantFrom('counter' as const, 'act' as const), synced: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('acceptAny' as const), d, k }) },
  { weight: 20, arbitrary: fc.record({ t: fc.constant('send' as const), from: d, to: d }) },
  { weight: 25, arbitrary: fc.record({ t: fc.constant('sync' as const), d }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('dispute' as const), d }) },
);

export const agreementScript: fc.Arbitrary<AgreementScript> = fc.record({
  buyers: fc.integer({ min: 2, max: 3 }),
  sellers: fc.integer({ min: 2, max: 3 }),
  skews: fc.array(fc.integer({ min: -3000, max: 3000 }), { minLength: 6, maxLength: 6 }),
  steps: fc.array(stepArb, { minLength: 8, maxLength: 20, size: 'max' }),
});

/** A device's view after one of its steps: what it knew, and the invoice it folded from that. */
export interface Snapshot {
  readonly step: number;
  readonly device: number;
  readonly side: Side;
  readonly known: ReadonlySet<OpId>;
  readonly invoice: FoldedInvoice;
}

export interface Played {
  readonly devices: readonly SimDevice[];
  /** Every op any device made, once per container it was written to. */
  readonly ops: readonly SourcedOp[];
  readonly snapshots: readonly Snapshot[];
}

export function sideOfContainer(container: string): Side | null {
  if (container === BUYER.container) return 'buyer';
  return container === SELLER.container ? 'seller' : null;
}

// Different labels per party: two parties' ops with the same content would be one op (an id names content, not author).
const BUYER_LABELS = ['desktop', 'mobile', 'laptop'];
const SELLER_LABELS = ['office', 'phone', 'tablet'];

/** Runs a script: an invoice with one priced line, then each step on the device it names, as a person there would. */
export function playAgreement(script: AgreementScript): Played {
  const devices = [
    ...Array.from({ length: script.buyers }, (_, i) => new SimDevice('buyer', BUYER_LABELS[i]!, BUYER.container)),
    ...Array.from({ length: script.sellers }, (_, i) => new SimDevice('seller', SELLER_LABELS[i]!, SELLER.container)),
  ];
  let now = T0;
  const clockOf = (device: number) => (now += 1000) + script.skews[device]!;
  devices[0]!.write('CreateInvoice', createPayload('EUR'), clockOf(0));
  syncAll(devices);
  devices[0]!.write('AddToCart', { product: 'p0', quantity: 2 }, clockOf(0));
  const seller = devices[script.buyers]!;
  for (const product of ['p0', 'p1', 'p2']) seller.write('QuoteItem', { product, unitPrice: '4.00', taxRate: '21' }, clockOf(script.buyers));
  syncAll(devices);

  const views = new Map<SimDevice, { size: number; invoice: FoldedInvoice }>();
  /** A device's fold, computed again only when it has learned or made something. */
  const viewOf = (device: SimDevice): FoldedInvoice => {
    const cached = views.get(device);
    if (cached?.size === device.known.size) return cached.invoice;
    const invoice = device.view();
    views.set(device, { size: device.known.size, invoice });
    return invoice;
  };
  const snapshots: Snapshot[] = [];
  const snapshot = (step: number, acting: number) => {
    const device = devices[acting]!;
    const known = new Set(device.all().map((sourced) => sourced.op.id));
    snapshots.push({ step, device: acting, side: device.side as Side, known, invoice: viewOf(device) });
  };
  script.steps.forEach((step, index) => {
    if (step.t === 'burst') {
      const side = step.side === 0 ? 'buyer' : 'seller';
      const union = step.synced ? devices.flatMap((device) => device.all()) : [];
      devices.forEach((device, i) => {
        if (device.side !== side) return;
        device.receive(union);
        act(device, () => viewOf(device), { t: step.each, d: i, k: step.k + 3 * i }, clockOf(i));
        snapshot(index, i);
      });
      return;
    }
    const acting = step.t === 'send' ? step.to % devices.length : step.d % devices.length;
    const device = devices[acting]!;
    if (step.t === 'send') device.receive(devices[step.from % devices.length]!.all());
    else if (step.t === 'sync') for (const other of devices) device.receive(other.all());
    else act(device, () => viewOf(device), step, clockOf(acting));
    snapshot(index, acting);
  });
  settle(devices, script.buyers, viewOf, (device) => clockOf(device), (acting) => snapshot(script.steps.length, acting));
  const ops = [...new Map(devices.flatMap((device) => device.all()).map((sourced) => [`${sourced.op.id} ${sourced.container}`, sourced])).values()];
  return { devices, ops, snapshots };
}

/**
 * The end of every script: everyone syncs; a first device of each side acts in turn (accept or propose, then ship,
 * receive, pay), syncing between turns, so that most runs end agreed and shipped, with views that see more later.
 */
function settle(
  devices: readonly SimDevice[],
  buyers: number,
  viewOf: (device: SimDevice) => FoldedInvoice,
  clockOf: (device: number) => number,
  snapshot: (device: number) => void,
): void {
  const syncEveryone = () => {
    const union = devices.flatMap((device) => device.all());
    for (const device of devices) device.receive(union);
  };
  for (const turn of [0, buyers, 0, buyers, 0, buyers]) {
    syncEveryone();
    const device = devices[turn]!;
    act(device, () => viewOf(device), { t: 'act', d: turn, k: 1 }, clockOf(turn));
    snapshot(turn);
  }
}

type Action = Extract<AgreementStep, { t: 'act' | 'counter' | 'acceptAny' | 'dispute' }>;

/** One step on a device, from its current view: what a person there would do, or nothing when the view allows nothing. */
function act(device: SimDevice, viewOf: () => FoldedInvoice, step: Action, nowMs: number): void {
  const side = device.side as Side;
  const write = <T extends OpType>(type: T, payload: PayloadByType[T]) => {
    const view = viewOf();
    const op = makeOp(
      type,
      payload,
      { invoiceId: device.invoiceId, device: device.device, heads: view.heads, latestClock: view.latestClock },
      nowMs,
    );
    device.receive([{ op: op as AnyOp, container: device.container }]);
  };
  const propose = () => {
    const view = viewOf();
    if (!view.agreement && !view.notProposable) write('Propose', proposalOf(view));
  };
  const view = viewOf();
  switch (step.t) {
    case 'act':
      if (view.agreement) return mark(side, view, write);
      if (view.proposal && view.proposal.side !== side && step.k % 4 !== 0) return write('Accept', acceptanceOf(view, side));
      if (step.k % 3 === 0) edit(side, step.k, write);
      return propose();
    case 'counter':
      if (view.agreement) return;
      edit(side, step.k, write);
      return propose();
    case 'acceptAny': {
      const offers = device.all().filter((s) => s.op.type === 'Propose' && sideOfContainer(s.container) !== side);
      const offer = offers[step.k % Math.max(1, offers.length)]?.op as (AnyOp & { type: 'Propose' }) | undefined;
      if (!view.agreement && offer) write('Accept', { termsHash: offer.payload.termsHash });
      return;
    }
    case 'dispute':
      return write('Dispute', { reason: `the ${side} disagrees` });
  }
}

type Write = <T extends OpType>(type: T, payload: PayloadByType[T]) => void;

/** A change of terms: the buyer's quantities, the seller's stock and prices. */
function edit(side: Side, k: number, write: Write): void {
  const product = `p${k % 3}`;
  if (side === 'buyer') return k % 2 ? write('AddToCart', { product, quantity: 1 }) : write('EditQuantity', { product, quantity: 1 + (k % 4) });
  return k % 2 ? write('SetProductStock', { product, quantity: 1 + (k % 5) }) : write('QuoteItem', { product, unitPrice: `${1 + (k % 7)}.50`, taxRate: '21' });
}

/** After agreement: the seller ships, then is paid; the buyer confirms receipt once shipped. */
function mark(side: Side, view: FoldedInvoice, write: Write): void {
  if (side === 'seller' && !view.shipped) write('MarkShipped', {});
  else if (side === 'seller' && !view.paid) write('MarkPaid', {});
  else if (side === 'buyer' && view.shipped && !view.received) write('MarkReceived', {});
}

/** "a is in b's causal past" for the ops of a played script, from their deps. */
export function ancestry(ops: readonly SourcedOp[]): (a: OpId, b: OpId) => boolean {
  const byId = new Map(ops.map((sourced) => [sourced.op.id, sourced.op]));
  const pasts = new Map<OpId, Set<OpId>>();
  const pastOf = (id: OpId): Set<OpId> => {
    let past = pasts.get(id);
    if (!past) {
      past = new Set<OpId>();
      for (const dep of byId.get(id)?.deps ?? []) {
        past.add(dep);
        for (const ancestor of pastOf(dep)) past.add(ancestor);
      }
      pasts.set(id, past);
    }
    return past;
  };
  return (a, b) => pastOf(b).has(a);
}
