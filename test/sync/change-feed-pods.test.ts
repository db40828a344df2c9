import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeOp } from '../../src/model/builder.ts';
import type { InvoiceId } from '../../src/model/ids.ts';
import type { AnyOp } from '../../src/model/ops.ts';
import { methodOf, urlOf } from '../../src/pod/http-client.ts';
import { HttpError } from '../../src/pod/http-error.ts';
import { listContainer, putImmutable, send } from '../../src/pod/resources.ts';
import { opToTurtle } from '../../src/rdf/codec.ts';
import { announce, dayContainerOf, dayOf, feedOf } from '../../src/sync/change-feed.ts';
import { PENDING_ENTRY_MS } from '../../src/sync/feed-read.ts';
import { Replica } from '../../src/sync/replica.ts';
import { MemoryDeviceStore } from '../../src/sync/store.ts';
import { startViewer } from '../../src/viewer/server.ts';
import { feedDaysNow } from '../support/feed-days.ts';
import { startTestPods, type TestParty, type TestPods } from '../support/pods.ts';

// One seller with two customers (the buyer, and "stranger" as a second customer on the buyer's server), on real pods:
// `refresh` costs one request per pod followed plus what changed, and stays correct without ETags or without feeds.
let pods: TestPods;
const invoices: InvoiceId[] = [];
let seller: Replica;
let sellerMobile: Replica;
let buyer: Replica;
let customer: Replica;

const replicaOf = (party: TestParty, device: 'desktop' | 'mobile', fetchFn: typeof fetch = party.devices[device].fetch) =>
  new Replica({ store: new MemoryDeviceStore(), fetch: fetchFn, identity: { webId: party.webId, podRoot: party.podRoot, device } });

/** The device's fetch with every ETag taken off the answers: a server that sends none. */
const withoutEtags = (inner: typeof fetch): typeof fetch =>
  (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const response = await inner(input, init);
    const headers = new Headers(response.headers);
    headers.delete('etag');
    const body = response.status === 304 || response.status === 204 ? null : await response.arrayBuffer();
    return new Response(body, { status: response.status, statusText: response.statusText, headers });
  }) as typeof fetch;

async function createWith(creator: Replica, counterparty: TestParty, number: string, joiners: Replica[]): Promise<InvoiceId> {
  const { op } = await creator.createInvoice(number, {
    currency: 'EUR',
    counterparty: { webId: counterparty.webId, podRoot: counterparty.podRoot },
    ownInfo: { name: 'Customer' },
    counterpartyInfo: { name: 'Seller' },
  });
  for (const joiner of joiners) await joiner.joinInvoice(op.invoiceId, creator.ownContainer(op.invoiceId));
  return op.invoiceId;
}

const comments = async (replica: Replica, invoiceId: InvoiceId) =>
  (await replica.view(invoiceId)).log.filter((entry) => entry.type === 'Comment' && entry.state === 'accepted').length;

beforeAll(async () => {
  pods = await startTestPods();
  seller = replicaOf(pods.seller, 'desktop');
  sellerMobile = replicaOf(pods.seller, 'mobile');
  buyer = replicaOf(pods.buyer, 'desktop');
  customer = replicaOf(pods.stranger, 'desktop');
  for (const number of ['A-1', 'A-2', 'A-3']) invoices.push(await createWith(buyer, pods.seller, number, [seller, sellerMobile]));
  for (const number of ['B-1', 'B-2']) invoices.push(await createWith(customer, pods.seller, number, [seller, sellerMobile]));
  await seller.refresh(); // records every invoice's pods and reads every feed once
}, 400_000);

afterAll(async () => {
  await pods?.stop();
});

describe('refresh: many invoices, cost by what changed', { timeout: 180_000 }, () => {
  it('nothing changed: one request per pod followed (3 pods for 5 invoices), no invoice synced', async () => {
    const result = await seller.refresh();
    expect(result.feeds).toEqual({ read: 3, unusable: [] });
    expect(result.synced.size).toBe(0);
    expect(result.requests).toBe(3 * feedDaysNow());
  });

  it("a customer's new op: that invoice alone is synced, on that customer's pod alone", async () => {
    await buyer.write(invoices[1]!, 'Comment', { text: 'when can you deliver?' });
    const result = await seller.refresh();
    expect([...result.synced.keys()]).toEqual([invoices[1]]);
    expect(result.synced.get(invoices[1]!)!.containers.map((c) => c.container)).toEqual([buyer.ownContainer(invoices[1]!)]);
    expect(result.requests).toBeLessThanOrEqual(3 * feedDaysNow() + 2);
    expect(await comments(seller, invoices[1]!)).toBe(1);
    expect((await seller.refresh()).synced.size).toBe(0);
  });

  it("another device of the seller's own business writes: its own feed tells, the writer does not re-read its op", async () => {
    await sellerMobile.refresh();
    await sellerMobile.write(invoices[3]!, 'Comment', { text: 'sent from the phone' });
    const result = await seller.refresh();
    expect([...result.synced.keys()]).toEqual([invoices[3]]);
    expect(await comments(seller, invoices[3]!)).toBe(1);
    const own = await sellerMobile.refresh();
    expect(own.synced.size).toBe(0);
  });

  it('one invoice (a short command): one request per participant pod when nothing changed; a change crawled there alone; other news left for refresh', async () => {
    await seller.refresh();
    const quiet = await seller.syncChanged(invoices[0]!);
    expect(quiet.requests).toBe(2 * feedDaysNow()); // the feeds on the buyer's pod and the seller's own, both 304
    expect([quiet.containers, quiet.newOps]).toEqual([[], 0]);
    expect(quiet.invoice.invoiceId).toBe(invoices[0]);

    await buyer.write(invoices[0]!, 'Comment', { text: 'about A-1' });
    await buyer.write(invoices[2]!, 'Comment', { text: 'about A-3' });
    const changed = await seller.syncChanged(invoices[0]!);
    expect(changed.containers.map((c) => c.container)).toEqual([buyer.ownContainer(invoices[0]!)]);
    expect(changed.newOps).toBe(1);
    expect(await comments(seller, invoices[0]!)).toBe(1);
    // The entry naming A-3 was read but not acted on: the next refresh still syncs A-3, and only it.
    const refreshed = await seller.refresh();
    expect([...refreshed.synced.keys()]).toEqual([invoices[2]]);
    expect(await comments(seller, invoices[2]!)).toBe(1);
    expect((await seller.syncChanged(invoices[0]!)).requests).toBe(2 * feedDaysNow());
  });

  it('one invoice whose pods this device never recorded (data of the earlier layout): synced whole, as sync does', async () => {
    const store = new MemoryDeviceStore();
    const fresh = new Replica({ store, fetch: pods.seller.devices.desktop.fetch, identity: { webId: pods.seller.webId, podRoot: pods.seller.podRoot, device: 'desktop' } });
    await fresh.joinInvoice(invoices[1]!, buyer.ownContainer(invoices[1]!));
    const { participantPods: _pods, ...legacy } = (await store.getInvoice(invoices[1]!))!;
    await store.saveInvoice(legacy);
    const whole = await fresh.syncChanged(invoices[1]!);
    expect(whole.containers.map((c) => c.container).sort()).toEqual([buyer.ownContainer(invoices[1]!), fresh.ownContainer(invoices[1]!)].sort());
    expect((await store.getInvoice(invoices[1]!))!.participantPods).toEqual([pods.buyer.podRoot, pods.seller.podRoot].sort());
  });

  it('a server without ETags: still one request per feed, and still every change', async () => {
    const noEtags = replicaOf(pods.seller, 'desktop', withoutEtags(pods.seller.devices.desktop.fetch));
    for (const [i, invoiceId] of invoices.entries()) await noEtags.joinInvoice(invoiceId, (i < 3 ? buyer : customer).ownContainer(invoiceId));
    await noEtags.refresh();
    const quiet = await noEtags.refresh();
    expect(quiet.synced.size).toBe(0);
    expect(quiet.requests).toBe(3 * feedDaysNow());
    await customer.write(invoices[4]!, 'Comment', { text: 'no etags here' });
    const result = await noEtags.refresh();
    expect([...result.synced.keys()]).toEqual([invoices[4]]);
    expect(await comments(noEtags, invoices[4]!)).toBe(1);
  });

  it('a pod whose feed is gone (an older version of the software there): its invoices are synced one by one, and nothing is missed', async () => {
    const feed = feedOf(pods.stranger.podRoot, pods.seller.webId);
    const owner = pods.stranger.devices.desktop.fetch;
    const listing = await listContainer(owner, feed);
    for (const day of listing.notModified ? [] : listing.members) {
      const entries = await listContainer(owner, day);
      for (const entry of entries.notModified ? [] : entries.members) await send(owner, entry, { method: 'DELETE' });
      await send(owner, day, { method: 'DELETE' });
    }
    expect((await send(owner, feed, { method: 'DELETE' })).ok).toBe(true);
    // An op written without any announcement (an older device of the customer): only a whole sync can find it.
    const view = await customer.view(invoices[3]!);
    const op = makeOp('Comment', { text: 'written by an older version' }, { invoiceId: invoices[3]!, device: 'old', heads: view.heads, latestClock: view.latestClock }, Date.now()) as AnyOp;
    await putImmutable(owner, `${customer.ownContainer(invoices[3]!)}${op.id}`, opToTurtle(op));
    const result = await seller.refresh();
    expect(result.feeds.unusable.map((read) => read.feed)).toEqual([feed]);
    expect([...result.synced.keys()].sort()).toEqual([invoices[3], invoices[4]].sort());
    expect(await comments(seller, invoices[3]!)).toBe(2);
  });

  it("one profile, two roles in the viewer: the seller's device lists where it sells and where it buys, brought up to date", async () => {
    const { op } = await seller.createInvoice('BUY-1', {
      as: 'buyer',
      currency: 'EUR',
      counterparty: { webId: pods.stranger.webId, podRoot: pods.stranger.podRoot },
      ownInfo: { name: 'Seller Co buying' },
      counterpartyInfo: { name: 'Customer Co selling' },
    });
    await customer.joinInvoice(op.invoiceId, seller.ownContainer(op.invoiceId));
    await customer.write(op.invoiceId, 'Comment', { text: 'ready to quote' });
    const viewer = await startViewer({ replica: seller, port: 0, notifications: false });
    try {
      const page = await (await fetch(viewer.url)).text();
      const rowOf = (invoiceId: InvoiceId) => page.split('<tr>').find((row) => row.includes(invoiceId)) ?? '';
      expect(rowOf(op.invoiceId)).toContain('Seller Co buying');
      expect(rowOf(op.invoiceId)).toMatch(/<td class="num">2<\/td>\s*<\/tr>/); // the CreateInvoice and the comment the refresh brought
      expect(rowOf(invoices[0]!)).toContain('Seller</td>');
      expect(await seller.sideOf(op.invoiceId)).toBe('buyer');
      expect(await seller.sideOf(invoices[0]!)).toBe('seller');
    } finally {
      await viewer.stop();
    }
  });
});

describe('an op and its feed entries go up at once', { timeout: 180_000 }, () => {
  /** A device of the buyer that joined invoices[1], with its requests logged and its clock in the test's hands. */
  async function buyerDevice(device: string, fail: (method: string, url: string) => boolean = () => false) {
    const log: string[] = [];
    const inner = pods.buyer.devices.mobile.fetch;
    const fetchFn = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      const [method, url] = [methodOf(input, init), urlOf(input)];
      if (fail(method, url)) throw new HttpError(503, url, `could not write ${url}: 503 (test)`);
      log.push(`start ${method} ${url}`);
      const response = await inner(input, init);
      log.push(`end ${method} ${url}`);
      return response;
    }) as typeof fetch;
    const replica = new Replica({ store: new MemoryDeviceStore(), fetch: fetchFn, identity: { webId: pods.buyer.webId, podRoot: pods.buyer.podRoot, device } });
    await replica.joinInvoice(invoices[1]!, buyer.ownContainer(invoices[1]!));
    log.length = 0;
    return { replica, log };
  }

  /** A seller device following invoices[1] whose clock the test moves. */
  async function sellerWithClock() {
    const clock = { now: Date.now() };
    const store = new MemoryDeviceStore();
    const replica = new Replica({
      store,
      fetch: pods.seller.devices.mobile.fetch,
      identity: { webId: pods.seller.webId, podRoot: pods.seller.podRoot, device: 'clocked' },
      now: () => clock.now,
    });
    await replica.joinInvoice(invoices[1]!, buyer.ownContainer(invoices[1]!));
    await replica.refresh();
    const pending = async () => Object.keys((await store.loadFeeds())[feedOf(pods.buyer.podRoot, pods.seller.webId)]?.pending ?? {});
    return { replica, clock, pending };
  }

  it('a write sends its op and every feed entry before the first answer comes back', async () => {
    const { replica, log } = await buyerDevice('tablet');
    const { op } = await replica.write(invoices[1]!, 'Comment', { text: 'all at once' });
    const puts = log.filter((line) => line.includes(' PUT '));
    expect(puts.filter((line) => line.startsWith('start')).map((line) => line.includes(op.id))).toEqual([true, true, true]);
    expect(puts.slice(0, 3).every((line) => line.startsWith('start'))).toBe(true);
    await seller.syncChanged(invoices[1]!);
    expect((await seller.view(invoices[1]!)).log.some((entry) => entry.opId === op.id && entry.state === 'accepted')).toBe(true);
  });

  it('an entry read before its op stays new until a crawl lists the op; then it costs nothing more', async () => {
    const { replica: reader, pending } = await sellerWithClock();
    const view = await buyer.view(invoices[1]!);
    const op = makeOp('Comment', { text: 'the op comes after its entry' }, { invoiceId: invoices[1]!, device: 'slow', heads: view.heads, latestClock: view.latestClock }, Date.now()) as AnyOp;
    const url = `${buyer.ownContainer(invoices[1]!)}${op.id}`;
    await announce(pods.buyer.devices.desktop.fetch, pods.buyer.podRoot, invoices[1]!, url, [pods.seller.webId], { datedAt: Date.now() });
    const early = await reader.syncChanged(invoices[1]!);
    expect(early.newOps).toBe(0);
    expect(await pending()).toHaveLength(1);
    const again = await reader.syncChanged(invoices[1]!);
    expect(again.containers.map((c) => c.container)).toEqual([buyer.ownContainer(invoices[1]!)]);

    await putImmutable(pods.buyer.devices.desktop.fetch, url, opToTurtle(op));
    const landed = await reader.syncChanged(invoices[1]!);
    expect(landed.newOps).toBe(1);
    expect(await pending()).toEqual([]);
    expect((await reader.syncChanged(invoices[1]!)).requests).toBe(2 * feedDaysNow());
  });

  it('an op whose PUT failed while its entries went up: the reader gives up on them after a while, and the retry announces it anew', async () => {
    const { replica: reader, clock, pending } = await sellerWithClock();
    let failing = true;
    const { replica: writer } = await buyerDevice('erp', (method, url) => failing && method === 'PUT' && url.startsWith(buyer.ownContainer(invoices[1]!)));
    const { op, outbox } = await writer.write(invoices[1]!, 'Comment', { text: 'the pod took the entries, not the op' });
    expect(outbox.queued).toBe(1);
    await reader.syncChanged(invoices[1]!);
    expect(await pending()).toHaveLength(1);
    clock.now += PENDING_ENTRY_MS;
    await reader.syncChanged(invoices[1]!);
    expect(await pending()).toEqual([]);
    expect((await reader.syncChanged(invoices[1]!)).requests).toBe(2 * feedDaysNow()); // given up: a 304 again

    failing = false;
    expect((await writer.pushOutbox()).pushed).toBe(1);
    const feed = await listContainer(pods.seller.devices.mobile.fetch, dayContainerOf(feedOf(pods.buyer.podRoot, pods.seller.webId), dayOf(Date.now())));
    const entries = feed.notModified ? [] : feed.members.filter((member) => member.includes(op.id));
    expect(entries).toHaveLength(2);
    expect(entries.some((entry) => entry.endsWith(op.id))).toBe(true);
    expect(entries.some((entry) => new RegExp(`${op.id}~[0-9a-z]+$`).test(entry))).toBe(true);
    const found = await reader.syncChanged(invoices[1]!);
    expect(found.newOps).toBe(1);
    expect((await reader.view(invoices[1]!)).log.some((entry) => entry.opId === op.id && entry.state === 'accepted')).toBe(true);
  });
});

describe('feeds by day: what a read costs follows what changed lately, not the history', { timeout: 180_000 }, () => {
  const DAY = 24 * 60 * 60_000;
  /** A new device of the seller that joined invoices[1] (a whole sync), with its store at hand. */
  async function sellerDevice(device: string) {
    const store = new MemoryDeviceStore();
    const replica = new Replica({ store, fetch: pods.seller.devices.mobile.fetch, identity: { webId: pods.seller.webId, podRoot: pods.seller.podRoot, device } });
    await replica.joinInvoice(invoices[1]!, buyer.ownContainer(invoices[1]!));
    return { replica, store };
  }
  const buyerFeed = () => feedOf(pods.buyer.podRoot, pods.seller.webId);
  /** Another view of a seller device's store whose requests to the buyer's pod all fail, as when that pod is down. */
  const withBuyerPodDown = (store: MemoryDeviceStore, identity: Replica['identity']) =>
    new Replica({
      store,
      fetch: (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
        if (urlOf(input).startsWith(pods.buyer.podRoot)) throw new HttpError(503, urlOf(input), 'the buyer pod is down (test)');
        return pods.seller.devices.mobile.fetch(input, init);
      }) as typeof fetch,
      identity,
    });
  /** An op of the buyer put on its pod and announced as written at `datedAt`. */
  async function writtenAt(datedAt: number, text: string) {
    const view = await buyer.view(invoices[1]!);
    const op = makeOp('Comment', { text }, { invoiceId: invoices[1]!, device: 'dated', heads: view.heads, latestClock: view.latestClock }, Date.now()) as AnyOp;
    const url = `${buyer.ownContainer(invoices[1]!)}${op.id}`;
    await putImmutable(pods.buyer.devices.desktop.fetch, url, opToTurtle(op));
    await announce(pods.buyer.devices.desktop.fetch, pods.buyer.podRoot, invoices[1]!, url, [pods.seller.webId], { datedAt });
    return op;
  }

  it('a device that never read a feed starts it from its last whole sync of the invoices there, and reads only today', async () => {
    const { replica, store } = await sellerDevice('starter');
    expect((await store.getInvoice(invoices[1]!))!.syncedAt?.[pods.buyer.podRoot]).toBeGreaterThan(Date.now() - DAY);
    // The entries of the ten minutes before that sync (FEED_DAY_MARGIN_MS) are checked once: nothing new there.
    const first = await replica.syncChanged(invoices[1]!);
    expect(first.containers.every((c) => c.outcome === 'unchanged' && c.container === buyer.ownContainer(invoices[1]!))).toBe(true);
    expect(first.newOps).toBe(0);
    expect((await replica.syncChanged(invoices[1]!)).requests).toBe(2 * feedDaysNow());
    const state = (await store.loadFeeds())[buyerFeed()]!;
    expect(state.at).toBeGreaterThan(Date.now() - DAY);
    for (const day of Object.keys(state.days ?? {})) expect([dayOf(Date.now()), dayOf(Date.now() - DAY)]).toContain(day);
  });

  it("a crawl records per pod where it read everything: a counterparty's pod that is down holds back only its own", async () => {
    const { replica, store } = await sellerDevice('half-online');
    const before = (await store.getInvoice(invoices[1]!))!.syncedAt!;
    const buyerDown = withBuyerPodDown(store, replica.identity);
    await buyerDown.sync(invoices[1]!);
    const after = (await store.getInvoice(invoices[1]!))!.syncedAt!;
    expect(after[pods.buyer.podRoot]).toBe(before[pods.buyer.podRoot]);
    // Recorded anew (by the server's clock, read from Date headers to the second: not necessarily later by much).
    expect(after[pods.seller.podRoot]).not.toBe(before[pods.seller.podRoot]);
    expect(Math.abs(after[pods.seller.podRoot]! - Date.now())).toBeLessThan(5_000);
  });

  it("a counterparty's pod that is down holds back only its own entries: the business's own feed is settled", async () => {
    const { replica, store } = await sellerDevice('split');
    await replica.syncChanged(invoices[1]!);
    const { op } = await sellerMobile.write(invoices[1]!, 'Comment', { text: 'from the phone, while the buyer pod is down' });
    const buyerDown = withBuyerPodDown(store, replica.identity);
    const read = await buyerDown.syncChanged(invoices[1]!);
    expect(read.containers.find((c) => c.container === buyer.ownContainer(invoices[1]!))?.outcome).toBe('stale');
    expect((await buyerDown.view(invoices[1]!)).log.some((entry) => entry.opId === op.id)).toBe(true);
    const ownFeed = feedOf(pods.seller.podRoot, pods.seller.webId);
    // The phone's entry counts as handled (entries of invoices this device did not sync wait for a list, as ever).
    const seen = Object.values((await store.loadFeeds())[ownFeed]?.days ?? {}).flatMap((day) => day.seen);
    expect(seen.some((entry) => entry.endsWith(op.id))).toBe(true);
  });

  it('entries of earlier days (a long history) are never listed again: a quiet read is one request per pod', async () => {
    const { replica } = await sellerDevice('historian');
    await replica.syncChanged(invoices[1]!);
    const old = await writtenAt(Date.now() - 3 * DAY, 'dated three days ago');
    const quiet = await replica.syncChanged(invoices[1]!);
    expect(quiet.requests).toBe(2 * feedDaysNow());
    expect(quiet.newOps).toBe(0);
    // The op is there all the same: a whole sync (`fedinvoice sync`) finds it.
    expect((await replica.sync(invoices[1]!)).newOps).toBe(1);
    expect((await replica.view(invoices[1]!)).log.some((entry) => entry.opId === old.id)).toBe(true);
  });

  it('across midnight: a read lists the day of its last read too, and finds what was written there late', async () => {
    const { replica, store } = await sellerDevice('night-owl');
    await replica.syncChanged(invoices[1]!);
    const midnight = Date.parse(dayOf(Date.now()));
    const feeds = await store.loadFeeds();
    feeds[buyerFeed()] = { at: midnight - 2 * 60_000, days: {} };
    await store.saveFeeds(feeds);
    const late = await writtenAt(midnight - 60_000, 'written at 23:59');
    const read = await replica.syncChanged(invoices[1]!);
    expect(read.newOps).toBe(1);
    expect(read.containers.map((c) => c.container)).toEqual([buyer.ownContainer(invoices[1]!)]);
    expect((await replica.view(invoices[1]!)).log.some((entry) => entry.opId === late.id)).toBe(true);
    expect((await store.loadFeeds())[buyerFeed()]!.at).toBeGreaterThan(midnight);
  });

  it('after days away: the feed itself is listed once, and only the days something was written in are read', async () => {
    const { store } = await sellerDevice('traveller');
    const feeds = await store.loadFeeds();
    feeds[buyerFeed()] = { at: Date.now() - 6 * DAY, days: {} };
    await store.saveFeeds(feeds);
    const away = await writtenAt(Date.now() - 4 * DAY, 'written while the device was away');
    const listed: string[] = [];
    const root = buyerFeed();
    const watching = new Replica({
      store,
      fetch: (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
        if (urlOf(input).startsWith(root)) listed.push(urlOf(input).slice(root.length));
        return pods.seller.devices.mobile.fetch(input, init);
      }) as typeof fetch,
      identity: { webId: pods.seller.webId, podRoot: pods.seller.podRoot, device: 'traveller' },
    });
    const read = await watching.syncChanged(invoices[1]!);
    expect(read.newOps).toBe(1);
    expect((await watching.view(invoices[1]!)).log.some((entry) => entry.opId === away.id)).toBe(true);
    expect(listed[0]).toBe(''); // the feed, for its day containers
    expect(listed).toContain(`${dayOf(Date.now() - 4 * DAY)}/`);
    expect(listed).not.toContain(`${dayOf(Date.now() - 5 * DAY)}/`); // nothing was written that day
    // Read up to now: the next read lists today alone.
    expect((await store.loadFeeds())[buyerFeed()]!.at).toBeGreaterThan(Date.now() - 60_000);
    listed.length = 0;
    await watching.syncChanged(invoices[1]!);
    expect(listed).toEqual([`${dayOf(Date.now())}/`]);
  });

  it("a device whose clock is two days behind the server's still reads the server's today (its answers' Date headers tell)", async () => {
    const { store } = await sellerDevice('slow-clock');
    const behind = new Replica({
      store,
      fetch: pods.seller.devices.mobile.fetch,
      identity: { webId: pods.seller.webId, podRoot: pods.seller.podRoot, device: 'slow-clock' },
      now: () => Date.now() - 2 * DAY,
    });
    const feeds = await store.loadFeeds();
    feeds[buyerFeed()] = { at: Date.now() - DAY, days: {} };
    await store.saveFeeds(feeds);
    const today = await writtenAt(Date.now(), 'written today, by the server');
    const read = await behind.syncChanged(invoices[1]!);
    expect(read.newOps).toBe(1);
    expect((await behind.view(invoices[1]!)).log.some((entry) => entry.opId === today.id)).toBe(true);
    expect(Object.keys((await store.loadFeeds())[buyerFeed()]!.days ?? {})).toContain(dayOf(Date.now()));
  });

  it('a state of the earlier layout (one container, no days): the invoice is synced whole once, then the feed is read by day', async () => {
    const { replica, store } = await sellerDevice('upgraded');
    const { syncedAt: _dropped, ...legacyRef } = (await store.getInvoice(invoices[1]!))!;
    await store.saveInvoice(legacyRef);
    await store.saveFeeds({ [buyerFeed()]: { etag: '"old"', seen: [] } as never });
    const first = await replica.syncChanged(invoices[1]!);
    expect(first.containers.length).toBeGreaterThanOrEqual(2); // whole: every participant's container
    expect((await store.getInvoice(invoices[1]!))!.syncedAt).toBeDefined();
    await replica.syncChanged(invoices[1]!); // the feeds start: the entries of the ten minutes before are checked
    const third = await replica.syncChanged(invoices[1]!);
    expect(third.requests).toBe(2 * feedDaysNow());
    expect(third.containers).toEqual([]);
  });

  it('a feed that is not there (its pod announces nothing) is never taken for a quiet one: its invoices are synced whole', async () => {
    const owner = pods.buyer.devices.desktop.fetch;
    const feed = buyerFeed();
    const listing = await listContainer(owner, feed);
    for (const day of listing.notModified ? [] : listing.members) {
      const entries = await listContainer(owner, day);
      for (const entry of entries.notModified ? [] : entries.members) await send(owner, entry, { method: 'DELETE' });
      await send(owner, day, { method: 'DELETE' });
    }
    expect((await send(owner, feed, { method: 'DELETE' })).ok).toBe(true);
    const { replica } = await sellerDevice('no-feed'); // joined: a whole sync, so the feed would start from it
    for (let i = 0; i < 2; i++) {
      const read = await replica.syncChanged(invoices[1]!);
      expect(read.containers.map((c) => c.container)).toContain(buyer.ownContainer(invoices[1]!));
    }
  });
});
