import { makeOp } from '../model/builder.ts';
import { FedinvoiceError } from '../model/errors.ts';
import { numberOfKey } from '../model/invoice-key.ts';
import { localPodPorts, startLocalPods, type LocalPods } from '../pod/local-pods.ts';
import { dataDirOf, profilePath, readDeviceProfile } from '../pod/profile.ts';
import { openDevice, type OpenDevice } from '../sync/device.ts';
import { opsContainerOf } from '../sync/replica.ts';
import type { InvoiceId } from '../model/ids.ts';
import { DEMO_BEANS_QUOTE, DEMO_BUYER_INFO, DEMO_BUYER_REFERENCE, DEMO_INVOICE_DETAILS, DEMO_PAYMENT_TERMS, DEMO_SELLER_INFO } from './demo-legal.ts';
import { formatInvoice } from './format.ts';

/**
 * `npm run demo`: the README's demo scenario on real pods. Four devices compose invoice 0001-03: the buyer asks for
 * 520 beans, the seller quotes 0.05 and stocks 1000, both seller devices set the seller's name at the same
 * instant (a concurrent write settled by the model's rule), and the buyer's attempt to set seller info is refused.
 * With `--agree`, both businesses then give their legal data, the seller proposes and the buyer accepts, so that
 * `fedinvoice export 0001-03 --format ubl --profile seller-desktop` prints a valid e-invoice.
 */
const agreeToo = process.argv.slice(2).includes('--agree');
const invoiceNumber = '0001-03';
const dataDir = dataDirOf(undefined, process.env);
const SELLER_NAMES_FROM = 1623679553837; // the earliest wall-clock instant the two seller devices write their names at
// The demo's devices read this clock instead of the wall clock: the same ops, with the same ids, on every machine,
// so the two concurrent seller-name writes (same clock) resolve the same way everywhere. The instant is chosen so that
// the mobile write has the higher op id and the seller is "Mr. Svarovsky Mobile", as the README's demo shows: the rule
// is the model's, only the schedule is fixed.
let demoTime = SELLER_NAMES_FROM - 60_001;
const demoClock = () => demoTime;

async function podsRunning(): Promise<boolean> {
  const { ports } = await localPodPorts(dataDir);
  try {
    await Promise.all([ports.buyer, ports.seller].map((port) => fetch(`http://localhost:${port}/`, { method: 'HEAD' })));
    return true;
  } catch {
    return false;
  }
}

let startedPods: LocalPods | undefined;
if (!(await podsRunning())) {
  console.log('The pods are not running: starting them for the demo (npm start keeps them running).');
  startedPods = await startLocalPods({ dataDir });
}

const names = ['buyer-desktop', 'buyer-mobile', 'seller-desktop', 'seller-mobile'] as const;
const devices: Record<string, OpenDevice> = {};
try {
  for (const name of names) devices[name] = await openDevice(dataDir, name, undefined, demoClock);
  const buyerDesktop = devices['buyer-desktop']!.replica;
  // The invoice's key: its number and the hash of the buyer's pod, the folder its ops live in on both pods.
  const invoiceId = buyerDesktop.keyForNumber(invoiceNumber);
  const step = (who: string, what: string) => {
    demoTime += 1000;
    console.log(`[${who}] ${what}`);
  };

  if ((await buyerDesktop.listInvoices()).local.some((ref) => ref.invoiceId === invoiceId)) {
    console.log(`Invoice ${numberOfKey(invoiceId)} was composed by an earlier demo run; showing it as every device sees it now.\n`);
  } else {
    const seller = await readDeviceProfile(profilePath(dataDir, 'seller-desktop'));
    step('buyer-desktop', `create ${invoiceNumber} --as buyer (buyer Michiel, seller George)`);
    await buyerDesktop.createInvoice(invoiceId, {
      currency: 'EUR',
      counterparty: { webId: seller.webId as never, podRoot: seller.podRoot },
      ownInfo: { name: 'Michiel' },
      counterpartyInfo: { name: 'George' },
    });
    const from = buyerDesktop.ownContainer(invoiceId);
    for (const name of ['buyer-mobile', 'seller-desktop', 'seller-mobile'] as const) {
      step(name, `join ${invoiceNumber} from ${from}`);
      await devices[name]!.replica.joinInvoice(invoiceId, from);
    }

    step('buyer-desktop', 'add-to-cart beans 520');
    await buyerDesktop.write(invoiceId, 'AddToCart', { product: 'beans', quantity: 520 });
    step('seller-mobile', 'quote-item beans 0.05');
    await devices['seller-mobile']!.replica.write(invoiceId, 'QuoteItem', { product: 'beans', unitPrice: '0.05', taxRate: '0' });
    step('seller-desktop', 'set-product-stock beans 1000');
    await devices['seller-desktop']!.replica.write(invoiceId, 'SetProductStock', { product: 'beans', quantity: 1000 });

    // Both seller devices sync, then write their seller name at the same instant without seeing each other.
    await devices['seller-mobile']!.replica.sync(invoiceId);
    await devices['seller-desktop']!.replica.sync(invoiceId);
    // Op ids hash the invoice's key, which holds a hash of the buyer's pod: the instant both devices write at is
    // the first from SELLER_NAMES_FROM at which the mobile write has the higher op id (the README's outcome).
    const idAt = async (name: 'seller-mobile' | 'seller-desktop', sellerName: string, at: number) => {
      const view = await devices[name]!.replica.writerView(invoiceId);
      const device = devices[name]!.profile.device;
      return makeOp('SetSellerInfo', { info: { name: sellerName } }, { invoiceId, device, heads: view.heads, latestClock: view.latestClock }, at).id;
    };
    let instant = SELLER_NAMES_FROM;
    while ((await idAt('seller-mobile', 'Mr. Svarovsky Mobile', instant)) < (await idAt('seller-desktop', 'Mr. Svarovsky Desktop', instant))) instant++;
    const sameInstant = async (name: 'seller-mobile' | 'seller-desktop', sellerName: string) => {
      console.log(`[${name}] set-seller-info --name "${sellerName}" (concurrently with the other seller device)`);
      demoTime = instant;
      return (await devices[name]!.replica.write(invoiceId, 'SetSellerInfo', { info: { name: sellerName } })).op;
    };
    const mobile = await sameInstant('seller-mobile', 'Mr. Svarovsky Mobile');
    const desktop = await sameInstant('seller-desktop', 'Mr. Svarovsky Desktop');
    const tie = mobile.clock.wallMs === desktop.clock.wallMs && mobile.clock.counter === desktop.clock.counter;
    console.log(
      tie
        ? `  both writes carry the same clock; the higher op id wins: ${mobile.id > desktop.id ? 'mobile' : 'desktop'} (${(mobile.id > desktop.id ? mobile : desktop).id.slice(0, 12)}…)`
        : '  the writes carry different clocks; the later one wins',
    );

    step('buyer-mobile', 'set-seller-info --name "Mr. Svarovsky Buyer"');
    try {
      await devices['buyer-mobile']!.replica.write(invoiceId, 'SetSellerInfo', { info: { name: 'Mr. Svarovsky Buyer' } });
      throw new Error('the buyer was able to set seller info');
    } catch (error) {
      if (!(error instanceof FedinvoiceError)) throw error;
      console.log(`  LOCAL DENY: ${error.message}`);
    }
  }

  if (agreeToo) await agreeOnLegalTerms(invoiceId, step);

  console.log('');
  const rendered: string[] = [];
  for (const name of names) {
    const result = await devices[name]!.replica.sync(invoiceId);
    const text = formatInvoice(result.invoice);
    rendered.push(JSON.stringify({ ...result.invoice, log: undefined }));
    console.log(`── ${name} (${result.requests} requests) ──\n${text}\n`);
  }
  const agree = rendered.every((view) => view === rendered[0]);
  console.log(agree ? 'All four devices fold the same invoice.' : 'The devices DISAGREE: this is a bug, please report it.');
  console.log(`Op containers: ${opsContainerOf(devices['buyer-desktop']!.profile.podRoot, invoiceId)} and ${opsContainerOf(devices['seller-desktop']!.profile.podRoot, invoiceId)}`);
  if (!agree) process.exitCode = 1;
  if (agreeToo) console.log(`The e-invoice: fedinvoice export ${invoiceNumber} --format ubl --profile seller-desktop`);
} finally {
  for (const device of Object.values(devices)) await device.close();
  await startedPods?.stop();
}

/** Both businesses give their legal data for an e-invoice; the seller proposes and the buyer accepts (once). */
async function agreeOnLegalTerms(invoiceId: InvoiceId, step: (who: string, what: string) => void): Promise<void> {
  const replica = (name: string) => devices[name]!.replica;
  const synced = async (name: string) => (await replica(name).sync(invoiceId)).invoice;
  if ((await synced('seller-desktop')).agreement) {
    console.log(`Invoice ${invoiceNumber} is already agreed.`);
    return;
  }
  step('seller-desktop', 'set-seller-info (legal name, address, VAT and KvK numbers, Peppol endpoint)');
  await replica('seller-desktop').write(invoiceId, 'SetSellerInfo', DEMO_SELLER_INFO);
  step('seller-desktop', `set-invoice-details ${DEMO_INVOICE_DETAILS.number} ${DEMO_INVOICE_DETAILS.issueDate}`);
  await replica('seller-desktop').write(invoiceId, 'SetInvoiceDetails', DEMO_INVOICE_DETAILS);
  step('seller-desktop', `set-payment-terms "${DEMO_PAYMENT_TERMS.terms}" --due-days ${DEMO_PAYMENT_TERMS.dueDays} --iban ${DEMO_PAYMENT_TERMS.iban}`);
  await replica('seller-desktop').write(invoiceId, 'SetPaymentTerms', DEMO_PAYMENT_TERMS);
  step('seller-mobile', `quote-item beans 0.05 --name "${DEMO_BEANS_QUOTE.name}" --category Z`);
  await replica('seller-mobile').write(invoiceId, 'QuoteItem', DEMO_BEANS_QUOTE);
  step('buyer-desktop', 'set-buyer-info (legal name, address, VAT and KvK numbers, Peppol endpoint)');
  await replica('buyer-desktop').write(invoiceId, 'SetBuyerInfo', DEMO_BUYER_INFO);
  step('buyer-desktop', `set-buyer-reference ${DEMO_BUYER_REFERENCE.reference} --order ${DEMO_BUYER_REFERENCE.orderReference}`);
  await replica('buyer-desktop').write(invoiceId, 'SetBuyerReference', DEMO_BUYER_REFERENCE);
  const gaps = (await synced('seller-desktop')).eInvoiceGaps;
  if (gaps.seller.length + gaps.buyer.length > 0) throw new FedinvoiceError(`the demo's legal data is incomplete: ${[...gaps.seller, ...gaps.buyer].join('; ')}`);
  step('seller-desktop', 'propose');
  await replica('seller-desktop').propose(invoiceId);
  await synced('buyer-desktop');
  step('buyer-desktop', 'accept');
  await replica('buyer-desktop').accept(invoiceId);
}
