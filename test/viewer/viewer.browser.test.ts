/**
 * The viewer in a real browser (Debian's Chromium driven by playwright-core) over two real pods: the page shows
 * an op written by another device within 2 s without a reload, by Solid Notifications (polling cannot bring it
 * within that time here), a rejected op with its
 * reason, and a "stale since" banner when a pod stops. Screenshots go to test-output/ for a person to look at.
 *
 * Needs /usr/bin/chromium (`apt-get install -y chromium`): without it this file FAILS, it does not skip.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptanceOf, makeOp, proposalOf } from '../../src/model/builder.ts';
import { asInvoiceId } from '../../src/model/ids.ts';
import type { AnyOp } from '../../src/model/ops.ts';
import { putImmutable } from '../../src/pod/resources.ts';
import { opToTurtle } from '../../src/rdf/codec.ts';
import { Replica } from '../../src/sync/replica.ts';
import { MemoryDeviceStore } from '../../src/sync/store.ts';
import { startViewer, type Viewer } from '../../src/viewer/server.ts';
import { startTestPods, type TestParty, type TestPods } from '../support/pods.ts';
import { recordListeningServers, stopLikeAnOutage } from './outage.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const OUTPUT = resolve('test-output');
const HEARTBEAT_MS = 120_000;
/**
 * Why an op must show within a bound at all: without one, "it shows without a reload" is not something a test can
 * fail on. The bound is the viewer's promise (another device's op shows within 2 s), some 30× the median that
 * bench/propagation.ts measures, so missing it means a lost notification, not a slow machine.
 */
const SHOWS_WITHIN_MS = 2000;

let pods: TestPods;
let browser: Browser;
let viewer: Viewer;
let page: Page;
const devices: Record<'bd' | 'bm' | 'sd' | 'sm', Replica> = {} as never;
let invoiceId = asInvoiceId('INV-VIEW-1');
const HOSTILE = `<script>window.pwned=1</script><img src=x onerror="window.pwned=2"> & "quotes"`;

function replicaOf(party: TestParty, side: 'buyer' | 'seller', device: 'desktop' | 'mobile'): Replica {
  return new Replica({ store: new MemoryDeviceStore(), fetch: party.devices[device].fetch, identity: { webId: party.webId, podRoot: party.podRoot, device } });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`The viewer's browser test needs Chromium at ${CHROMIUM}, and it is missing: install it with \`apt-get install -y chromium\`.`);
  }
  recordListeningServers();
  const launching = chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  pods = await startTestPods();
  browser = await launching;
  devices.bd = replicaOf(pods.buyer, 'buyer', 'desktop');
  devices.bm = replicaOf(pods.buyer, 'buyer', 'mobile');
  devices.sd = replicaOf(pods.seller, 'seller', 'desktop');
  devices.sm = replicaOf(pods.seller, 'seller', 'mobile');

  // An invoice with a bit of everything, negotiated to "agreed", and one change after the agreement.
  invoiceId = (await devices.bd.createInvoice(invoiceId, {
    currency: 'EUR',
    counterparty: { webId: pods.seller.webId, podRoot: pods.seller.podRoot },
    ownInfo: { name: 'Michiel', vatId: 'NL001234567B01', address: 'Keizersgracht 1\n1015 CC Amsterdam' },
    counterpartyInfo: { name: 'George' },
  })).op.invoiceId;
  const from = devices.bd.ownContainer(invoiceId);
  for (const device of [devices.bm, devices.sd, devices.sm]) await device.joinInvoice(invoiceId, from);
  await devices.bd.write(invoiceId, 'AddToCart', { product: 'pencils', quantity: 2 });
  await devices.bm.write(invoiceId, 'AddToCart', { product: 'beans', quantity: 520 });
  await devices.sm.sync(invoiceId);
  await devices.sm.write(invoiceId, 'SetSellerInfo', { info: { name: 'George Svarovsky', email: 'george@example.test', vatId: 'CZ12345678' } });
  await devices.sm.write(invoiceId, 'QuoteItem', { product: 'pencils', unitPrice: '2.50', taxRate: '21' });
  await devices.sm.write(invoiceId, 'QuoteItem', { product: 'beans', unitPrice: '0.05', taxRate: '9' });
  await devices.sd.sync(invoiceId);
  await devices.sd.write(invoiceId, 'SetProductStock', { product: 'beans', quantity: 400 });
  await devices.sd.write(invoiceId, 'AddExtra', { key: 'shipping', description: 'Shipping', amount: '4.95', taxRate: '21' });
  await devices.sd.write(invoiceId, 'AddDiscount', { key: 'loyal', description: 'Loyal customer', percent: '5' });
  await devices.sd.write(invoiceId, 'ProposeDeliveryDate', { date: '2026-12-01' });
  await devices.sd.write(invoiceId, 'SetPaymentTerms', { terms: 'Bank transfer', dueDays: 30 });
  await devices.bm.sync(invoiceId);
  await devices.bm.write(invoiceId, 'BidItem', { product: 'pencils', unitPrice: '2.50', taxRate: '21' });
  await devices.bm.write(invoiceId, 'ChooseDeliveryAddress', { address: { streetAddress: 'Main St 1', postalCode: '1011 AB', addressLocality: 'Amsterdam', addressCountry: 'NL' } });
  await devices.bm.write(invoiceId, 'RequestPostponedDelivery', { date: '2026-12-08' });
  await devices.bm.write(invoiceId, 'Comment', { text: HOSTILE });
  const seller = await devices.sd.sync(invoiceId);
  await devices.sd.write(invoiceId, 'Propose', proposalOf(seller.invoice));
  const buyer = await devices.bm.sync(invoiceId);
  await devices.bm.write(invoiceId, 'Accept', acceptanceOf(buyer.invoice, 'buyer'));
  await devices.bd.sync(invoiceId);
  await devices.bd.write(invoiceId, 'EditQuantity', { product: 'pencils', quantity: 3 });

  // The viewer acts as the buyer's desktop. It polls every 500 ms while some channel is not open; while every
  // channel is open it only polls at the heartbeat, here far longer than any wait in this file, so what shows up
  // within a wait came by notification. (The heartbeat notices a pod that dies without closing its sockets; the
  // outage below closes them, as a pod that really goes away does.)
  viewer = await startViewer({ replica: devices.bd, port: 0, pollIntervalMs: 500, heartbeatMs: HEARTBEAT_MS });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await mkdir(OUTPUT, { recursive: true });
});

/** Waits until `locator` (or one of its matches) contains `text` (case-insensitive substring, as Playwright's hasText). */
async function showsText(locator: Locator, text: string, timeout = 5000): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor({ state: 'attached', timeout });
}

afterAll(async () => {
  await browser?.close();
  await viewer?.stop();
  await pods?.stop();
});

describe('the invoice viewer in a browser', () => {
  it('lists the invoices of the device and renders the invoice, escaping op content', async () => {
    await page.goto(viewer.url);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Invoices');
    await page.getByRole('link', { name: invoiceId }).click();
    await page.waitForURL(`**/invoices/${invoiceId}`);

    const live = page.locator('#live');
    expect(await page.locator('#status').textContent()).toBe('agreed');
    expect(await live.textContent()).toContain(HOSTILE);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    const text = (await live.innerText()).replace(/\s+/g, ' ');
    for (const expected of [
      'George Svarovsky',
      pods.seller.webId,
      'Michiel',
      'Agreed invoice',
      'Changes after the agreement',
      'EditQuantity',
      '€0.05',
      'no limit',
      'accepted',
      'Shipping',
      'Loyal customer',
      'VAT 21 %',
      'VAT 9 %',
      'open request',
      'Main St 1',
      'Bank transfer',
      'Due in 30 days',
    ]) {
      expect(text).toContain(expected);
    }
    const html = await page.content();
    expect(html).not.toMatch(/ws:\/\/|auth=|clientSecret|secret/i);
  });

  it('shows an op another device posts within 2 s, without a reload, by notification', async () => {
    // Wait until every op container has an open notification channel.
    await showsText(page.locator('.syncline'), 'Live: Solid Notifications', 20_000);
    await page.evaluate(() => ((window as unknown as { loadedOnce?: boolean }).loadedOnce = true));
    const live = await viewer.live(invoiceId);
    expect(live.snapshot.mode).toBe('notifications');
    const before = live.stats.notifications;
    const comment = `Shipped from the Prague warehouse ${Date.now()}`;
    // The modes the viewer was in until its invoice held the comment: polling would show here.
    const modesUntilShown = new Set<string>();
    let shown = false;
    const off = live.onSnapshot((snapshot) => {
      if (shown) return;
      modesUntilShown.add(snapshot.mode);
      shown = snapshot.invoice.comments.some((c) => c.text === comment);
    });
    const start = Date.now();
    await devices.sm.write(invoiceId, 'Comment', { text: comment });
    await showsText(page.locator('ol.comments'), comment, SHOWS_WITHIN_MS);
    const elapsed = Date.now() - start;
    off();
    expect(elapsed).toBeLessThan(SHOWS_WITHIN_MS);
    // It came through a Solid notification: one was counted, and no channel was down (no polling) until it showed.
    expect(live.stats.notifications).toBeGreaterThan(before);
    expect([...modesUntilShown]).toEqual(['notifications']);
    expect(await page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
    await page.screenshot({ path: join(OUTPUT, 'viewer-invoice.png'), fullPage: true });
  });

  it('shows a rejected op in the log with its reason', async () => {
    const view = await devices.bd.view(invoiceId);
    const planted = makeOp('QuoteItem', { product: 'pencils', unitPrice: '0.01', taxRate: '0' }, { invoiceId, device: 'desktop', heads: view.heads, latestClock: view.latestClock }, Date.now());
    expect(await putImmutable(pods.buyer.devices.desktop.fetch, `${devices.bd.ownContainer(invoiceId)}${planted.id}`, opToTurtle(planted as AnyOp))).toBe('created');
    const row = page.locator(`tr#op-${planted.id}`);
    await showsText(row, 'rejected', SHOWS_WITHIN_MS); // by notification too: no poll comes within the wait
    await showsText(row, 'QuoteItem may only be written by the seller');
    await showsText(row, 'QuoteItem');
  });

  it("shows a stale banner on the seller's side when the seller's pod stops, and keeps the last known state", async () => {
    // pods.seller.server.stop(), closing the connections it would keep serving until they close (see outage.ts).
    await stopLikeAnOutage(pods.seller.server);
    const banner = page.locator('section.party', { has: page.getByRole('heading', { name: 'Seller' }) }).locator('.banner.stale');
    await showsText(banner, "The seller's pod cannot be reached: stale since", 5000);
    expect(await page.locator('section.party', { has: page.getByRole('heading', { name: 'Buyer' }) }).locator('.banner.stale').count()).toBe(0);
    expect(await page.locator('#status').textContent()).toBe('agreed');
    await showsText(page.locator('ol.comments'), 'Shipped from the Prague warehouse');
    await page.screenshot({ path: join(OUTPUT, 'viewer-stale.png'), fullPage: true });
  });
});
