import { describe, expect, it } from 'vitest';
import { OpRefusedError } from '../../src/model/errors.ts';
import { fold } from '../../src/model/fold.ts';
import { makeOp } from '../../src/model/builder.ts';
import { asInvoiceId } from '../../src/model/ids.ts';
import type { AnyOp } from '../../src/model/ops.ts';
import { BUYER, SELLER, SimDevice, comparable, createPayload, syncAll } from '../support/sim.ts';

// Seed 000: four draft copies of invoice 0001-03 (buyer and seller, desktop and mobile).
describe('seed 000: four devices compose invoice 0001-03', () => {
  const invoiceId = asInvoiceId('0001-03');
  const buyerDesktop = new SimDevice('buyer', 'desktop', BUYER.container, invoiceId);
  const buyerMobile = new SimDevice('buyer', 'mobile', BUYER.container, invoiceId);
  const sellerDesktop = new SimDevice('seller', 'desktop', SELLER.container, invoiceId);
  const sellerMobile = new SimDevice('seller', 'mobile', SELLER.container, invoiceId);
  const devices = [buyerDesktop, buyerMobile, sellerDesktop, sellerMobile];
  const version = 1623679553837; // the seed's wall-clock version of both seller-info writes

  buyerDesktop.write('CreateInvoice', createPayload('EUR'), version - 10_000);
  syncAll(devices);
  buyerDesktop.write('AddToCart', { product: 'beans', quantity: 520 }, version - 3);
  sellerMobile.write('QuoteItem', { product: 'beans', unitPrice: '0.05', taxRate: '0' }, version - 2);
  sellerDesktop.write('SetProductStock', { product: 'beans', quantity: 1000 }, version - 1);
  const mobileInfo = sellerMobile.write('SetSellerInfo', { info: { name: 'Mr. Svarovsky Mobile' } }, version);
  const desktopInfo = sellerDesktop.write('SetSellerInfo', { info: { name: 'Mr. Svarovsky Desktop' } }, version);

  it('refuses the buyer setting seller info locally (LOCAL DENY), writing nothing', () => {
    const before = buyerMobile.all().length;
    expect(() => buyerMobile.write('SetSellerInfo', { info: { name: 'Mr. Svarovsky Buyer' } }, version)).toThrow(OpRefusedError);
    expect(() => buyerMobile.write('SetSellerInfo', { info: { name: 'Mr. Svarovsky Buyer' } }, version)).toThrow(
      'the buyer may not write SetSellerInfo: SetSellerInfo may only be written by the seller',
    );
    expect(buyerMobile.all().length).toBe(before);
  });

  it('every device folds the same invoice: 520 beans at 0.05 = 26.00', () => {
    syncAll(devices);
    const views = devices.map((device) => comparable(device.view()));
    for (const view of views) expect(view).toEqual(views[0]);
    const invoice = buyerDesktop.view();
    expect(invoice.invoiceId).toBe('0001-03');
    expect(invoice.buyer?.info).toEqual({ name: 'Michiel' });
    expect(invoice.items).toEqual([
      { productCode: 'beans', desired: 520, available: 1000, qty: 520, unitPrice: '0.05', taxRate: '0', bid: null, lineTotal: '26.00' },
    ]);
    expect(invoice.totals.gross).toBe('26.00');
    expect(invoice.totals.net).toBe('26.00');
    expect(invoice.rejected).toEqual([]);
  });

  it('the two concurrent seller-info writes resolve by clock, then highest op id (seed rule)', () => {
    expect(mobileInfo.clock).toEqual(desktopInfo.clock);
    const winner = mobileInfo.id > desktopInfo.id ? 'Mr. Svarovsky Mobile' : 'Mr. Svarovsky Desktop';
    for (const device of devices) expect(device.view().seller?.info.name).toBe(winner);
  });

  it('a SetSellerInfo planted in the buyer container is rejected by the fold with its reason', () => {
    const planted = makeOp('SetSellerInfo', { info: { name: 'Mr. Svarovsky Buyer' } }, { invoiceId, device: 'mobile', heads: buyerMobile.view().heads, latestClock: buyerMobile.view().latestClock }, version + 5);
    const invoice = fold([...buyerMobile.all(), { op: planted as AnyOp, container: BUYER.container }], { invoiceId });
    expect(invoice.rejected).toHaveLength(1);
    expect(invoice.rejected[0]?.opId).toBe(planted.id);
    expect(invoice.rejected[0]?.reason).toBe('SetSellerInfo may only be written by the seller');
    expect(invoice.rejected[0]?.author?.role).toBe('buyer');
    expect(invoice.seller?.info.name).not.toBe('Mr. Svarovsky Buyer');
  });
});
