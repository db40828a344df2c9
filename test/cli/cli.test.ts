import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FoldedInvoice } from '../../src/model/invoice.ts';
import { cliKit } from '../support/cli-kit.ts';
import { startTestPods, type TestPods } from '../support/pods.ts';
import { feedDaysNow } from '../support/feed-days.ts';

// The CLI exactly as a person runs it (minus the process boundary), with profiles on disk and real pods.
let pods: TestPods;
let dataDir: string;
let kit: ReturnType<typeof cliKit>;

/** Every file and folder under `root` (itself included), with its permission bits. */
async function modesUnder(root: string): Promise<Array<{ path: string; file: boolean; mode: number }>> {
  const found: Array<{ path: string; file: boolean; mode: number }> = [];
  const visit = async (path: string) => {
    const info = await stat(path);
    found.push({ path, file: info.isFile(), mode: info.mode & 0o777 });
    if (info.isDirectory()) for (const name of (await readdir(path)).sort()) await visit(join(path, name));
  };
  await visit(root);
  return found;
}

/** The CLI as a person runs it over this file's data folder (test/support/cli-kit.ts: no secret is ever printed). */
const cli = (...argv: string[]) => kit.run(...argv);

beforeAll(async () => {
  pods = await startTestPods();
  dataDir = await mkdtemp(join(tmpdir(), 'fedinvoice-cli-'));
  kit = cliKit(dataDir);
  // One after the other: concurrent credential updates to one CSS account can lose one.
  await kit.profile(pods.buyer, 'buyer', 'desktop');
  await kit.profile(pods.buyer, 'buyer', 'mobile');
  await kit.profile(pods.seller, 'seller', 'desktop');
  await kit.profile(pods.seller, 'seller', 'mobile');
  await kit.profile(pods.seller, 'seller', 'warehouse-tablet');
  await kit.profile(pods.buyer, 'buyer', 'erp');
  await kit.profile(pods.stranger, 'customer', 'desktop');
});

afterAll(async () => {
  await pods?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('fedinvoice CLI', () => {
  it("composes seed 000's invoice from four device profiles", async () => {
    const created = await cli('create', '0001-03', '--profile', 'buyer-desktop', '--with', 'seller-desktop', '--name', 'Michiel', '--counterparty-name', 'George');
    expect(created.code).toBe(0);
    expect(created.out).toMatch(/^CreateInvoice [0-9a-f]{12}… written to http:\/\/localhost:\d+\/buyer\/invoices\/0001-03\.[0-9a-f]{32}\/ops\//);
    for (const profile of ['buyer-mobile', 'seller-desktop', 'seller-mobile']) {
      expect((await cli('join', '0001-03', '--profile', profile, '--with', 'buyer-desktop')).code).toBe(0);
    }
    expect((await cli('add-to-cart', '0001-03', 'beans', '520', '--profile', 'buyer-desktop')).code).toBe(0);
    expect((await cli('quote-item', '0001-03', 'beans', '0.05', '--profile', 'seller-mobile')).code).toBe(0);
    expect((await cli('set-product-stock', '0001-03', 'beans', '1000', '--profile', 'seller-desktop')).code).toBe(0);
    expect((await cli('set-seller-info', '0001-03', '--name', 'Mr. Svarovsky Mobile', '--profile', 'seller-mobile')).code).toBe(0);

    const denied = await cli('set-seller-info', '0001-03', '--name', 'Mr. Svarovsky Buyer', '--profile', 'buyer-mobile');
    expect(denied.code).toBe(1);
    expect(denied.err).toBe('fedinvoice: the buyer may not write SetSellerInfo: SetSellerInfo may only be written by the seller');

    const views: FoldedInvoice[] = [];
    for (const profile of ['buyer-desktop', 'buyer-mobile', 'seller-desktop', 'seller-mobile']) {
      const shown = await cli('show', '0001-03', '--json', '--profile', profile);
      expect(shown.code).toBe(0);
      views.push(JSON.parse(shown.out) as FoldedInvoice);
    }
    for (const view of views) expect(view).toEqual(views[0]);
    expect(views[0]!.items).toEqual([{ productCode: 'beans', desired: 520, available: 1000, qty: 520, unitPrice: '0.05', taxRate: '0', bid: null, lineTotal: '26.00' }]);
    expect(views[0]!.totals.gross).toBe('26.00');
    expect(views[0]!.seller?.info.name).toBe('Mr. Svarovsky Mobile');
    expect(views[0]!.buyer?.info.name).toBe('Michiel');

    const text = await cli('show', '0001-03', '--profile', 'seller-desktop');
    expect(text.out).toContain('Total €26.00');
    expect(text.out).toMatch(/beans\s+520\s+1000\s+520\s+€0\.05/);
  });

  it('proposes and accepts, naming exactly the terms hash', async () => {
    const proposed = await cli('propose', '0001-03', '--profile', 'seller-desktop', '--json');
    expect(proposed.code).toBe(0);
    const { op } = JSON.parse(proposed.out) as { op: { payload: { termsHash: string } } };
    const wrong = await cli('accept', '0001-03', '--terms', '00000000', '--profile', 'buyer-mobile');
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain(`the open proposal is for terms ${op.payload.termsHash}, not 00000000`);
    const accepted = await cli('accept', '0001-03', '--terms', op.payload.termsHash.slice(0, 10), '--profile', 'buyer-mobile');
    expect(accepted.code).toBe(0);
    const shown = JSON.parse((await cli('show', '0001-03', '--json', '--profile', 'seller-mobile')).out) as FoldedInvoice;
    expect(shown.status).toBe('agreed');
    expect(shown.agreement?.termsHash).toBe(op.payload.termsHash);
  });

  it('log, list and sync speak about every op and invoice; --verbose counts requests', async () => {
    const log = await cli('log', '0001-03', '--profile', 'buyer-desktop');
    expect(log.code).toBe(0);
    for (const type of ['CreateInvoice', 'AddToCart', 'QuoteItem', 'SetProductStock', 'SetSellerInfo', 'Propose', 'Accept']) expect(log.out).toContain(type);
    const list = await cli('list', '--profile', 'seller-desktop');
    expect(list.out).toMatch(/^0001-03\s+agreed\s+EUR 26\.00\s+Michiel ← Mr\. Svarovsky Mobile\s+\(you: seller\)$/m);
    await cli('sync', '0001-03', '--profile', 'buyer-desktop');
    const verbose = await cli('sync', '0001-03', '--profile', 'buyer-desktop', '--verbose');
    // A device that signs checks, per participant, its op container and its evidence container (each answered 304):
    // 2 requests per participant when nothing is new. The profiles' keys were read by the sync just before and stand
    // for 10 minutes (KEY_TTL_MS), so this sync reads no profile (it read one per participant, 6 requests, before).
    expect(verbose.err).toContain('4 HTTP request(s), 0 new op(s)');
    expect(verbose.err.match(/^ {2}unchanged \S+\/(ops|evidence)\/ \(\+0\)$/gm)).toHaveLength(4);
    // A short command asks the change feed on each participant's pod (304 when nothing changed) and crawls nothing.
    await cli('show', '0001-03', '--profile', 'buyer-desktop');
    const warmShow = await cli('show', '0001-03', '--profile', 'buyer-desktop', '--verbose');
    expect(warmShow.err).toBe(`${2 * feedDaysNow()} HTTP request(s), 0 new op(s)`);
    expect(warmShow.out).toContain('Michiel');
  });

  it('writes an evidence bundle that verify checks offline, saying what each key rests on; a pin the bundle does not meet fails', async () => {
    const file = join(dataDir, '0001-03.evidence');
    expect((await cli('evidence', '0001-03', '--out', file, '--profile', 'seller-desktop')).code).toBe(0);
    const verified = await cli('verify', file, '--profile', 'seller-desktop');
    expect(verified.code).toBe(0);
    expect(verified.out).toContain('keys relied on:');
    // The buyer's desktop declared its key on its first op, and the seller's signed ops built on it.
    expect(verified.out).toContain(`${pods.buyer.webId}  key `);
    expect(verified.out).toContain(`vouched for by the signed ops of ${pods.seller.webId} in the bundle`);
    const otherKey = 'z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK';
    const pinned = await cli('verify', file, '--trust', `${pods.buyer.webId}=${otherKey}`, '--profile', 'seller-desktop');
    expect(pinned.code).toBe(1);
    // The buyer's mobile accepted last: nobody built on its key's declaration, so only the header vouches for it.
    expect(pinned.err).toContain(`you pinned other keys for ${pods.buyer.webId} (--trust) and no other party's signed op in the bundle vouches for this one`);
    expect((await cli('verify', file, '--trust', 'not-a-pin', '--profile', 'seller-desktop')).err).toContain('--trust takes <webid>=<key>');
  });

  it('one profile, two roles: the seller of 0001-03 is the buyer of PO-77, and LOCAL DENY follows the invoice', async () => {
    const created = await cli('create', 'PO-77', '--as', 'buyer', '--profile', 'seller-desktop', '--with', 'customer-desktop', '--name', 'George', '--counterparty-name', 'Clara');
    expect(created.code).toBe(0);
    expect((await cli('join', 'PO-77', '--profile', 'customer-desktop', '--with', 'seller-desktop')).code).toBe(0);
    expect((await cli('add-to-cart', 'PO-77', 'paper', '10', '--profile', 'seller-desktop')).code).toBe(0);
    const denied = await cli('quote-item', 'PO-77', 'paper', '2', '--profile', 'seller-desktop');
    expect(denied.code).toBe(1);
    expect(denied.err).toBe('fedinvoice: the buyer may not write QuoteItem: QuoteItem may only be written by the seller');
    expect((await cli('quote-item', 'PO-77', 'paper', '2', '--profile', 'customer-desktop')).code).toBe(0);
    const buyerDenied = await cli('add-to-cart', '0001-03', 'paper', '1', '--profile', 'seller-desktop');
    expect(buyerDenied.err).toBe('fedinvoice: the seller may not write AddToCart: AddToCart may only be written by the buyer');

    const shown = JSON.parse((await cli('show', 'PO-77', '--json', '--profile', 'seller-desktop')).out) as FoldedInvoice;
    expect([shown.buyer?.webId, shown.seller?.webId, shown.totals.gross]).toEqual([pods.seller.webId, pods.stranger.webId, '20.00']);
    const list = await cli('list', '--profile', 'seller-desktop');
    expect(list.out).toMatch(/^0001-03\s+agreed\s+EUR 26\.00\s+Michiel ← Mr\. Svarovsky Mobile\s+\(you: seller\)$/m);
    expect(list.out).toMatch(/^PO-77\s+draft\s+EUR 20\.00\s+George ← Clara\s+\(you: buyer\)$/m);
  });

  it('a third device with its own label, on each side, joins and writes', async () => {
    for (const profile of ['seller-warehouse-tablet', 'buyer-erp']) {
      expect((await cli('join', '0001-03', '--profile', profile, '--with', 'buyer-desktop')).code).toBe(0);
      expect((await cli('comment', '0001-03', `hello from ${profile}`, '--profile', profile)).code).toBe(0);
    }
    const log = JSON.parse((await cli('log', '0001-03', '--json', '--profile', 'seller-mobile')).out) as FoldedInvoice['log'];
    const comments = log.filter((entry) => entry.type === 'Comment').map((entry) => [entry.device, entry.state]);
    expect(comments).toEqual(expect.arrayContaining([['warehouse-tablet', 'accepted'], ['erp', 'accepted']]));
  });

  it('a number two invoices share on a device is refused with both keys', async () => {
    expect((await cli('create', 'PO-77', '--as', 'seller', '--profile', 'buyer-desktop', '--with', 'seller-desktop', '--name', 'Michiel', '--counterparty-name', 'George')).code).toBe(0);
    expect((await cli('join', 'PO-77', '--profile', 'seller-mobile', '--with', 'buyer-desktop')).code).toBe(0);
    expect((await cli('join', 'PO-77', '--profile', 'seller-mobile', '--with', 'seller-desktop')).code).toBe(0);
    const ambiguous = await cli('show', 'PO-77', '--profile', 'seller-mobile');
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.err).toMatch(/PO-77 is ambiguous on this device[^]*PO-77\.[0-9a-f]{32}[^]*PO-77\.[0-9a-f]{32}/);
    const key = /(PO-77\.[0-9a-f]{32}) {2}\(created at [^)]*\/buyer\//.exec(ambiguous.err)![1]!;
    const shown = JSON.parse((await cli('show', key, '--json', '--profile', 'seller-mobile')).out) as FoldedInvoice;
    expect([shown.buyer?.webId, shown.seller?.webId]).toEqual([pods.seller.webId, pods.buyer.webId]);
  });

  it('fails with a one-line reason and a non-zero code on bad input', async () => {
    const usage = await cli('add-to-cart', '0001-03', '--profile', 'buyer-desktop');
    expect(usage.code).toBe(2);
    const negative = await cli('add-to-cart', '0001-03', 'beans', '-3', '--profile', 'buyer-desktop');
    expect(negative.code).toBe(1);
    expect(negative.err).toBe('fedinvoice: AddToCart was not written: quantity must be at least 1, got -3');
    const unknownProfile = await cli('show', '0001-03', '--profile', 'nobody');
    expect(unknownProfile.code).toBe(1);
    expect(unknownProfile.err).toMatch(/^fedinvoice: No device profile at .*nobody\.json; run `npm start` first/);
    const unknownInvoice = await cli('show', 'NOPE', '--profile', 'buyer-desktop');
    expect(unknownInvoice.err).toContain('invoice NOPE is not known on this device');
  });

  it('keeps what it writes private: every folder of its device stores 0700, every file 0600', async () => {
    // The profiles were written by this test, not by the CLI (`npm start` writes them; their modes are tested in
    // test/pod/local-pods.test.ts). What the CLI wrote itself is each profile's device store: ops, invoice
    // references, container states, the outbox.
    const written = await modesUnder(join(dataDir, 'devices'));
    expect(written.filter((entry) => entry.file).map((entry) => entry.path)).toEqual(expect.arrayContaining([expect.stringMatching(/buyer-desktop\/invoices\/0001-03\.[0-9a-f]{32}\/ops\.jsonl$/), expect.stringMatching(/seller-mobile\/invoices\/0001-03\.[0-9a-f]{32}\/ref\.json$/)]));
    const expected = written.map(({ path, file }) => `${path} ${file ? '600' : '700'}`);
    expect(written.map(({ path, mode }) => `${path} ${mode.toString(8)}`)).toEqual(expected);
  });
});
