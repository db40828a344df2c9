import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptanceOf, makeOp, proposalOf } from '../../src/model/builder.ts';
import { OpRefusedError } from '../../src/model/errors.ts';
import { asInvoiceId, type OpId } from '../../src/model/ids.ts';
import type { AnyOp } from '../../src/model/ops.ts';
import { putImmutable } from '../../src/pod/resources.ts';
import { opToTurtle } from '../../src/rdf/codec.ts';
import { Replica } from '../../src/sync/replica.ts';
import { MemoryDeviceStore } from '../../src/sync/store.ts';
import { startTestPods, type TestParty, type TestPods } from '../support/pods.ts';

// Two real Community Solid Servers (in memory), four devices, no shared server: a negotiation to "agreed".
let pods: TestPods;
const devices: Record<'bd' | 'bm' | 'sd' | 'sm', Replica> = {} as never;
let invoiceId = asInvoiceId('INV-POD-1');

function replicaOf(party: TestParty, side: 'buyer' | 'seller', device: 'desktop' | 'mobile'): Replica {
  return new Replica({
    store: new MemoryDeviceStore(),
    fetch: party.devices[device].fetch,
    identity: { webId: party.webId, podRoot: party.podRoot, device },
  });
}

const snapshot = async (replica: Replica) => {
  const { invoice } = await replica.sync(invoiceId);
  return JSON.stringify(invoice);
};

beforeAll(async () => {
  pods = await startTestPods();
  devices.bd = replicaOf(pods.buyer, 'buyer', 'desktop');
  devices.bm = replicaOf(pods.buyer, 'buyer', 'mobile');
  devices.sd = replicaOf(pods.seller, 'seller', 'desktop');
  devices.sm = replicaOf(pods.seller, 'seller', 'mobile');
});

afterAll(async () => {
  await pods?.stop();
});

describe('a buyer and a seller, two devices each, on two pods', () => {
  it('create and join: every device sees the invoice, and the seller got read access', async () => {
    invoiceId = (await devices.bd.createInvoice(invoiceId, {
      currency: 'EUR',
      counterparty: { webId: pods.seller.webId, podRoot: pods.seller.podRoot },
      ownInfo: { name: 'Michiel' },
      counterpartyInfo: { name: 'George' },
    })).op.invoiceId;
    const from = devices.bd.ownContainer(invoiceId);
    for (const device of [devices.bm, devices.sd, devices.sm]) {
      const joined = await device.joinInvoice(invoiceId, from);
      expect(joined.invoice.status).toBe('draft');
      expect(joined.invoice.seller?.webId).toBe(pods.seller.webId);
    }
  });

  it('negotiates to "agreed" and every device folds the same invoice', async () => {
    // Both buyer devices add one pencil without seeing each other: the cart's counter keeps both adds, 2 wanted.
    await devices.bd.write(invoiceId, 'AddToCart', { product: 'pencils', quantity: 1 });
    await devices.bm.write(invoiceId, 'AddToCart', { product: 'pencils', quantity: 1 });
    await devices.sm.sync(invoiceId);
    await devices.sm.write(invoiceId, 'QuoteItem', { product: 'pencils', unitPrice: '2.50', taxRate: '21' });
    await devices.sd.write(invoiceId, 'SetProductStock', { product: 'pencils', quantity: 10 });
    await devices.sd.write(invoiceId, 'ProposeDeliveryDate', { date: '2026-12-01' });
    await devices.bm.sync(invoiceId);
    await devices.bm.write(invoiceId, 'ChooseDeliveryAddress', { address: { streetAddress: 'Main St 1', postalCode: '1011', addressLocality: 'Amsterdam', addressCountry: 'NL' } });

    const seller = await devices.sd.sync(invoiceId);
    const proposal = await devices.sd.write(invoiceId, 'Propose', proposalOf(seller.invoice));
    const buyer = await devices.bm.sync(invoiceId);
    expect(buyer.invoice.status).toBe('seller proposes');
    await devices.bm.write(invoiceId, 'Accept', acceptanceOf(buyer.invoice, 'buyer'));

    const views = await Promise.all(Object.values(devices).map(snapshot));
    for (const view of views) expect(view).toBe(views[0]);
    const invoice = (await devices.sm.sync(invoiceId)).invoice;
    expect(invoice.status).toBe('agreed');
    expect(invoice.agreement?.termsHash).toBe((proposal.op as AnyOp & { type: 'Propose' }).payload.termsHash);
    expect(invoice.items).toEqual([{ productCode: 'pencils', desired: 2, available: 10, qty: 2, unitPrice: '2.5', taxRate: '21', bid: null, lineTotal: '5.00' }]);
    expect(invoice.totals).toEqual({ net: '5.00', tax: [{ category: 'S', rate: '21', base: '5.00', amount: '1.05' }], taxTotal: '1.05', gross: '6.05' });
    expect(invoice.rejected).toEqual([]);
  });

  it('an unchanged invoice costs one request per container, answered 304', async () => {
    await devices.sd.sync(invoiceId);
    const again = await devices.sd.sync(invoiceId);
    expect(again.requests).toBe(2);
    expect(again.containers.map((report) => report.outcome)).toEqual(['unchanged', 'unchanged']);
    expect(again.newOps).toBe(0);
  });

  it('refuses locally, writing nothing, what the device may not write', async () => {
    const before = (await devices.bm.view(invoiceId)).log.length;
    await expect(devices.bm.write(invoiceId, 'SetSellerInfo', { info: { name: 'Mr. Svarovsky Buyer' } })).rejects.toThrow(
      'the buyer may not write SetSellerInfo: SetSellerInfo may only be written by the seller',
    );
    await expect(devices.bm.write(invoiceId, 'MarkReceived', {})).rejects.toThrow(OpRefusedError);
    expect((await devices.bm.view(invoiceId)).log.length).toBe(before);
  });

  it('a seller-only op planted in the buyer container is rejected by every device, with its reason', async () => {
    const view = await devices.bd.view(invoiceId);
    const planted = makeOp('QuoteItem', { product: 'pencils', unitPrice: '0.01', taxRate: '0' }, { invoiceId, device: 'desktop', heads: view.heads, latestClock: view.latestClock }, Date.now());
    const container = devices.bd.ownContainer(invoiceId);
    expect(await putImmutable(pods.buyer.devices.desktop.fetch, `${container}${planted.id}`, opToTurtle(planted as AnyOp))).toBe('created');
    for (const device of [devices.sd, devices.bm]) {
      const { invoice } = await device.sync(invoiceId);
      const entry = invoice.rejected.find((rejected) => rejected.opId === planted.id);
      expect(entry?.reason).toBe('QuoteItem may only be written by the seller');
      expect(entry?.author?.role).toBe('buyer');
      expect(invoice.items[0]?.unitPrice).toBe('2.5');
    }
  });

  it('a resource whose content does not match its name is refused, and everything else still folds', async () => {
    const view = await devices.bd.view(invoiceId);
    const real = makeOp('Comment', { text: 'original' }, { invoiceId, device: 'desktop', heads: view.heads, latestClock: view.latestClock }, Date.now());
    const altered = { ...real, payload: { text: 'altered after signing' } } as AnyOp;
    const url = `${devices.bd.ownContainer(invoiceId)}${real.id}`;
    await putImmutable(pods.buyer.devices.desktop.fetch, url, opToTurtle(altered));
    const result = await devices.sm.sync(invoiceId);
    const refused = result.containers.flatMap((report) => report.refused);
    expect(refused).toHaveLength(1);
    expect(refused[0]?.url).toBe(url);
    expect(refused[0]?.reason).toMatch(/^its content hashes to [0-9a-f]{12}…, not to its name: it was altered after it was written$/);
    expect(result.invoice.comments.map((comment) => comment.text)).not.toContain('altered after signing');
    expect(result.invoice.status).toBe('agreed');
    // Refused once, never fetched again.
    const again = await devices.sm.sync(invoiceId);
    expect(again.requests).toBe(2);
    expect(again.invoice.log.some((entry) => entry.opId === (real.id as OpId))).toBe(false);
  });
});
