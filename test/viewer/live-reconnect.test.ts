/**
 * LiveInvoice over real pods, without a browser: a pod that stops shows as stale with its last success, and when
 * it comes back (a file-backed seller pod restarted on the same port, same data) the viewer subscribes again and
 * an op written afterwards arrives through a notification.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asInvoiceId } from '../../src/model/ids.ts';
import { startPodServer, type PodServer, type SeedAccount } from '../../src/pod/server.ts';
import type { DeviceSession } from '../../src/pod/session.ts';
import { Replica } from '../../src/sync/replica.ts';
import { MemoryDeviceStore } from '../../src/sync/store.ts';
import { LiveInvoice } from '../../src/viewer/live.ts';
import { freePort, loginNewDevice } from '../support/pods.ts';
import { recordListeningServers, stopLikeAnOutage } from './outage.ts';

const buyerSeed: SeedAccount = { email: 'buyer@example.test', password: 'test-password-not-secret', podName: 'buyer' };
const sellerSeed: SeedAccount = { email: 'seller@example.test', password: 'test-password-not-secret', podName: 'seller' };
let invoiceId = asInvoiceId('INV-LIVE-1');

let dataDir: string;
let sellerPort: number;
let buyerServer: PodServer;
let sellerServer: PodServer;
let sessions: DeviceSession[] = [];
let buyer: Replica;
let seller: Replica;
let live: LiveInvoice;

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - start;
}

/**
 * While every channel is open the live invoice only polls at its heartbeat; this one is far longer than any wait
 * below, so an op that shows up within one of them came by notification, not by a poll. Polling proper
 * (`pollIntervalMs`) still runs whenever a channel is down: that is how the stopped pod is noticed coming back.
 */
const HEARTBEAT_MS = 120_000;
/**
 * Why an op must show within a bound at all: without one, "it arrives" is not a property a test can fail on. The
 * bound is the viewer's promise (another device's op shows within 2 s without a reload), some 30× the median that
 * bench/propagation.ts measures, so missing it means a lost notification, not a slow machine.
 */
const SHOWS_WITHIN_MS = 2000;

/**
 * Writes a comment as the seller and waits until the live invoice shows it. It came by notification: it showed
 * while every channel was open (a channel that is not open would switch the invoice to polling, and the snapshots
 * would say so), when the only timer left is the heartbeat, far away; and a notification was counted.
 */
async function commentArrivesByNotification(text: string): Promise<number> {
  expect(live.snapshot.mode).toBe('notifications');
  const before = live.stats.notifications;
  const modesUntilShown = new Set<string>();
  let shown = false;
  const off = live.onSnapshot((snapshot) => {
    if (shown) return;
    modesUntilShown.add(snapshot.mode);
    shown = snapshot.invoice.comments.some((c) => c.text === text);
  });
  try {
    await seller.write(invoiceId, 'Comment', { text });
    const took = await until(() => shown, SHOWS_WITHIN_MS, `the comment "${text}"`);
    expect([...modesUntilShown]).toEqual(['notifications']);
    expect(live.stats.notifications).toBeGreaterThan(before);
    return took;
  } finally {
    off();
  }
}

const startSeller = () => startPodServer({ port: sellerPort, storage: 'file', dataDir, seedAccounts: [sellerSeed], loggingLevel: 'error' });

beforeAll(async () => {
  recordListeningServers();
  dataDir = await mkdtemp(join(tmpdir(), 'fedinvoice-viewer-'));
  const buyerPort = await freePort();
  sellerPort = await freePort();
  [buyerServer, sellerServer] = await Promise.all([startPodServer({ port: buyerPort, storage: 'memory', seedAccounts: [buyerSeed] }), startSeller()]);
  const [bd, sm] = await Promise.all([loginNewDevice(buyerServer, buyerSeed, 'buyer-desktop'), loginNewDevice(sellerServer, sellerSeed, 'seller-mobile')]);
  sessions = [bd, sm];
  buyer = new Replica({ store: new MemoryDeviceStore(), fetch: bd.fetch, identity: { webId: bd.webId, podRoot: `${buyerServer.baseUrl}buyer/`, device: 'desktop' } });
  seller = new Replica({ store: new MemoryDeviceStore(), fetch: sm.fetch, identity: { webId: sm.webId, podRoot: `${sellerServer.baseUrl}seller/`, device: 'mobile' } });
  invoiceId = (await buyer.createInvoice(invoiceId, { currency: 'EUR', counterparty: { webId: sm.webId, podRoot: `${sellerServer.baseUrl}seller/` }, ownInfo: { name: 'B' }, counterpartyInfo: { name: 'S' } })).op.invoiceId;
  await seller.joinInvoice(invoiceId, buyer.ownContainer(invoiceId));
});

afterAll(async () => {
  live?.stop();
  await Promise.all(sessions.map((s) => s.logout().catch(() => undefined)));
  await Promise.all([buyerServer?.stop(), sellerServer?.stop()]);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('a live invoice when a pod goes away and comes back', () => {
  it('subscribes to both op containers, also to one that does not exist yet (through its parent)', async () => {
    live = await LiveInvoice.open(buyer, invoiceId, { pollIntervalMs: 300, heartbeatMs: HEARTBEAT_MS });
    await until(() => live.snapshot.mode === 'notifications', 15_000, 'every channel to open');
    const sellerPod = live.snapshot.pods.find((pod) => pod.container === seller.ownContainer(invoiceId));
    expect(sellerPod?.channel?.topic).toBe(`${sellerServer.baseUrl}seller/invoices/${invoiceId}/`);

    // The seller's first op creates its container: announced by the parent, then the channel moves to it.
    // (The sync that brings it also moves the channel from the parent to the container, so the invoice polls for a
    // moment: here only that a notification came is checked; the last test proves an op arriving by notification.)
    const before = live.stats.notifications;
    await seller.write(invoiceId, 'Comment', { text: 'first' });
    await until(() => live.snapshot.invoice.comments.some((c) => c.text === 'first'), SHOWS_WITHIN_MS, 'the first comment');
    expect(live.stats.notifications).toBeGreaterThan(before);
    await until(() => live.snapshot.pods.find((pod) => pod.container === seller.ownContainer(invoiceId))?.channel?.topic === seller.ownContainer(invoiceId), 5000, 'the channel on the container itself');
  });

  it('shows the stopped pod as stale since its last success, keeping the last known state', async () => {
    await stopLikeAnOutage(sellerServer);
    await until(() => live.snapshot.pods.some((pod) => pod.outcome === 'stale'), 5000, 'the seller pod to show as stale');
    const stale = live.snapshot.pods.find((pod) => pod.outcome === 'stale')!;
    expect(stale.container).toBe(seller.ownContainer(invoiceId));
    expect(stale.lastSuccess).not.toBeNull();
    expect(Date.parse(stale.lastSuccess!)).toBeLessThanOrEqual(Date.now());
    expect(live.snapshot.mode).toBe('polling');
    expect(live.snapshot.invoice.comments.map((c) => c.text)).toEqual(['first']);
  });

  it('subscribes again when the pod comes back, and the next op arrives by notification', async () => {
    sellerServer = await startSeller();
    await until(() => live.snapshot.mode === 'notifications' && live.snapshot.pods.every((pod) => pod.outcome !== 'stale'), 20_000, 'the channels to reopen');
    const took = await commentArrivesByNotification('back again');
    expect(took).toBeLessThan(SHOWS_WITHIN_MS);
  });
});
