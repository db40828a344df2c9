import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoiceKeyOf } from '../../src/model/invoice-key.ts';
import type { InvoiceId } from '../../src/model/ids.ts';
import type { FoldedInvoice } from '../../src/model/invoice.ts';
import type { AnyOp, Op } from '../../src/model/ops.ts';
import { Replica } from '../../src/sync/replica.ts';
import { MemoryDeviceStore } from '../../src/sync/store.ts';
import { startTestPods, type TestParty, type TestPods } from '../support/pods.ts';

// Issue 15 on two real Community Solid Servers: an acceptance stands against a proposal its author could not have
// seen, in both directions. The devices' clocks are set by the test, so that the unseen proposal is clocked between
// the proposal that was accepted and the Accept: the order by clock that used to undo the acceptance.
let pods: TestPods;
let wall = Date.now();
const at = (ms: number) => {
  wall = ms;
};

type Devices = Record<'bd' | 'bm' | 'sd' | 'sm', Replica>;

function replicaOf(party: TestParty, side: 'buyer' | 'seller', device: 'desktop' | 'mobile'): Replica {
  const identity = { webId: party.webId, podRoot: party.podRoot, device };
  return new Replica({ store: new MemoryDeviceStore(), fetch: party.devices[device].fetch, identity, now: () => wall });
}

/** Four devices on an invoice the buyer created: 2 beans at 1.50 (21 % VAT), which every device has seen. */
async function pricedInvoice(invoiceId: InvoiceId): Promise<Devices> {
  const devices: Devices = {
    bd: replicaOf(pods.buyer, 'buyer', 'desktop'),
    bm: replicaOf(pods.buyer, 'buyer', 'mobile'),
    sd: replicaOf(pods.seller, 'seller', 'desktop'),
    sm: replicaOf(pods.seller, 'seller', 'mobile'),
  };
  at(wall + 1000);
  await devices.bd.createInvoice(invoiceId, {
    currency: 'EUR',
    counterparty: { webId: pods.seller.webId, podRoot: pods.seller.podRoot },
    ownInfo: { name: 'Michiel' },
    counterpartyInfo: { name: 'George' },
  });
  for (const device of [devices.bm, devices.sd, devices.sm]) await device.joinInvoice(invoiceId, devices.bd.ownContainer(invoiceId));
  at(wall + 1000);
  await devices.bd.write(invoiceId, 'AddToCart', { product: 'beans', quantity: 2 });
  await devices.sd.sync(invoiceId);
  at(wall + 1000);
  await devices.sd.write(invoiceId, 'QuoteItem', { product: 'beans', unitPrice: '1.50', taxRate: '21' });
  for (const device of Object.values(devices)) expect((await device.sync(invoiceId)).invoice.totals.gross).toBe('3.63');
  return devices;
}

/** Every device syncs; all four fold the same invoice, which is returned. */
async function everyoneSynced(devices: Devices, invoiceId: InvoiceId): Promise<FoldedInvoice> {
  for (const device of Object.values(devices)) await device.sync(invoiceId);
  const views = await Promise.all(Object.values(devices).map(async (device) => JSON.stringify((await device.sync(invoiceId)).invoice)));
  for (const view of views) expect(view).toBe(views[0]);
  return JSON.parse(views[0]!) as FoldedInvoice;
}

const short = (id: string) => `${id.slice(0, 12)}…`;
const unseenReason = (agreed: Op<'Propose'>, accept: AnyOp) =>
  `it was made concurrently with the agreement on terms ${short(agreed.payload.termsHash)}: the Accept (op ${short(accept.id)}) had not seen it, ` +
  'and an acceptance is never undone by a proposal its author could not have seen';
const stateOf = (invoice: FoldedInvoice, op: AnyOp) => invoice.log.find((entry) => entry.opId === op.id);

beforeAll(async () => {
  pods = await startTestPods();
}, 120_000);

afterAll(async () => {
  await pods?.stop();
});

describe('an acceptance is never undone by a proposal its author could not have seen, on real pods', () => {
  it("the seller accepts the buyer's offer and ships; the buyer's mobile, which had not seen the offer, re-proposes: the deal stands", async () => {
    const invoiceId = invoiceKeyOf(pods.buyer.podRoot, 'INV-AGREE-1');
    const devices = await pricedInvoice(invoiceId);
    const t1 = wall + 10_000;
    at(t1);
    const h1 = (await devices.bd.propose(invoiceId)).op as Op<'Propose'>;
    await devices.sd.sync(invoiceId);
    at(t1 + 2000);
    const accept = (await devices.sd.accept(invoiceId)).op;
    at(t1 + 3000);
    const shipped = (await devices.sd.write(invoiceId, 'MarkShipped', {})).op;
    const sellerSaw = await devices.sd.view(invoiceId);
    expect(sellerSaw.status).toBe('shipped');

    // Buyer-mobile has not synced since the quote: it edits the quantity and proposes, clocked between H1 and the Accept.
    at(t1 + 500);
    const edit = (await devices.bm.write(invoiceId, 'EditQuantity', { product: 'beans', quantity: 5 })).op;
    at(t1 + 600);
    const h2 = (await devices.bm.propose(invoiceId)).op as Op<'Propose'>;
    expect(h1.clock.wallMs < h2.clock.wallMs && h2.clock.wallMs < accept.clock.wallMs).toBe(true);

    at(t1 + 10_000);
    const invoice = await everyoneSynced(devices, invoiceId);
    expect(invoice.status).toBe('shipped');
    expect(invoice.agreement).toMatchObject({ termsHash: h1.payload.termsHash, acceptOpId: accept.id, acceptedBy: { role: 'seller' } });
    expect({ ...invoice.agreement, changesAfter: [] }).toEqual({ ...sellerSaw.agreement, changesAfter: [] });
    expect(invoice.agreement?.changesAfter.map((change) => change.opId)).toEqual([edit.id]);
    expect(invoice.totals.gross).toBe('3.63');
    expect(stateOf(invoice, shipped)?.state).toBe('accepted');
    expect(stateOf(invoice, h2)).toMatchObject({ state: 'rejected', reason: unseenReason(h1, accept), author: { role: 'buyer' } });
    expect(invoice.rejected.map((entry) => entry.opId)).toEqual([h2.id]);
  }, 120_000);

  it("the mirror image: the buyer accepts the seller's offer; the seller's mobile re-proposes a cheaper quote it made unseen: the deal stands", async () => {
    const invoiceId = invoiceKeyOf(pods.buyer.podRoot, 'INV-AGREE-2');
    const devices = await pricedInvoice(invoiceId);
    const t1 = wall + 10_000;
    at(t1);
    const s1 = (await devices.sd.propose(invoiceId)).op as Op<'Propose'>;
    await devices.bd.sync(invoiceId);
    at(t1 + 2000);
    const accept = (await devices.bd.accept(invoiceId)).op;
    expect((await devices.bd.view(invoiceId)).status).toBe('agreed');

    at(t1 + 500);
    const quote = (await devices.sm.write(invoiceId, 'QuoteItem', { product: 'beans', unitPrice: '1.00', taxRate: '21' })).op;
    at(t1 + 600);
    const s2 = (await devices.sm.propose(invoiceId)).op as Op<'Propose'>;
    expect(s1.clock.wallMs < s2.clock.wallMs && s2.clock.wallMs < accept.clock.wallMs).toBe(true);

    at(t1 + 10_000);
    let invoice = await everyoneSynced(devices, invoiceId);
    expect(invoice.status).toBe('agreed');
    expect(invoice.agreement).toMatchObject({ termsHash: s1.payload.termsHash, acceptOpId: accept.id, acceptedBy: { role: 'buyer' } });
    expect(invoice.agreement?.changesAfter.map((change) => change.opId)).toEqual([quote.id]);
    expect(stateOf(invoice, s2)).toMatchObject({ state: 'rejected', reason: unseenReason(s1, accept), author: { role: 'seller' } });

    // The seller's mobile, now synced, ships and is paid on the agreed terms; the buyer confirms receipt.
    at(t1 + 11_000);
    await devices.sm.write(invoiceId, 'MarkShipped', {});
    at(t1 + 12_000);
    await devices.sm.write(invoiceId, 'MarkPaid', {});
    await devices.bd.sync(invoiceId);
    at(t1 + 13_000);
    await devices.bd.write(invoiceId, 'MarkReceived', {});
    invoice = await everyoneSynced(devices, invoiceId);
    expect(invoice.status).toBe('received and paid');
    expect(invoice.totals.gross).toBe('3.63');
    expect(invoice.rejected.map((entry) => entry.opId)).toEqual([s2.id]);
  }, 120_000);
});
