/**
 * A warm `fedinvoice list` with many invoices: one seller, 1,000 invoices across 20 customers (each customer a business
 * with its own pod on one in-memory Community Solid Server started in this process), 10 invoices changed since the
 * seller's device last listed (a customer wrote one op on each, announced in its change feed as its devices do).
 *
 *   list (change feeds)    what `list` does: list the invoice folders, Replica.refresh (one conditional listing per
 *                          followed feed, then a crawl of each invoice a feed names, on that pod), each invoice's
 *                          summary (kept by its last fold: only the changed ones are folded)
 *   baseline, same run     what `list` did before: one Replica.sync per invoice (two conditional listings each), fold
 *
 * Goal: at most 20 + 3 × changed requests and under 2 s. Requests are those of the device's fetch (the login's are
 * not counted: the same for both). Seconds are the wall time of the whole list in this process, server included.
 *
 * Data are generated cheaply: each customer writes its CreateInvoice and its feed entry with plain PUTs (the seller
 * has written nothing yet: its containers answer 404, one request each as any listing); each customer grants the
 * seller read on its whole `invoices/` folder with one ACL (what Replica does per invoice is not what is measured
 * here); the seller's device stores are filled directly (files, as the CLI's).
 *
 *   npx tsx bench/list.ts [--quick] [--json] [--invoices 1000] [--customers 20] [--changed 10]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { makeOp } from '../src/model/builder.ts';
import { ZERO_CLOCK } from '../src/model/clock.ts';
import { asWebId, type InvoiceId, type WebId } from '../src/model/ids.ts';
import { invoiceKeyOf } from '../src/model/invoice-key.ts';
import type { AnyOp, OpType, PayloadByType } from '../src/model/ops.ts';
import { setInvoiceAccess } from '../src/pod/acl.ts';
import { createClientCredentials } from '../src/pod/accounts.ts';
import { putImmutable } from '../src/pod/resources.ts';
import { startPodServer } from '../src/pod/server.ts';
import { loginDevice, type DeviceSession } from '../src/pod/session.ts';
import { opToTurtle } from '../src/rdf/codec.ts';
import { announce, dayOf, feedEntryOf, feedOf, openFeed } from '../src/sync/change-feed.ts';
import { FileDeviceStore } from '../src/sync/file-store.ts';
import { opsContainerOf } from '../src/sync/invoice-folder.ts';
import { Replica } from '../src/sync/replica.ts';
import { freePort } from '../test/support/pods.ts';
import { arg, figure, note, quick, report, type Figure } from './lib.ts';

const invoiceCount = Number(arg('--invoices') ?? (quick ? 100 : 1000));
const customerCount = Number(arg('--customers') ?? (quick ? 5 : 20));
const changedCount = Number(arg('--changed') ?? (quick ? 3 : 10));
const PASSWORD = 'bench-password-not-secret';

interface Business {
  readonly webId: WebId;
  readonly podRoot: string;
  readonly session: DeviceSession;
}

interface Generated {
  readonly invoiceId: InvoiceId;
  readonly customer: Business;
  readonly ops: Array<{ op: AnyOp; container: string }>;
}

/** Runs `work` on every item, `concurrency` at a time; an item whose work fails (a reset socket on a busy machine) is tried twice more. */
async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const attempt = async (item: T, left: number): Promise<unknown> => work(item).catch((error: unknown) => (left > 0 ? attempt(item, left - 1) : Promise.reject(error)));
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await attempt(items[next++]!, 2);
  }));
}

const opOf = <T extends OpType>(invoiceId: InvoiceId, type: T, payload: PayloadByType[T], deps: readonly AnyOp[], at: number): AnyOp =>
  makeOp(type, payload, { invoiceId, device: 'bench', heads: deps.map((d) => d.id), latestClock: deps.at(-1)?.clock ?? ZERO_CLOCK }, at) as AnyOp;

note(`starting one in-memory pod server with ${customerCount + 1} businesses…`);
const port = await freePort();
const accounts = ['seller', ...Array.from({ length: customerCount }, (_, i) => `customer${i + 1}`)].map((podName) => ({ email: `${podName}@example.test`, password: PASSWORD, podName }));
const server = await startPodServer({ port, storage: 'memory', seedAccounts: accounts });
const businesses: Business[] = [];
for (const account of accounts) {
  const webId = asWebId(`${server.baseUrl}${account.podName}/profile/card#me`);
  const { id, secret } = await createClientCredentials(server.baseUrl, account.email, account.password, `${account.podName}-bench`, webId);
  const session = await loginDevice({ clientId: id, clientSecret: secret, oidcIssuer: server.baseUrl, webId });
  businesses.push({ webId, podRoot: `${server.baseUrl}${account.podName}/`, session });
}
const [seller, ...customers] = businesses as [Business, ...Business[]];
const dataDir = await mkdtemp(join(tmpdir(), 'fedinvoice-bench-list-'));
const figures: Figure[] = [];
try {
  note(`writing ${invoiceCount} invoices (a CreateInvoice by the customer, announced in its feed for the seller)…`);
  let start = performance.now();
  for (const customer of customers) {
    await setInvoiceAccess(customer.session.fetch, `${customer.podRoot}invoices/`, customer.webId, [seller.webId]);
    await openFeed(customer.session.fetch, customer.podRoot, customer.webId, seller.webId);
  }
  await openFeed(seller.session.fetch, seller.podRoot, seller.webId, seller.webId);
  const at = Date.UTC(2026, 10, 29);
  const generated: Generated[] = Array.from({ length: invoiceCount }, (_, i) => {
    const customer = customers[i % customers.length]!;
    const invoiceId = invoiceKeyOf(customer.podRoot, `PO-${String(i + 1).padStart(4, '0')}`);
    const [buyerContainer, sellerContainer] = [opsContainerOf(customer.podRoot, invoiceId), opsContainerOf(seller.podRoot, invoiceId)];
    const create = opOf(invoiceId, 'CreateInvoice', {
      currency: 'EUR',
      buyer: { webId: customer.webId, container: buyerContainer, info: { name: `Customer ${i % customers.length}` } },
      seller: { webId: seller.webId, container: sellerContainer, info: { name: 'Seller' } },
    }, [], at + i);
    return { invoiceId, customer, ops: [{ op: create, container: buyerContainer }] };
  });
  await pool(generated, 8, async ({ invoiceId, customer, ops: [create] }) => {
    const createUrl = `${create!.container}${create!.op.id}`;
    await putImmutable(customer.session.fetch, createUrl, opToTurtle(create!.op));
    await announce(customer.session.fetch, customer.podRoot, invoiceId, createUrl, [seller.webId], { datedAt: Date.now() });
  });
  note(`  ${Math.round(performance.now() - start)} ms`);

  note('filling the seller device stores (one for each way of listing), as after a list that saw everything…');
  start = performance.now();
  const deviceOf = async (name: string) => {
    const store = new FileDeviceStore(join(dataDir, name));
    for (const { invoiceId, customer, ops } of generated) {
      const ownContainer = opsContainerOf(seller.podRoot, invoiceId);
      await store.saveInvoice({
        invoiceId,
        ownContainer,
        origin: opsContainerOf(customer.podRoot, invoiceId),
        seedContainers: [opsContainerOf(customer.podRoot, invoiceId)],
        readers: [customer.webId],
        feedReaders: [customer.webId, seller.webId].sort(),
        participantPods: [customer.podRoot, seller.podRoot].sort(),
      });
      await store.appendOps(invoiceId, ops.map(({ op, container }) => ({ op, container: container as typeof ownContainer })));
      const seen = (container: string, op: AnyOp) => ({ etag: null, seen: [`${container}${op.id}`], refused: [], lastSuccess: null, error: null });
      // The seller's own op container was crawled too (a device that joined an invoice has): still empty, and known
      // to be, so that a sync limited to the customer's pod does not crawl it as a container never seen.
      const crawledEmpty = { etag: null, seen: [], refused: [], lastSuccess: null, error: null };
      await store.saveContainerStates(invoiceId, { [ops[0]!.container]: seen(ops[0]!.container, ops[0]!.op), [ownContainer]: crawledEmpty });
    }
    // Every feed read up to now (the pods are local: this machine's clock is theirs), its entries of today seen.
    const now = Date.now();
    const seenByFeed: Record<string, string[]> = {};
    for (const { invoiceId, customer, ops } of generated) {
      const feed = feedOf(customer.podRoot, seller.webId);
      (seenByFeed[feed] ??= []).push(feedEntryOf(feed, invoiceId, `${ops[0]!.container}${ops[0]!.op.id}`, now));
    }
    await store.saveFeeds(Object.fromEntries(Object.entries(seenByFeed).map(([feed, seen]) => [feed, { at: now, days: { [dayOf(now)]: { etag: null, seen } } }])));
    return new Replica({ store, fetch: seller.session.fetch, identity: { webId: seller.webId, podRoot: seller.podRoot, device: 'desktop' } });
  };
  const viaFeeds = await deviceOf('feeds');
  const oneByOne = await deviceOf('one-by-one');
  note(`  ${Math.round(performance.now() - start)} ms`);

  /** What `fedinvoice list` does with change feeds; its requests and wall time. */
  const listWithFeeds = async () => {
    const [before, t] = [viaFeeds.requests, performance.now()];
    await viaFeeds.invoicesOnPod();
    const { synced, invoices } = await viaFeeds.refresh();
    for (const ref of invoices) if (!ref.summary) await viaFeeds.summary(ref.invoiceId);
    return { requests: viaFeeds.requests - before, ms: performance.now() - t, synced: synced.size };
  };
  /** What `fedinvoice list` did before: every invoice synced, one after the other. */
  const listOneByOne = async () => {
    const [before, t] = [oneByOne.requests, performance.now()];
    const { local } = await oneByOne.listInvoices();
    for (const ref of local) await oneByOne.sync(ref.invoiceId);
    return { requests: oneByOne.requests - before, ms: performance.now() - t, synced: local.length };
  };
  note('warming both devices (ETags of every listing, the feeds)…');
  await listWithFeeds();
  await listOneByOne();

  note(`${changedCount} customers each write a Comment on one invoice, announced in their feed…`);
  const changed = generated.filter((_, i) => i % Math.floor(invoiceCount / changedCount) === 0).slice(0, changedCount);
  for (const { invoiceId, customer, ops } of changed) {
    const op = opOf(invoiceId, 'Comment', { text: 'a question' }, ops.map((o) => o.op), Date.now());
    const url = `${ops[0]!.container}${op.id}`;
    await putImmutable(customer.session.fetch, url, opToTurtle(op));
    await announce(customer.session.fetch, customer.podRoot, invoiceId, url, [seller.webId], { datedAt: Date.now() });
  }

  const feeds = await listWithFeeds();
  const baseline = await listOneByOne();
  note(`change feeds: ${feeds.requests} requests, ${Math.round(feeds.ms)} ms, ${feeds.synced} invoices synced; ` +
    `one sync per invoice: ${baseline.requests} requests, ${Math.round(baseline.ms)} ms`);
  if (feeds.synced !== changedCount) throw new Error(`the feeds' list synced ${feeds.synced} invoices, not the ${changedCount} that changed`);
  const requestGoal = customerCount + 3 * changedCount;
  figures.push(
    figure(`warm list, ${invoiceCount} invoices, ${changedCount} changed: requests`, feeds.requests, 'requests', { name: 'one sync per invoice', value: baseline.requests },
      { text: `≤ ${requestGoal} (one per counterparty + 3 × changed)`, met: feeds.requests <= requestGoal }),
    figure(`warm list, ${invoiceCount} invoices, ${changedCount} changed: wall time`, feeds.ms / 1000, 's', { name: 'one sync per invoice', value: baseline.ms / 1000 },
      { text: '< 2 s', met: feeds.ms < 2000 }),
  );
} finally {
  await Promise.all(businesses.map((b) => b.session.logout()));
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
}
report(`fedinvoice list with many invoices (${invoiceCount} invoices, ${customerCount} customers, ${changedCount} changed)`, figures);
