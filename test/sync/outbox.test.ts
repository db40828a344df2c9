import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asInvoiceId, asWebId } from '../../src/model/ids.ts';
import { listContainer } from '../../src/pod/resources.ts';
import { startPodServer, type PodServer } from '../../src/pod/server.ts';
import type { DeviceSession } from '../../src/pod/session.ts';
import { FileDeviceStore } from '../../src/sync/file-store.ts';
import { Replica } from '../../src/sync/replica.ts';
import { freePort, loginNewDevice } from '../support/pods.ts';

// A file-backed pod that is stopped and started again, and a device whose store is on disk: nothing typed is lost.
const account = { email: 'buyer@example.test', password: 'test-password-not-secret', podName: 'buyer' };
let invoiceId = asInvoiceId('INV-OUTBOX');
let port: number;
let podDir: string;
let deviceDir: string;
let server: PodServer | undefined;
let session: DeviceSession;

const start = async (seed: boolean) => {
  server = await startPodServer({ port, storage: 'file', dataDir: podDir, ...(seed ? { seedAccounts: [account] } : {}) });
};

async function replica(): Promise<Replica> {
  return new Replica({
    store: new FileDeviceStore(deviceDir),
    fetch: session.fetch,
    identity: { webId: session.webId, podRoot: `${server!.baseUrl}buyer/`, device: 'desktop' },
  });
}

beforeAll(async () => {
  port = await freePort();
  podDir = await mkdtemp(join(tmpdir(), 'fedinvoice-outbox-pod-'));
  deviceDir = await mkdtemp(join(tmpdir(), 'fedinvoice-outbox-device-'));
  await start(true);
  session = await loginNewDevice(server!, account, 'buyer-desktop');
});

afterAll(async () => {
  await session?.logout();
  await server?.stop();
  await rm(podDir, { recursive: true, force: true });
  await rm(deviceDir, { recursive: true, force: true });
});

describe('the outbox', () => {
  it('accepts an op while the pod is down, keeps it on disk, and pushes it exactly once after restart', async () => {
    const device = await replica();
    invoiceId = (await device.createInvoice(invoiceId, {
      currency: 'EUR',
      counterparty: { webId: asWebId('http://localhost:1/seller/profile/card#me'), podRoot: 'http://localhost:1/seller/' },
      ownInfo: { name: 'Michiel' },
      counterpartyInfo: { name: 'George' },
    })).op.invoiceId;
    await device.write(invoiceId, 'AddToCart', { product: 'beans', quantity: 500 });
    const container = device.ownContainer(invoiceId);

    await server!.stop();
    const offline = await device.write(invoiceId, 'AddToCart', { product: 'beans', quantity: 20 });
    expect(offline.outbox.queued).toBe(1);
    expect(offline.outbox.error).toMatch(/could not be reached.*retry later.*stays in the outbox/s);
    // Accepted locally: the device already counts it, and a sync says it is still queued and the pod stale.
    expect((await device.view(invoiceId)).items[0]?.desired).toBe(520);
    const whileDown = await device.sync(invoiceId);
    expect(whileDown.outbox.queued).toBe(1);
    expect(whileDown.containers.every((report) => report.outcome === 'stale')).toBe(true);
    expect(whileDown.invoice.items[0]?.desired).toBe(520);

    // A new process (new Replica over the same files) after the pod comes back pushes the queued op.
    await start(false);
    const restarted = await replica();
    const synced = await restarted.sync(invoiceId);
    expect(synced.outbox).toEqual({ pushed: 1, queued: 0, error: null });
    const listing = await listContainer(session.fetch, container);
    expect(listing.notModified).toBe(false);
    const members = listing.notModified ? [] : listing.members;
    expect(members).toHaveLength(3);
    expect(members).toContain(`${container}${offline.op.id}`);
    expect(synced.invoice.items[0]?.desired).toBe(520);

    // Pushing the same op again (a retry after a lost answer) is a success and never a duplicate.
    await new FileDeviceStore(deviceDir).enqueue({ op: offline.op, container, queuedAt: new Date().toISOString() });
    expect((await restarted.pushOutbox(invoiceId)).pushed).toBe(1);
    const again = await listContainer(session.fetch, container);
    expect(again.notModified ? [] : again.members).toHaveLength(3);
    expect(await new FileDeviceStore(deviceDir).outbox()).toEqual([]);
  });
});
