/**
 * Propagation latency: from the moment one device sends an op's PUT to its pod until the viewer's page (in
 * Chromium, without a reload) shows it. Two in-memory pods, the viewer acting as the buyer's desktop, the
 * seller's phone writing comments.
 *
 *   npx tsx bench/propagation.ts            # 20 ops per mode
 *   npx tsx bench/propagation.ts --quick    # 5 ops per mode
 *   npx tsx bench/propagation.ts --json     # one JSON object per figure (bench/lib.ts's format)
 *   npx tsx bench/propagation.ts --poll-ms 1000
 *
 * Modes, measured in the same run: Solid Notifications (WebSocketChannel2023) and, as the baseline, the
 * polling fallback alone (conditional Replica.sync every --poll-ms, default 1000 ms). Between ops the bench waits
 * a random 0–1 s so that ops land at every phase of the polling timer. p99 of 20 samples is the largest one
 * (nearest rank). Ratios follow the benches' convention: baseline / value, above 1 is better (notifications
 * faster than polling). Needs /usr/bin/chromium. Not a test: timings depend on the machine.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { asInvoiceId } from '../src/model/ids.ts';
import { Replica } from '../src/sync/replica.ts';
import { MemoryDeviceStore } from '../src/sync/store.ts';
import { startViewer } from '../src/viewer/server.ts';
import { startTestPods, type TestParty } from '../test/support/pods.ts';
import { arg, figure, machine, note, quick, report } from './lib.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

const n = Number(arg('--n') ?? (quick ? 5 : 20));
const pollMs = Number(arg('--poll-ms') ?? 1000);

if (!existsSync(CHROMIUM)) {
  console.error(`bench/propagation.ts needs Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  process.exit(1);
}

let invoiceId = asInvoiceId('BENCH-PROPAGATION');
let lastPutAt = 0;

function replicaOf(party: TestParty, side: 'buyer' | 'seller', device: 'desktop' | 'mobile', onPut?: () => void): Replica {
  const inner = party.devices[device].fetch;
  const fetchFn = ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    if (init?.method === 'PUT') onPut?.();
    return inner(input, init);
  }) as typeof fetch;
  return new Replica({ store: new MemoryDeviceStore(), fetch: fetchFn, identity: { webId: party.webId, podRoot: party.podRoot, device } });
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

note(`Starting two in-memory pods and Chromium (${machine()})…`);
const pods = await startTestPods();
let browser: Browser | undefined;
try {
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const buyer = replicaOf(pods.buyer, 'buyer', 'desktop');
  const writer = replicaOf(pods.seller, 'seller', 'mobile', () => (lastPutAt = Date.now()));
  invoiceId = (await buyer.createInvoice(invoiceId, { currency: 'EUR', counterparty: { webId: pods.seller.webId, podRoot: pods.seller.podRoot }, ownInfo: { name: 'Buyer' }, counterpartyInfo: { name: 'Seller' } })).op.invoiceId;
  await writer.joinInvoice(invoiceId, buyer.ownContainer(invoiceId));

  /** Latencies (ms) of `n` comments written by the seller's phone, as seen by a viewer page with these options. */
  const measure = async (label: string, notifications: boolean): Promise<number[]> => {
    const viewer = await startViewer({ replica: buyer, port: 0, notifications, pollIntervalMs: pollMs });
    const page = await browser!.newPage();
    try {
      await page.goto(`${viewer.url}invoices/${invoiceId}`);
      if (notifications) await page.waitForFunction(() => document.querySelector('.syncline')?.textContent?.includes('Live: Solid Notifications'), null, { timeout: 20_000 });
      const samples: number[] = [];
      for (let i = 0; i < n; i++) {
        await sleep(Math.random() * 1000);
        const marker = `${label} op ${i} ${Math.random().toString(36).slice(2)}`;
        // In the page: the wall-clock time at which the comment appears (checked on every DOM mutation).
        // (A string, not a function: tsx's esbuild would add helper calls that do not exist in the page.)
        const shown = page.evaluate<number>(`new Promise((resolve) => {
          const marker = ${JSON.stringify(marker)};
          const check = () => {
            if (!document.querySelector('ol.comments')?.textContent?.includes(marker)) return;
            observer.disconnect();
            resolve(Date.now());
          };
          const observer = new MutationObserver(check);
          observer.observe(document.body, { childList: true, subtree: true, characterData: true });
          check();
        })`);
        await writer.write(invoiceId, 'Comment', { text: marker });
        const putAt = lastPutAt;
        const seenAt = await shown;
        samples.push(seenAt - putAt);
      }
      return samples;
    } finally {
      await page.close();
      await viewer.stop();
    }
  };

  const live = await measure('notifications', true);
  const polled = await measure('polling', false);
  const stats = (samples: number[]) => {
    const sorted = [...samples].sort((a, b) => a - b);
    return { median: percentile(sorted, 50), p99: percentile(sorted, 99), min: sorted[0]!, max: sorted[sorted.length - 1]! };
  };
  const a = stats(live);
  const b = stats(polled);
  const baseline = `polling every ${pollMs} ms`;
  report(`Propagation, PUT → page shows the op, ${n} ops per mode`, [
    figure('propagation median (Solid Notifications, WebSocketChannel2023)', a.median, 'ms', { name: `${baseline}, median`, value: b.median }),
    figure('propagation p99 (Solid Notifications)', a.p99, 'ms', { name: `${baseline}, p99`, value: b.p99 }),
  ]);
  note(`min / max: notifications ${a.min} / ${a.max} ms, polling ${b.min} / ${b.max} ms`);
} finally {
  await browser?.close();
  await pods.stop();
}
