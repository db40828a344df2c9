/**
 * A Community Solid Server configured without Solid Notifications (its storage description lists no subscription
 * service), with two parties on it: the live viewer polls without looping on subscriptions, and a binary file in
 * an op container (which CSS answers with 501 when asked for Turtle) is refused once, not a reason to call the pod
 * stale and fetch it again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asWebId, asInvoiceId, type InvoiceId } from '../../src/model/ids.ts';
import { startPodServer, type PodServer, type SeedAccount } from '../../src/pod/server.ts';
import type { DeviceSession } from '../../src/pod/session.ts';
import { Replica } from '../../src/sync/replica.ts';
import { MemoryDeviceStore } from '../../src/sync/store.ts';
import { LiveInvoice } from '../../src/viewer/live.ts';
import { discoverSubscriptionService, NotificationsUnavailableError } from '../../src/viewer/notifications.ts';
import { renderInvoiceBody, type PageContext } from '../../src/viewer/render.ts';
import { freePort, loginNewDevice } from '../support/pods.ts';

const PASSWORD = 'test-password-not-secret';
const buyerSeed: SeedAccount = { email: 'buyer@example.test', password: PASSWORD, podName: 'buyer' };
const sellerSeed: SeedAccount = { email: 'seller@example.test', password: PASSWORD, podName: 'seller' };

let server: PodServer;
let sessions: DeviceSession[] = [];
let buyer: Replica;
let seller: Replica;
let invoiceId: InvoiceId;
const sent: Array<{ method: string; url: string }> = [];

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  server = await startPodServer({ port: await freePort(), storage: 'memory', notifications: false, seedAccounts: [buyerSeed, sellerSeed] });
  const bd = await loginNewDevice(server, buyerSeed, 'buyer-desktop');
  const sm = await loginNewDevice(server, sellerSeed, 'seller-mobile');
  sessions = [bd, sm];
  const recording = ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    sent.push({ method: init?.method ?? 'GET', url: String(input) });
    return bd.fetch(input, init);
  }) as typeof fetch;
  buyer = new Replica({ store: new MemoryDeviceStore(), fetch: recording, identity: { webId: bd.webId, podRoot: `${server.baseUrl}buyer/`, device: 'desktop' } });
  seller = new Replica({ store: new MemoryDeviceStore(), fetch: sm.fetch, identity: { webId: sm.webId, podRoot: `${server.baseUrl}seller/`, device: 'mobile' } });
  const counterparty = { webId: sm.webId, podRoot: `${server.baseUrl}seller/` };
  invoiceId = (await buyer.createInvoice(asInvoiceId('INV-NO-NOTIFY-1'), { currency: 'EUR', counterparty, ownInfo: { name: 'B' }, counterpartyInfo: { name: 'S' } })).op.invoiceId;
  await seller.joinInvoice(invoiceId, buyer.ownContainer(invoiceId));
  await seller.write(invoiceId, 'Comment', { text: 'joined' });
});

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.logout().catch(() => undefined)));
  await server?.stop();
});

describe('a CSS without notifications', () => {
  it('offers no subscription service: discovery says so', async () => {
    await expect(discoverSubscriptionService(sessions[0]!.fetch, buyer.ownContainer(invoiceId))).rejects.toBeInstanceOf(NotificationsUnavailableError);
  });

  it('is polled by the live viewer, which tries each container once and neither re-subscribes nor re-renders', async () => {
    const ctx: PageContext = { identity: { profile: 'buyer', webId: asWebId(buyer.identity.webId), device: 'desktop' }, profiles: ['buyer'], path: '/', href: (t) => t };
    const discoveries = () => sent.filter((r) => r.method === 'HEAD').length;
    const before = discoveries();
    const live = await LiveInvoice.open(buyer, invoiceId, { pollIntervalMs: 100, heartbeatMs: 60_000 });
    try {
      await until(() => live.snapshot.pods.length === 2 && live.snapshot.pods.every((p) => p.channel?.state === 'unavailable'), 10_000, 'both channels unavailable');
      expect(live.snapshot.mode).toBe('polling');
      expect(discoveries() - before).toBe(2);

      const bodies: string[] = [];
      const off = live.onSnapshot((snapshot) => bodies.push(renderInvoiceBody(snapshot, ctx).value));
      const settled = { discoveries: discoveries(), body: renderInvoiceBody(live.snapshot, ctx).value };
      await until(() => bodies.length >= 10, 30_000, 'ten polls');
      off();
      expect(discoveries()).toBe(settled.discoveries);
      expect(live.stats.notifications).toBe(0);
      expect(new Set([settled.body, ...bodies]).size).toBe(1);
      expect(live.snapshot.invoice.comments.map((c) => c.text)).toEqual(['joined']);

      await seller.write(invoiceId, 'Comment', { text: 'by polling' });
      await until(() => live.snapshot.invoice.comments.some((c) => c.text === 'by polling'), 10_000, 'the comment to show');
    } finally {
      live.stop();
    }
  });

  it('answers 501 to a Turtle request for a binary file: the crawler refuses it once, remembers it, and the pod is not stale', async () => {
    const container = seller.ownContainer(invoiceId);
    const url = `${container}${'cd'.repeat(32)}`;
    const put = await sessions[1]!.fetch(url, { method: 'PUT', headers: { 'content-type': 'image/png' }, body: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10]) });
    expect(put.ok).toBe(true);
    const asTurtle = await sessions[1]!.fetch(url, { headers: { accept: 'text/turtle' } });
    await asTurtle.body?.cancel();
    expect(asTurtle.status).toBe(501);

    const first = await buyer.sync(invoiceId);
    const report = first.containers.find((c) => c.container === container)!;
    expect(report.outcome).toBe('updated');
    expect(report.refused).toEqual([{ url, reason: expect.stringContaining('HTTP 501') as string }]);
    expect((await buyer.containerStates(invoiceId))[container]?.refused.map((r) => r.url)).toContain(url);

    // A new op changes the listing (so it is read again, not answered 304): the binary file is not asked for again.
    await seller.write(invoiceId, 'Comment', { text: 'after the file' });
    const from = sent.length;
    const next = await buyer.sync(invoiceId);
    expect(sent.slice(from).filter((r) => r.url === url)).toEqual([]);
    expect(next.containers.every((c) => c.outcome !== 'stale' && c.refused.length === 0)).toBe(true);
    expect(next.invoice.comments.map((c) => c.text)).toContain('after the file');
  });
});
