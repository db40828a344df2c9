import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeOp } from '../../src/model/builder.ts';
import { ZERO_CLOCK } from '../../src/model/clock.ts';
import { asContainerUrl, asInvoiceId, type InvoiceId } from '../../src/model/ids.ts';
import type { AnyOp, SourcedOp } from '../../src/model/ops.ts';
import { FileDeviceStore } from '../../src/sync/file-store.ts';
import { emptyContainerState, MemoryDeviceStore, type DeviceStore } from '../../src/sync/store.ts';

// One contract for every DeviceStore (automerge-repo's pattern): what the Replica relies on, for each implementation.
const container = asContainerUrl('http://localhost:1/buyer/invoices/INV-S/ops/');
const invoiceId = asInvoiceId('INV-S');
const op = (text: string, at: number): AnyOp =>
  makeOp('Comment', { text }, { invoiceId, device: 'desktop', heads: [], latestClock: ZERO_CLOCK }, at) as AnyOp;
const sourced = (text: string, at = 1_764_000_000_000): SourcedOp => ({ op: op(text, at), container });
const temporaryDirs: string[] = [];

afterAll(async () => {
  for (const dir of temporaryDirs) await rm(dir, { recursive: true, force: true });
});

function deviceStoreContract(name: string, make: () => Promise<DeviceStore>) {
  describe(`DeviceStore contract: ${name}`, () => {
    it('saves, finds and lists invoice references', async () => {
      const store = await make();
      expect(await store.listInvoices()).toEqual([]);
      expect(await store.getInvoice(invoiceId)).toBeUndefined();
      const ref = { invoiceId, ownContainer: container, origin: container, seedContainers: [container] };
      await store.saveInvoice(ref);
      await store.saveInvoice({ ...ref, invoiceId: asInvoiceId('INV-A') });
      expect(await store.getInvoice(invoiceId)).toEqual(ref);
      expect((await store.listInvoices()).map((r) => r.invoiceId)).toEqual(['INV-A', 'INV-S']);
    });

    it('keeps every op once, with its container, and per invoice', async () => {
      const store = await make();
      const [a, b] = [sourced('a'), sourced('b')];
      await store.appendOps(invoiceId, [a]);
      await store.appendOps(invoiceId, [a, b]);
      const loaded = await store.loadOps(invoiceId);
      expect(loaded.map((s) => s.op.id).sort()).toEqual([a.op.id, b.op.id].sort());
      expect(loaded.every((s) => s.container === container)).toBe(true);
      expect(await store.loadOps(asInvoiceId('OTHER') as InvoiceId)).toEqual([]);
    });

    it('round-trips container states', async () => {
      const store = await make();
      expect(await store.loadContainerStates(invoiceId)).toEqual({});
      const states = { [container]: { ...emptyContainerState(), etag: '"1-text/turtle"', seen: [`${container}x`] } };
      await store.saveContainerStates(invoiceId, states);
      expect(await store.loadContainerStates(invoiceId)).toEqual(states);
    });

    it('queues, lists (oldest first, per invoice) and dequeues outbox entries', async () => {
      const store = await make();
      const first = { op: op('first', 1_764_000_000_000), container, queuedAt: '2026-11-21T07:00:00.000Z' };
      const second = { op: op('second', 1_764_000_000_001), container, queuedAt: '2026-11-21T07:00:01.000Z' };
      await store.enqueue(second);
      await store.enqueue(first);
      await store.enqueue(first);
      expect((await store.outbox(invoiceId)).map((e) => e.op.id)).toEqual([first.op.id, second.op.id]);
      expect(await store.outbox(asInvoiceId('OTHER'))).toEqual([]);
      await store.dequeue(first.op.id);
      expect((await store.outbox()).map((e) => e.op.id)).toEqual([second.op.id]);
    });
  });
}

deviceStoreContract('memory', async () => new MemoryDeviceStore());
deviceStoreContract('files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fedinvoice-store-'));
  temporaryDirs.push(dir);
  return new FileDeviceStore(dir);
});

describe('FileDeviceStore on disk', () => {
  it('keeps ops and the outbox readable by this user only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fedinvoice-store-'));
    temporaryDirs.push(dir);
    const store = new FileDeviceStore(dir);
    const a = sourced('private');
    await store.appendOps(invoiceId, [a]);
    await store.enqueue({ op: a.op, container, queuedAt: new Date().toISOString() });
    expect((await stat(join(dir, 'invoices', invoiceId, 'ops.jsonl'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'invoices', invoiceId))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'outbox', `${a.op.id}.json`))).mode & 0o777).toBe(0o600);
  });

  it('drops a line torn by a crash and a line edited by hand, keeping the rest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fedinvoice-store-'));
    temporaryDirs.push(dir);
    const store = new FileDeviceStore(dir);
    const [good, edited] = [sourced('good'), sourced('edited', 1_764_000_000_500)];
    await store.appendOps(invoiceId, [good, edited]);
    const path = join(dir, 'invoices', invoiceId, 'ops.jsonl');
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace('"text":"edited"', '"text":"changed by hand"'));
    await appendFile(path, '{"container":"http://localhost:1/x/","op":{"id":"ab');
    const loaded = await store.loadOps(invoiceId);
    expect(loaded.map((s) => s.op.id)).toEqual([good.op.id]);
  });
});
