/**
 * A Solid server unlike CSS: the project's mini pod made to send no ETags (so no listing is ever answered 304) and,
 * like it always does, offering no notifications (no storage description is linked). fedinvoice must still sync
 * without fetching a known op again, at one listing per container; refuse once and remember a member the server
 * will never serve as Turtle; and a live viewer must poll without looping on subscriptions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asInvoiceId, asWebId, type InvoiceId } from '../../src/model/ids.ts';
import { Replica } from '../../src/sync/replica.ts';
import { MemoryDeviceStore } from '../../src/sync/store.ts';
import { LiveInvoice, type InvoiceSnapshot } from '../../src/viewer/live.ts';
import { renderInvoiceBody, type PageContext } from '../../src/viewer/render.ts';
import { Subscriptions } from '../../src/viewer/subscriptions.ts';
import { startMiniPod, type MiniPod } from '../support/mini-pod.ts';

interface Request {
  readonly method: string;
  readonly url: string;
}

let pod: MiniPod;
let buyer: Replica;
let seller: Replica;
let invoiceId: InvoiceId;
const requests: Request[] = [];

/** The global fetch (the mini pod needs no login), recording every request the buyer's device sends. */
const recordingFetch = ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
  requests.push({ method: init?.method ?? 'GET', url: String(input) });
  return fetch(input, init);
}) as typeof fetch;

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The requests `work` made, by method and URL. */
async function requestsOf(work: () => Promise<unknown>): Promise<Request[]> {
  const from = requests.length;
  await work();
  return requests.slice(from);
}

beforeAll(async () => {
  pod = await startMiniPod(0, { etags: false });
  const replicaOf = (party: string, fetchFn: typeof fetch) =>
    new Replica({
      store: new MemoryDeviceStore(),
      fetch: fetchFn,
      identity: { webId: asWebId(`${pod.baseUrl}${party}/profile/card#me`), podRoot: `${pod.baseUrl}${party}/`, device: 'desktop' },
    });
  buyer = replicaOf('buyer', recordingFetch);
  seller = replicaOf('seller', fetch);
  const created = await buyer.createInvoice(asInvoiceId('INV-OTHER-1'), {
    currency: 'EUR',
    counterparty: { webId: seller.identity.webId, podRoot: seller.identity.podRoot },
    ownInfo: { name: 'Buyer' },
    counterpartyInfo: { name: 'Seller' },
  });
  invoiceId = created.op.invoiceId;
  await seller.joinInvoice(invoiceId, buyer.ownContainer(invoiceId));
  await seller.write(invoiceId, 'Comment', { text: 'joined' });
  await buyer.sync(invoiceId);
});

afterAll(async () => {
  await pod?.stop();
});

describe('a server that sends no ETags', () => {
  it('answers every listing in full: the test server really sends none', async () => {
    const response = await fetch(seller.ownContainer(invoiceId), { headers: { accept: 'text/turtle' } });
    await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBeNull();
  });

  it('costs one listing per container when nothing changed, and fetches no known op again', async () => {
    const containers = [buyer.ownContainer(invoiceId), seller.ownContainer(invoiceId)].sort();
    const sent = await requestsOf(() => buyer.sync(invoiceId));
    expect(sent.map((r) => `${r.method} ${r.url}`).sort()).toEqual(containers.map((c) => `GET ${c}`));
  });

  it('fetches exactly the new ops, each once, however often it syncs', async () => {
    for (const text of ['one', 'two', 'three']) await seller.write(invoiceId, 'Comment', { text });
    const first = await requestsOf(() => buyer.sync(invoiceId));
    const again = await requestsOf(() => buyer.sync(invoiceId));
    const members = (sent: Request[]) => sent.filter((r) => !r.url.endsWith('/'));
    expect(members(first)).toHaveLength(3);
    expect(members(again)).toEqual([]);
    expect(again).toHaveLength(2);
    const everyMemberFetched = members(requests).map((r) => r.url);
    expect(new Set(everyMemberFetched).size).toBe(everyMemberFetched.length);
    expect((await buyer.view(invoiceId)).comments.map((c) => c.text)).toEqual(['joined', 'one', 'two', 'three']);
  });
});

describe('a member the server will never serve as Turtle', () => {
  // Named like an op, so that only the server's answer (501, as CSS gives for a binary file) can tell.
  const name = 'ab'.repeat(32);

  it('is refused once with the reason, remembered, and not fetched again; the container is not stale', async () => {
    const url = `${seller.ownContainer(invoiceId)}${name}`;
    const put = await fetch(url, { method: 'PUT', headers: { 'content-type': 'image/png' }, body: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]) });
    expect(put.status).toBe(201);

    let result!: Awaited<ReturnType<Replica['sync']>>;
    const first = await requestsOf(async () => (result = await buyer.sync(invoiceId)));
    const report = result.containers.find((c) => c.container === seller.ownContainer(invoiceId))!;
    expect(report.outcome).toBe('updated');
    expect(report.error).toBeNull();
    expect(report.refused).toEqual([{ url, reason: expect.stringContaining('HTTP 501') as string }]);
    expect(first.filter((r) => r.url === url)).toHaveLength(1);

    const states = await buyer.containerStates(invoiceId);
    expect(states[seller.ownContainer(invoiceId)]?.refused.map((r) => r.url)).toContain(url);
    expect(states[seller.ownContainer(invoiceId)]?.error).toBeNull();

    let later!: Awaited<ReturnType<Replica['sync']>>;
    const next = await requestsOf(async () => (later = await buyer.sync(invoiceId)));
    expect(next.filter((r) => r.url === url)).toEqual([]);
    expect(later.containers.every((c) => c.outcome !== 'stale' && c.refused.length === 0)).toBe(true);
  });
});

describe('a live viewer on a server without notifications', () => {
  const ctx: PageContext = { identity: { profile: 'buyer', webId: asWebId('http://localhost/buyer#me'), device: 'desktop' }, profiles: ['buyer'], path: '/', href: (t) => t };

  it('polls, tries each container once, and neither re-subscribes nor re-renders while nothing changes', async () => {
    const discoveries = () => requests.filter((r) => r.method === 'HEAD').length;
    const before = discoveries();
    const live = await LiveInvoice.open(buyer, invoiceId, { pollIntervalMs: 50, heartbeatMs: 60_000 });
    try {
      await until(() => live.snapshot.pods.length === 2 && live.snapshot.pods.every((p) => p.channel?.state === 'unavailable'), 5000, 'both channels unavailable');
      expect(live.snapshot.mode).toBe('polling');
      expect(discoveries() - before).toBe(2);

      const bodies: string[] = [];
      const off = live.onSnapshot((snapshot: InvoiceSnapshot) => bodies.push(renderInvoiceBody(snapshot, ctx).value));
      const settled = { discoveries: discoveries(), body: renderInvoiceBody(live.snapshot, ctx).value };
      // Twenty polls: when a failed discovery reset the backoff, each one re-subscribed, and each failure asked for
      // another sync at once.
      await until(() => bodies.length >= 20, 20_000, 'twenty polls');
      off();
      expect(discoveries()).toBe(settled.discoveries);
      expect(live.stats.notifications).toBe(0);
      expect(new Set([settled.body, ...bodies]).size).toBe(1);

      // Polling still brings the other party's ops.
      await seller.write(invoiceId, 'Comment', { text: 'by polling' });
      await until(() => live.snapshot.invoice.comments.some((c) => c.text === 'by polling'), 5000, 'the comment to show');
    } finally {
      live.stop();
    }
  });
});

describe('subscribing where discovery fails', () => {
  it('keeps its backoff however often a successful sync asks it to retry', async () => {
    // Neither the container nor its parent exists: discovery fails with 404, a failure that is not "unreachable".
    const container = `${pod.baseUrl}nobody/invoices/none/ops/`;
    const heads = () => requests.filter((r) => r.method === 'HEAD' && r.url.startsWith(`${pod.baseUrl}nobody/`)).length;
    const subscriptions = new Subscriptions({ fetch: recordingFetch, onChange: () => undefined, minBackoffMs: 60_000, maxBackoffMs: 60_000 });
    try {
      subscriptions.watch(container);
      await until(() => subscriptions.status(container)?.state === 'down', 5000, 'the channel to be down');
      const afterFirstAttempt = heads();
      expect(afterFirstAttempt).toBe(2); // the container, then its parent
      // What a live invoice does after each successful poll: when that reset the backoff, each one was an attempt.
      for (let poll = 0; poll < 30; poll++) {
        subscriptions.retry(container);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(heads()).toBe(afterFirstAttempt);
      expect(subscriptions.status(container)?.state).toBe('down');
    } finally {
      subscriptions.close();
    }
  });
});
