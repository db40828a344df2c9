import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fold } from '../../src/model/fold.ts';
import { asInvoiceId } from '../../src/model/ids.ts';
import type { AnyOp } from '../../src/model/ops.ts';
import { putImmutable } from '../../src/pod/resources.ts';
import { opToTurtle } from '../../src/rdf/codec.ts';
import { startTestPods, type TestPods } from '../support/pods.ts';
import { joinedReplica, opsIn, putPack, putSingles, seedNegotiation, type SeededInvoice } from './seed-pods.ts';

// Two real in-memory Community Solid Servers. A 300-op negotiation: single ops, one batch pack, one checkpoint
// per party. Readers that use checkpoints and readers that fetch every op must fold the same invoice.
let pods: TestPods;
let seeded: SeededInvoice;
let expected: string;

/** A fetch that counts requests by method, for the assertions on what a sync costs. */
function counting(inner: typeof fetch) {
  const counts = { GET: 0, PUT: 0, other: 0 };
  const fetchFn = ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const method = (init?.method ?? 'GET').toUpperCase();
    if (method === 'GET' || method === 'PUT') counts[method]++;
    else counts.other++;
    return inner(input, init);
  }) as typeof fetch;
  return { fetchFn, counts };
}

beforeAll(async () => {
  pods = await startTestPods();
  seeded = await seedNegotiation(pods, asInvoiceId('INV-PACKS'), 300, 11);
  const buyerOps = opsIn(seeded, seeded.buyerContainer);
  const sellerOps = opsIn(seeded, seeded.sellerContainer);
  // The buyer's last 40 ops went up as one batch pack; everything else as single ops.
  await putSingles(pods.buyer.devices.desktop.fetch, seeded.buyerContainer, buyerOps.slice(0, -40));
  await putPack(pods.buyer.devices.desktop.fetch, seeded.buyerContainer, 'pack', buyerOps.slice(-40));
  await putSingles(pods.seller.devices.desktop.fetch, seeded.sellerContainer, sellerOps);
  // Checkpoints of the single ops (the seller's covers all but the last 10).
  await putPack(pods.buyer.devices.desktop.fetch, seeded.buyerContainer, 'checkpoint', buyerOps.slice(0, -40));
  await putPack(pods.seller.devices.desktop.fetch, seeded.sellerContainer, 'checkpoint', sellerOps.slice(0, -10));
  expected = JSON.stringify(fold(seeded.ops, { invoiceId: seeded.invoiceId, origin: seeded.buyerContainer }));
}, 180_000);

afterAll(async () => {
  await pods?.stop();
});

describe('packs and checkpoints on real pods', () => {
  it('a new device reading checkpoints folds exactly the invoice of one fetching every op, in a few requests', async () => {
    const viaCheckpoints = counting(pods.seller.devices.mobile.fetch);
    const withCheckpoints = await joinedReplica(pods.seller, 'seller', 'mobile', seeded, { fetch: viaCheckpoints.fetchFn });
    const everyOp = await joinedReplica(pods.buyer, 'buyer', 'mobile', seeded, { useCheckpoints: false });

    const a = await withCheckpoints.sync(seeded.invoiceId);
    const b = await everyOp.sync(seeded.invoiceId);
    expect(JSON.stringify(a.invoice)).toBe(expected);
    expect(JSON.stringify(b.invoice)).toBe(expected);
    expect(a.invoice.status).toBe('received and paid');
    expect(a.newOps).toBe(seeded.ops.length);

    // 2 listings + 2 checkpoints + 1 pack + the seller's 10 ops after its checkpoint.
    expect(viaCheckpoints.counts).toEqual({ GET: 15, PUT: 0, other: 0 });
    expect(a.requests).toBe(15);
    expect(b.requests).toBe(2 + 1 + (seeded.ops.length - 40));
    const reports = Object.fromEntries(a.containers.map((r) => [r.container, r]));
    const sellerOps = opsIn(seeded, seeded.sellerContainer).length;
    expect(reports[seeded.sellerContainer]).toMatchObject({ checkpoints: 1, fromCheckpoints: sellerOps - 10, packs: 0 });
    expect(reports[seeded.buyerContainer]).toMatchObject({ checkpoints: 1, packs: 1 });
  });

  it('incremental: nothing new costs one 304 per pod; k new ops cost the listings and k GETs, never a known op again', async () => {
    const counted = counting(pods.seller.devices.desktop.fetch);
    const device = await joinedReplica(pods.seller, 'seller', 'desktop', seeded, { fetch: counted.fetchFn });
    await device.sync(seeded.invoiceId);
    const idle = await device.sync(seeded.invoiceId);
    expect(idle.requests).toBe(2);
    expect(idle.containers.map((r) => r.outcome)).toEqual(['unchanged', 'unchanged']);

    // The buyer writes 5 more ops, and (as a device of the buyer would, periodically) a new checkpoint.
    const view = fold(seeded.ops, { invoiceId: seeded.invoiceId, origin: seeded.buyerContainer });
    const buyer = await joinedReplica(pods.buyer, 'buyer', 'desktop', seeded);
    await buyer.sync(seeded.invoiceId);
    const more: AnyOp[] = [];
    for (let i = 0; i < 5; i++) more.push((await buyer.write(seeded.invoiceId, 'Comment', { text: `after agreement ${i}` })).op);
    expect(view.status).toBe('received and paid');
    await buyer.sync(seeded.invoiceId); // a checkpoint holds the single ops the device has seen listed
    const checkpoint = await buyer.writeCheckpoint(seeded.invoiceId);
    expect(checkpoint?.outcome).toBe('created');

    const before = { ...counted.counts };
    const next = await device.sync(seeded.invoiceId);
    expect(next.newOps).toBe(5);
    expect(next.requests).toBe(1 + 1 + 5); // seller's listing (304), buyer's listing, 5 GETs; the checkpoint is not read
    expect(counted.counts.GET - before.GET).toBe(7);
    expect(next.invoice.comments.map((c) => c.text).slice(-5)).toEqual(more.map((op) => (op as AnyOp & { type: 'Comment' }).payload.text));
    const again = await device.sync(seeded.invoiceId);
    expect(again.requests).toBe(2);
  });

  it('a batch of 50 ops goes up in one request to the op container (and one entry per change feed), and other devices read it as one pack', async () => {
    const counted = counting(pods.buyer.devices.mobile.fetch);
    const writer = await joinedReplica(pods.buyer, 'buyer', 'mobile', seeded, { fetch: counted.fetchFn });
    await writer.sync(seeded.invoiceId);
    const before = { ...counted.counts };
    const batch = await writer.writeBatch(
      seeded.invoiceId,
      Array.from({ length: 50 }, (_, i) => ({ type: 'Comment' as const, payload: { text: `imported line ${i}` } })),
    );
    expect(batch.outbox).toEqual({ pushed: 50, queued: 0, error: null });
    // The pack, then its entry in the seller's change feed and in the buyer's own (change-feed.ts): 3, whatever the batch's size.
    expect(counted.counts.PUT - before.PUT).toBe(3);
    expect(counted.counts.GET - before.GET).toBe(0);

    const reader = await joinedReplica(pods.seller, 'seller', 'desktop', seeded);
    await reader.sync(seeded.invoiceId);
    const writerView = await writer.sync(seeded.invoiceId);
    const readerView = await reader.sync(seeded.invoiceId);
    expect(JSON.stringify(readerView.invoice)).toBe(JSON.stringify(writerView.invoice));
    expect(readerView.invoice.comments.filter((c) => c.text.startsWith('imported line'))).toHaveLength(50);
    // The writer does not read back the pack it wrote.
    expect(writerView.containers.every((r) => (r.packs ?? 0) === 0)).toBe(true);
  });

  it('a batch the fold would reject is not written at all', async () => {
    const writer = await joinedReplica(pods.buyer, 'buyer', 'mobile', seeded);
    await writer.sync(seeded.invoiceId);
    await expect(writer.writeBatch(seeded.invoiceId, [{ type: 'Comment', payload: { text: 'ok' } }, { type: 'QuoteItem', payload: { product: 'p001', unitPrice: '1', taxRate: '0' } }])).rejects.toThrow(
      'the buyer may not write QuoteItem',
    );
  });

  it('a misbehaving party (an altered single op next to a valid copy in a checkpoint) still leaves every reader with the same invoice', async () => {
    // A fresh invoice on the same pods: 40 ops, the seller's op X altered in place, its valid copy in a checkpoint.
    const small = await seedNegotiation(pods, asInvoiceId('INV-PACKS-BAD'), 60, 12);
    const buyerOps = opsIn(small, small.buyerContainer);
    const sellerOps = opsIn(small, small.sellerContainer);
    const victim = sellerOps.slice(0, -1).find((op) => op.type === 'Comment' || op.type === 'AddProductStock')!;
    await putSingles(pods.buyer.devices.desktop.fetch, small.buyerContainer, buyerOps);
    await putSingles(pods.seller.devices.desktop.fetch, small.sellerContainer, sellerOps.filter((op) => op !== victim));
    const altered = { ...victim, device: 'someone-else' } as AnyOp;
    await putImmutable(pods.seller.devices.desktop.fetch, `${small.sellerContainer}${victim.id}`, opToTurtle(altered));
    await putPack(pods.seller.devices.desktop.fetch, small.sellerContainer, 'checkpoint', sellerOps.slice(0, -1));

    const views = [];
    for (const useCheckpoints of [true, false]) {
      const replica = await joinedReplica(pods.buyer, 'buyer', 'desktop', small, { useCheckpoints });
      const result = await replica.sync(small.invoiceId);
      // With checkpoints the altered resource is never fetched (its op is in the checkpoint); without, it is
      // refused, and then the checkpoint is read for a valid copy.
      expect(result.containers.flatMap((r) => r.refused).map((r) => r.url)).toEqual(useCheckpoints ? [] : [`${small.sellerContainer}${victim.id}`]);
      expect(result.invoice.log.find((entry) => entry.opId === victim.id)?.device).toBe(victim.device);
      views.push(JSON.stringify(result.invoice));
    }
    expect(views[0]).toBe(views[1]);
  });
});
