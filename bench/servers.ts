/**
 * The viewer against a Solid server without notifications and without ETags (test/support/mini-pod.ts with
 * `etags: false`: it links no storage description, so discovery fails on every container): how often it tries
 * to subscribe again, how often it pushes a new page to the browser, and how many requests it sends, per second.
 * The baseline, measured in the same run, is the same viewer told not to use notifications at all (polling only):
 * a viewer that learns the server has none should cost no more than that.
 *
 *   npx tsx bench/servers.ts [--seconds 10] [--quick] [--json]
 */
import { asInvoiceId, asWebId } from '../src/model/ids.ts';
import { Replica } from '../src/sync/replica.ts';
import { MemoryDeviceStore } from '../src/sync/store.ts';
import { startViewer } from '../src/viewer/server.ts';
import { startMiniPod, type MiniPod } from '../test/support/mini-pod.ts';
import { arg, figure, note, quick, report } from './lib.ts';

const seconds = Number(arg('--seconds') ?? (quick ? 3 : 10));
const pollIntervalMs = 2000;

interface Rates {
  readonly discoveries: number;
  readonly renders: number;
  readonly requests: number;
}

const pod = await startMiniPod(0, { etags: false });
try {
  const replicaOf = (party: string) =>
    new Replica({
      store: new MemoryDeviceStore(),
      fetch,
      identity: { webId: asWebId(`${pod.baseUrl}${party}/profile/card#me`), podRoot: `${pod.baseUrl}${party}/`, device: 'desktop' },
    });
  const buyer = replicaOf('buyer');
  const seller = replicaOf('seller');
  const created = await buyer.createInvoice(asInvoiceId('INV-SERVERS-1'), {
    currency: 'EUR',
    counterparty: { webId: seller.identity.webId, podRoot: seller.identity.podRoot },
    ownInfo: { name: 'Buyer' },
    counterpartyInfo: { name: 'Seller' },
  });
  const invoiceId = created.op.invoiceId;
  await seller.joinInvoice(invoiceId, buyer.ownContainer(invoiceId));
  await seller.write(invoiceId, 'Comment', { text: 'hello' });

  const measure = async (notifications: boolean): Promise<Rates> => {
    const viewer = await startViewer({ replica: buyer, port: 0, notifications, pollIntervalMs });
    const events = new AbortController();
    try {
      await viewer.live(invoiceId);
      let renders = -1; // the first event is the page as it is, sent on connecting
      const response = await fetch(`${viewer.url}invoices/${encodeURIComponent(invoiceId)}/events`, { signal: events.signal });
      const reading = (async () => {
        const decoder = new TextDecoder();
        const reader = response.body!.getReader();
        for (let read = await reader.read(); !read.done; read = await reader.read()) renders += decoder.decode(read.value).split('event: invoice').length - 1;
      })().catch(() => undefined);
      const before = counts(pod);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      const after = counts(pod);
      events.abort();
      await reading;
      return { discoveries: (after.head - before.head) / seconds, renders: Math.max(0, renders) / seconds, requests: (after.all - before.all) / seconds };
    } finally {
      events.abort();
      await viewer.stop();
    }
  };

  note(`measuring ${seconds} s per mode…`);
  const polling = await measure(false);
  const subscribing = await measure(true);
  const baseline = (value: number) => ({ name: `polling only, every ${pollIntervalMs} ms`, value });
  report(`Viewer on a server without notifications and ETags, ${seconds} s each`, [
    figure('subscription attempts (discovery HEADs) per second', subscribing.discoveries, 'per s (lower is better)', null),
    figure('page re-renders pushed per second', subscribing.renders, 'per s (lower is better)', baseline(polling.renders)),
    figure('requests to the pod per second', subscribing.requests, 'per s (lower is better)', baseline(polling.requests)),
  ]);
} finally {
  await pod.stop();
}

function counts(miniPod: MiniPod): { head: number; all: number } {
  const handled = miniPod.handled;
  return { head: handled['HEAD'] ?? 0, all: Object.values(handled).reduce((sum, n) => sum + n, 0) };
}
