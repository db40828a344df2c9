/**
 * Two customers of one seller pick the same invoice number. Each invoice lives in its own folder on every pod
 * (its key: the number and the hash of the creator's pod), so neither customer ever fetches an op of the other's
 * invoice, both keep reading the seller's ops for their own, and the seller's devices tell the two apart. Then a
 * counterparty tries on purpose to land in an existing invoice's folder of the seller, and is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeOp } from '../../src/model/builder.ts';
import { invoiceKeyOf, numberOfKey } from '../../src/model/invoice-key.ts';
import { asContainerUrl, asInvoiceId, type ContainerUrl, type InvoiceId } from '../../src/model/ids.ts';
import type { PayloadByType } from '../../src/model/ops.ts';
import { setInvoiceAccess } from '../../src/pod/acl.ts';
import { putImmutable } from '../../src/pod/resources.ts';
import { opToTurtle } from '../../src/rdf/codec.ts';
import { urlOf } from '../../src/pod/http-client.ts';
import { claimInvoiceFolder, invoiceFolderOf } from '../../src/sync/invoice-folder.ts';
import { opsContainerOf, Replica } from '../../src/sync/replica.ts';
import { MemoryDeviceStore } from '../../src/sync/store.ts';
import { startTestPods, type TestParty, type TestPods } from '../support/pods.ts';

let pods: TestPods;
/** Every URL each business's devices requested. */
const requested = { x: [] as string[], y: [] as string[] };

function deviceOf(party: TestParty, device: 'desktop' | 'mobile', log?: string[]): Replica {
  const inner = party.devices[device].fetch;
  const fetchFn = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    log?.push(urlOf(input));
    return inner(input, init);
  }) as typeof fetch;
  const identity = { webId: party.webId, podRoot: party.podRoot, device };
  return new Replica({ store: new MemoryDeviceStore(), fetch: fetchFn, identity });
}

let x: Replica; // customer X (the buyer's pod)
let y: Replica; // customer Y (the stranger's pod, on the same server as X)
let sellerDesktop: Replica;
let sellerMobile: Replica;
let keyX: InvoiceId;
let keyY: InvoiceId;

const info = (name: string) => ({ name });

/** Writes a CreateInvoice by hand into `party`'s folder `key`, readable by the seller: what a hostile client can do. */
async function plantCreateInvoice(party: TestParty, key: InvoiceId, sellerContainer: ContainerUrl): Promise<ContainerUrl> {
  const own = opsContainerOf(party.podRoot, key);
  const payload: PayloadByType['CreateInvoice'] = {
    currency: 'EUR',
    buyer: { webId: party.webId, container: own, info: info('Hostile') },
    seller: { webId: pods.seller.webId, container: sellerContainer, info: info('George') },
  };
  const op = makeOp('CreateInvoice', payload, { invoiceId: key, device: 'desktop', heads: [], latestClock: { wallMs: 0, counter: 0 } }, Date.now());
  await setInvoiceAccess(party.devices.desktop.fetch, invoiceFolderOf(party.podRoot, key), party.webId, [pods.seller.webId]);
  await putImmutable(party.devices.desktop.fetch, `${own}${op.id}`, opToTurtle(op));
  return own;
}

const status = async (party: TestParty, url: string) => (await party.devices.desktop.fetch(url)).status;

beforeAll(async () => {
  pods = await startTestPods();
  x = deviceOf(pods.buyer, 'desktop', requested.x);
  y = deviceOf(pods.stranger, 'desktop', requested.y);
  sellerDesktop = deviceOf(pods.seller, 'desktop');
  sellerMobile = deviceOf(pods.seller, 'mobile');
});

afterAll(async () => {
  await pods?.stop();
});

describe('two customers, one seller, one invoice number', () => {
  it('keeps the invoices apart: each customer reads only its own, and keeps reading it', async () => {
    const counterparty = { webId: pods.seller.webId, podRoot: pods.seller.podRoot };
    keyX = (await x.createInvoice('PO-1', { currency: 'EUR', counterparty, ownInfo: info('Xavier'), counterpartyInfo: info('George') })).op.invoiceId;
    await sellerDesktop.joinInvoice(keyX, x.ownContainer(keyX));
    await sellerMobile.joinInvoice(keyX, x.ownContainer(keyX));
    await x.write(keyX, 'AddToCart', { product: 'beans', quantity: 100 });
    await sellerMobile.sync(keyX);
    await sellerMobile.write(keyX, 'QuoteItem', { product: 'beans', unitPrice: '0.05', taxRate: '0' });

    keyY = (await y.createInvoice('PO-1', { currency: 'EUR', counterparty, ownInfo: info('Yvonne'), counterpartyInfo: info('George') })).op.invoiceId;
    expect(keyY).not.toBe(keyX);
    expect([numberOfKey(keyX), numberOfKey(keyY)]).toEqual(['PO-1', 'PO-1']);
    await sellerDesktop.joinInvoice(keyY, y.ownContainer(keyY));
    await y.write(keyY, 'AddToCart', { product: 'beans', quantity: 200 });
    await sellerDesktop.sync(keyY);
    await sellerDesktop.write(keyY, 'QuoteItem', { product: 'beans', unitPrice: '0.07', taxRate: '0' });

    const seenByX = await x.sync(keyX);
    const seenByY = await y.sync(keyY);
    expect(seenByX.containers.map((c) => c.error)).toEqual([null, null]);
    expect(seenByY.containers.map((c) => c.error)).toEqual([null, null]);
    expect(seenByX.invoice.totals.gross).toBe('5.00');
    expect(seenByY.invoice.totals.gross).toBe('14.00');
    expect(seenByX.invoice.log.filter((e) => e.type === 'QuoteItem').map((e) => e.state)).toEqual(['accepted']);
    expect(seenByY.invoice.log.filter((e) => e.type === 'QuoteItem').map((e) => e.state)).toEqual(['accepted']);

    const folderX = invoiceFolderOf(pods.seller.podRoot, keyX);
    const folderY = invoiceFolderOf(pods.seller.podRoot, keyY);
    expect(requested.x.some((url) => url.startsWith(folderX))).toBe(true);
    expect(requested.x.filter((url) => url.startsWith(folderY) || url.includes(keyY))).toEqual([]);
    expect(requested.y.some((url) => url.startsWith(folderY))).toBe(true);
    expect(requested.y.filter((url) => url.startsWith(folderX) || url.includes(keyX))).toEqual([]);
    // Granting Y read on its invoice changed nothing of who reads X's: WAC says so too.
    expect(await status(pods.stranger, `${folderX}ops/`)).toBe(403);
    expect(await status(pods.buyer, `${folderY}ops/`)).toBe(403);
    expect(await status(pods.buyer, `${folderX}ops/`)).toBe(200);
  });

  it("shows the two invoices apart on the seller's devices, and asks which one a bare number means", async () => {
    const [forX, forY] = [(await sellerDesktop.sync(keyX)).invoice, (await sellerDesktop.sync(keyY)).invoice];
    expect([forX.buyer?.info.name, forX.totals.gross]).toEqual(['Xavier', '5.00']);
    expect([forY.buyer?.info.name, forY.totals.gross]).toEqual(['Yvonne', '14.00']);
    expect(await sellerDesktop.sideOf(keyX)).toBe('seller');
    await expect(sellerDesktop.resolveInvoice('PO-1')).rejects.toThrow(new RegExp(`PO-1 is ambiguous[^]*${keyX}[^]*${keyY}|PO-1 is ambiguous[^]*${keyY}[^]*${keyX}`));
    expect(await sellerMobile.resolveInvoice('PO-1')).toBe(keyX);
    expect(await sellerDesktop.resolveInvoice(keyY)).toBe(keyY);
  });
});

describe('a counterparty aiming at an existing invoice of the seller', () => {
  it("refuses a key copied from another pod's invoice, and nobody's access changes", async () => {
    const copied = await plantCreateInvoice(pods.stranger, keyX, opsContainerOf(pods.seller.podRoot, keyX));
    const fresh = deviceOf(pods.seller, 'mobile');
    await expect(fresh.joinInvoice(keyX, copied)).rejects.toThrow(/named after the pod that created it/);
    expect(await status(pods.stranger, `${invoiceFolderOf(pods.seller.podRoot, keyX)}ops/`)).toBe(403);
    expect((await x.sync(keyX)).containers.map((c) => c.error)).toEqual([null, null]);
  });

  it("refuses a CreateInvoice that names another invoice's folder as the seller's container", async () => {
    const ownKey = invoiceKeyOf(pods.stranger.podRoot, 'PO-2');
    const from = await plantCreateInvoice(pods.stranger, ownKey, opsContainerOf(pods.seller.podRoot, keyX));
    await expect(sellerMobile.joinInvoice(ownKey, from)).rejects.toThrow(/names .*PO-1\.[0-9a-f]{32}\/ops\/ as your ops' container/);
    expect(await status(pods.stranger, `${invoiceFolderOf(pods.seller.podRoot, keyX)}ops/`)).toBe(403);
  });

  it('refuses to join an invoice whose folder on its own pod already holds another invoice, and says which', async () => {
    // Legacy keys (no hash) are the ones whose names a counterparty can pick: the folder's origin marker decides.
    const legacy = asInvoiceId('LEG-1');
    const earlier = asContainerUrl(`${pods.buyer.podRoot}invoices/LEG-1/ops/`);
    await claimInvoiceFolder(pods.seller.devices.desktop.fetch, pods.seller.podRoot, legacy, earlier);
    const from = await plantCreateInvoice(pods.stranger, legacy, opsContainerOf(pods.seller.podRoot, legacy));
    const error = await sellerDesktop.joinInvoice(legacy, from).catch((e: unknown) => e);
    expect(String(error)).toContain(`already holds another invoice (created at ${earlier})`);
    expect(await status(pods.stranger, `${invoiceFolderOf(pods.seller.podRoot, legacy)}`)).toBe(403);
    expect((await sellerDesktop.listLocalInvoices()).map((ref) => ref.invoiceId)).not.toContain(legacy);
  });

  it('refuses to create an invoice number this business already used on its pod', async () => {
    const other = deviceOf(pods.buyer, 'mobile');
    await expect(
      other.createInvoice('PO-1', { currency: 'EUR', counterparty: { webId: pods.seller.webId, podRoot: pods.seller.podRoot }, ownInfo: info('X'), counterpartyInfo: info('G') }),
    ).rejects.toThrow(/PO-1 already exists on your pod .*fedinvoice join PO-1/);
  });
});
