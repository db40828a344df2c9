import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileDeviceStore, MemoryDeviceStore } from 'fedinvoice';
import { runDeviceStoreTests } from 'fedinvoice/store-contract';
import { makeOp } from '../../src/model/builder.ts';
import { ZERO_CLOCK } from '../../src/model/clock.ts';
import { asContainerUrl, asInvoiceId } from '../../src/model/ids.ts';
import type { AnyOp, SourcedOp } from '../../src/model/ops.ts';

// The exported DeviceStore contract (imported by package name, as an embedder would) on both of the project's stores.
const temporaryDirs: string[] = [];

afterAll(async () => {
  for (const dir of temporaryDirs) await rm(dir, { recursive: true, force: true });
});

runDeviceStoreTests('memory', async () => new MemoryDeviceStore(), { describe, it });
runDeviceStoreTests('files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fedinvoice-store-'));
  temporaryDirs.push(dir);
  return new FileDeviceStore(dir);
}, { describe, it });

const container = asContainerUrl('http://localhost:1/buyer/invoices/INV-S/ops/');
const invoiceId = asInvoiceId('INV-S');
const op = (text: string, at: number): AnyOp =>
  makeOp('Comment', { text }, { invoiceId, device: 'desktop', heads: [], latestClock: ZERO_CLOCK }, at) as AnyOp;
const sourced = (text: string, at = 1_764_000_000_000): SourcedOp => ({ op: op(text, at), container });

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
