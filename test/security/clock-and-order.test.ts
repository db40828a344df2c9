/**
 * What a clock can and cannot win (SECURITY.md, "Clocks"), what the CreateInvoice origin anchors, and what the clock
 * does not decide: an Accept concurrent with a new Propose stands, whatever the clocks say. Model level: the fold sees
 * exactly what a device would after crawling, without pods (the pod-level versions of the same ops are in
 * hostile.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { acceptanceOf, proposalOf } from '../../src/model/builder.ts';
import { MAX_COUNTER, MAX_WALL_MS } from '../../src/model/clock.ts';
import { fold } from '../../src/model/fold.ts';
import type { SourcedOp } from '../../src/model/ops.ts';
import { Replica } from '../../src/sync/replica.ts';
import { MemoryDeviceStore } from '../../src/sync/store.ts';
import { BUYER, createPayload, entryOf, forge, rejection, short, started, syncAll, T0 } from '../support/invoice-kit.ts';

const FAR_FUTURE = { wallMs: MAX_WALL_MS, counter: 0 };

/** Every arrival order gives the same invoice: reversed and rotated unions, folded with the origin. */
function sameEverywhere(ops: SourcedOp[]) {
  const orders = [ops, [...ops].reverse(), [...ops.slice(3), ...ops.slice(0, 3)]];
  const folded = orders.map((list) => JSON.stringify(fold(list, { invoiceId: ops[0]!.op.invoiceId, origin: BUYER.container })));
  expect(new Set(folded).size).toBe(1);
  return JSON.parse(folded[0]!) as ReturnType<typeof fold>;
}

describe('clocks', () => {
  it('a far-past clock cannot go before the ops it depends on: rejected', () => {
    const s = started();
    s.bd.write('AddToCart', { product: 'beans', quantity: 1 }, s.now());
    const old = forge(s.bd, 'AddToCart', { product: 'beans', quantity: 500 }, { clock: { wallMs: 0, counter: 0 } });
    expect(rejection(s.bd.view(), old.id)).toMatch(/^its clock \(1970-01-01T00:00:00.000Z\) is not after that of op [0-9a-f]{12}… it depends on: a clock may never go backwards$/);
    expect(s.bd.view().items[0]?.desired).toBe(1);
  });

  it('a far-past clock without deps is accepted as concurrent with everything, and loses every last-writer-wins tie', () => {
    const s = started();
    s.sd.write('AddExtra', { key: 'shipping', description: 'shipping', amount: '25', taxRate: '21' }, s.now());
    const early = forge(s.bm, 'AddExtra', { key: 'shipping', description: 'free shipping', amount: '0', taxRate: '0' }, { clock: { wallMs: 1, counter: 0 }, deps: [] });
    syncAll(s.all);
    const invoice = sameEverywhere(s.sd.all());
    expect(entryOf(invoice, early.id)?.state).toBe('accepted');
    expect(invoice.extras.map((e) => e.amount)).toEqual(['25.00']);
  });

  it('a far-future clock wins the last-writer-wins tie against a concurrent op, but not against an op made after seeing it', () => {
    const s = started();
    // The buyer's device claims the year 9999 for "free shipping"; the seller concurrently charges 25.
    const future = forge(s.bm, 'AddExtra', { key: 'shipping', description: 'free shipping', amount: '0', taxRate: '0' }, { clock: FAR_FUTURE });
    const honest = s.sd.write('AddExtra', { key: 'shipping', description: 'shipping', amount: '25', taxRate: '21' }, s.now());
    syncAll(s.all);
    let invoice = sameEverywhere(s.sd.all());
    expect(entryOf(invoice, future.id)?.state).toBe('accepted');
    expect(entryOf(invoice, honest.id)?.state).toBe('accepted');
    expect(invoice.extras.map((e) => e.amount)).toEqual(['0.00']);

    // The seller's next op is made after seeing it: its hybrid clock is dragged to 9999 and it is causally later.
    const again = s.sd.write('AddExtra', { key: 'shipping', description: 'shipping', amount: '25', taxRate: '21' }, s.now());
    expect(again.clock).toEqual({ wallMs: MAX_WALL_MS, counter: 1 });
    syncAll(s.all);
    invoice = sameEverywhere(s.sd.all());
    expect(invoice.extras.map((e) => e.amount)).toEqual(['25.00']);
    // The log shows the claimed time: anyone reading it sees the year 9999.
    expect(entryOf(invoice, future.id)?.at).toBe('9999-12-31T23:59:59.999Z');
  });

  it('a far-future clock does not decide the lowest quote, the counters, or the status machine (they do not go by clock)', () => {
    const s = started();
    s.bd.write('AddToCart', { product: 'beans', quantity: 2 }, s.now());
    syncAll(s.all);
    s.sd.write('QuoteItem', { product: 'beans', unitPrice: '3', taxRate: '21' }, s.now());
    forge(s.sm, 'QuoteItem', { product: 'beans', unitPrice: '9', taxRate: '21' }, { clock: FAR_FUTURE });
    forge(s.bm, 'AddToCart', { product: 'beans', quantity: 1 }, { clock: FAR_FUTURE });
    syncAll(s.all);
    const invoice = sameEverywhere(s.sd.all());
    expect(invoice.items[0]).toMatchObject({ desired: 3, unitPrice: '3' });
  });

  it("a counterparty's op at the very last clock value does not stop the other party's device from writing (at least a Dispute)", async () => {
    // Without a guard, tick() after {MAX_WALL_MS, MAX_COUNTER} has no next value and every op of every device that has
    // seen it would be refused. A device does not build on ops clocked far ahead of its own clock. Real Replica, offline.
    const s = started();
    const frozen = forge(s.sm, 'Comment', { text: 'the end of time' }, { clock: { wallMs: MAX_WALL_MS, counter: MAX_COUNTER } });
    const store = new MemoryDeviceStore();
    await store.saveInvoice({
      invoiceId: s.invoiceId,
      ownContainer: BUYER.container,
      origin: BUYER.container,
      seedContainers: [BUYER.container],
    });
    await store.appendOps(s.invoiceId, s.sm.all());
    const offline = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    const device = new Replica({ store, fetch: offline, identity: { webId: BUYER.webId, podRoot: 'https://buyer.example/', device: 'desktop' }, now: () => T0 + 3_600_000 });
    expect(entryOf(await device.view(s.invoiceId), frozen.id)?.state).toBe('accepted');
    const dispute = await device.write(s.invoiceId, 'Dispute', { reason: 'the seller froze the clock' });
    expect((await device.view(s.invoiceId)).status).toBe('buyer-disagrees');
    expect(dispute.outbox.queued).toBe(1);
  });
});

describe('the CreateInvoice origin', () => {
  it("anchors the invoice to the creator's container: the counterparty's earlier Create is rejected, on every device", () => {
    const s = started();
    const forged = forge(s.sm, 'CreateInvoice', createPayload('JPY'), { clock: { wallMs: 1, counter: 0 }, deps: [] });
    syncAll(s.all);
    const invoice = sameEverywhere(s.bd.all());
    expect(invoice.currency).toBe('EUR');
    expect(rejection(invoice, forged.id)).toMatch(/^a different CreateInvoice for this invoice already exists/);
  });

  it('a second, earlier CreateInvoice written into the origin container after the other party built on the first does not replace it', () => {
    // A compromised device of the creator, or the creator's pod operator, can add an earlier-clocked CreateInvoice to
    // the origin; once the counterparty has built on the first one, that one stays.
    const s = started();
    s.sd.write('QuoteItem', { product: 'beans', unitPrice: '2', taxRate: '21' }, s.now());
    syncAll(s.all);
    const swapped = forge(s.bm, 'CreateInvoice', createPayload('JPY'), { clock: { wallMs: 1, counter: 0 }, deps: [] });
    syncAll(s.all);
    const invoice = sameEverywhere(s.sd.all());
    expect(invoice.currency).toBe('EUR');
    expect(entryOf(invoice, swapped.id)?.state).toBe('rejected');
    expect(entryOf(invoice, s.create.id)?.state).toBe('accepted');
  });
});

describe('an Accept concurrent with a new Propose', () => {
  function proposed() {
    const s = started();
    s.bd.write('AddToCart', { product: 'beans', quantity: 2 }, s.now());
    syncAll(s.all);
    s.sd.write('QuoteItem', { product: 'beans', unitPrice: '3', taxRate: '21' }, s.now());
    const first = s.sd.write('Propose', proposalOf(s.sd.view()), s.now());
    syncAll(s.all);
    return { s, first };
  }

  // Before issue 15 the clock decided: a concurrent Propose clocked before the Accept superseded it. Now the Accept
  // is judged by what its author had seen, so the clock changes nothing: both orders give the same agreement.
  for (const order of ['after', 'before'] as const) {
    it(`the Accept stands when the concurrent Propose is clocked ${order} it: agreed on the first terms, the Propose is rejected as unseen`, () => {
      const { s, first } = proposed();
      const at = s.now();
      s.sd.write('QuoteItem', { product: 'beans', unitPrice: '2.5', taxRate: '21' }, at);
      const second = s.sd.write('Propose', proposalOf(s.sd.view()), order === 'after' ? at + 20_000 : at + 1);
      const accept = s.bd.write('Accept', acceptanceOf(s.bd.view(), 'buyer'), at + 10_000);
      expect(second.clock.wallMs < accept.clock.wallMs).toBe(order === 'before');
      syncAll(s.all);
      const invoice = sameEverywhere(s.bd.all());
      expect(invoice.status).toBe('agreed');
      expect(invoice.agreement?.termsHash).toBe(first.payload.termsHash);
      expect(invoice.agreement?.acceptOpId).toBe(accept.id);
      expect(invoice.proposal?.opId).toBe(first.id);
      expect(entryOf(invoice, accept.id)?.state).toBe('accepted');
      expect(rejection(invoice, second.id)).toBe(
        `it was made concurrently with the agreement on terms ${short(first.payload.termsHash)}: the Accept (op ${short(accept.id)}) had not seen it, ` +
          'and an acceptance is never undone by a proposal its author could not have seen',
      );
      // The seller's cheaper quote, made without seeing the Accept, is listed as a change after the agreement.
      expect(invoice.agreement?.changesAfter.map((c) => c.type)).toEqual(['QuoteItem']);
      expect(invoice.totals.gross).toBe('7.26');
    });
  }
});
