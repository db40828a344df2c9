import { describe, expect, it } from 'vitest';
import { makeOp } from '../../src/model/builder.ts';
import { ZERO_CLOCK } from '../../src/model/clock.ts';
import { asContainerUrl, asInvoiceId } from '../../src/model/ids.ts';
import type { AnyOp } from '../../src/model/ops.ts';
import { Outbox, outboxGroups } from '../../src/sync/outbox.ts';
import { MemoryDeviceStore, type OutboxEntry } from '../../src/sync/store.ts';

// How queued ops are grouped for the pod, without one: pushing them is tested on a real pod in outbox.test.ts.
const invoiceId = asInvoiceId('INV-Q');
const mine = asContainerUrl('https://buyer.example/invoices/INV-Q/ops/');
const other = asContainerUrl('https://buyer.example/invoices/INV-R/ops/');
const op = (text: string): AnyOp => makeOp('Comment', { text }, { invoiceId, device: 'desktop', heads: [], latestClock: ZERO_CLOCK }, 1_764_000_000_000) as AnyOp;
const entry = (text: string, batch?: string, container = mine): OutboxEntry => ({ op: op(text), container, queuedAt: '2026-11-21T07:00:00.000Z', ...(batch ? { batch } : {}) });
const texts = (groups: OutboxEntry[][]) => groups.map((group) => group.map((e) => (e.op.payload as { text: string }).text));

describe('outboxGroups', () => {
  it('pushes a lone op alone and a batch together, in the place of its first op', () => {
    const entries = [entry('a'), entry('b1', 'batch-1'), entry('c'), entry('b2', 'batch-1'), entry('d', 'batch-2')];
    expect(texts(outboxGroups(entries))).toEqual([['a'], ['b1', 'b2'], ['c'], ['d']]);
  });

  it('keeps the same label in two containers apart: a pack lives in one container', () => {
    expect(texts(outboxGroups([entry('x', 'batch-1'), entry('y', 'batch-1', other)]))).toEqual([['x'], ['y']]);
    expect(outboxGroups([])).toEqual([]);
  });
});

describe('Outbox.enqueue', () => {
  it('labels ops made together as one batch, and leaves a single op unlabelled', async () => {
    const store = new MemoryDeviceStore();
    const outbox = new Outbox(store, fetch);
    const batch = [op('1'), op('2'), op('3')];
    await outbox.enqueue([op('alone')], mine, '2026-11-21T07:00:00.000Z');
    await outbox.enqueue(batch, mine, '2026-11-21T07:00:01.000Z');
    const queued = await store.outbox(invoiceId);
    expect(queued.map((e) => e.batch)).toEqual([undefined, ...batch.map(() => `batch-${batch[0]!.id}`)]);
    expect(texts(outboxGroups(queued))).toEqual([['alone'], expect.arrayContaining(['1', '2', '3'])]);
  });
});
