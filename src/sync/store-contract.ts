/**
 * The DeviceStore contract: what a Replica relies on, as tests any store must pass (automerge-repo's pattern for
 * storage adapters). An embedder that keeps devices in its own database runs it against its store:
 *
 *   import { describe, it } from 'vitest';            // or jest, mocha, node:test: anything with describe and it
 *   import { runDeviceStoreTests } from 'fedinvoice/store-contract';
 *   runDeviceStoreTests('my ERP store', async () => new MyDeviceStore(freshDatabase()), { describe, it });
 *
 * `makeStore` must give an empty store on every call. Failures throw node:assert's AssertionError.
 */
import assert from 'node:assert/strict';
import { makeOp } from '../model/builder.ts';
import { ZERO_CLOCK } from '../model/clock.ts';
import { asContainerUrl, asInvoiceId } from '../model/ids.ts';
import type { AnyOp, SourcedOp } from '../model/ops.ts';
import { emptyContainerState, type DeviceStore, type OutboxEntry } from './store.ts';

/** The two functions of the embedder's test runner the suite needs. */
export interface TestRunner {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>): unknown;
}

const container = asContainerUrl('http://localhost:1/buyer/invoices/INV-S/ops/');
const invoiceId = asInvoiceId('INV-S');
const otherInvoice = asInvoiceId('OTHER');
const op = (text: string, at: number): AnyOp =>
  makeOp('Comment', { text }, { invoiceId, device: 'desktop', heads: [], latestClock: ZERO_CLOCK }, at) as AnyOp;
const sourced = (text: string, at = 1_764_000_000_000): SourcedOp => ({ op: op(text, at), container });
const queued = (text: string, at: number, queuedAt: string, batch?: string): OutboxEntry => ({
  op: op(text, at),
  container,
  queuedAt,
  ...(batch ? { batch } : {}),
});
/** Compared as stored data: a property set to undefined is the same as one left out. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? null));
const same = (actual: unknown, expected: unknown, what: string) => assert.deepStrictEqual(plain(actual), plain(expected), what);

const checks: Record<string, (store: DeviceStore) => Promise<void>> = {
  'saves, finds and lists invoice references': async (store) => {
    same(await store.listInvoices(), [], 'a new store lists no invoice');
    assert.equal(await store.getInvoice(invoiceId), undefined, 'a new store finds no invoice');
    const ref = { invoiceId, ownContainer: container, origin: container, seedContainers: [container] };
    await store.saveInvoice(ref);
    await store.saveInvoice({ ...ref, invoiceId: asInvoiceId('INV-A') });
    same(await store.getInvoice(invoiceId), ref, 'getInvoice gives back what saveInvoice saved');
    same((await store.listInvoices()).map((r) => r.invoiceId), ['INV-A', 'INV-S'], 'listInvoices is sorted by invoice id');
    if (store.invoiceIds) {
      const ids = await store.invoiceIds();
      assert.ok(['INV-A', 'INV-S'].every((id) => ids.includes(asInvoiceId(id))), 'invoiceIds (optional) names every invoice listInvoices gives');
    }
  },

  'keeps every op once, with its container, and per invoice': async (store) => {
    const [a, b] = [sourced('a'), sourced('b')];
    await store.appendOps(invoiceId, [a]);
    await store.appendOps(invoiceId, [a, b]);
    const loaded = await store.loadOps(invoiceId);
    same(loaded.map((s) => s.op.id).sort(), [a.op.id, b.op.id].sort(), 'an op appended twice is kept once');
    assert.ok(loaded.every((s) => s.container === container), 'each op keeps the container it was read from');
    same(await store.loadOps(otherInvoice), [], 'ops are kept per invoice');
  },

  'round-trips container states': async (store) => {
    same(await store.loadContainerStates(invoiceId), {}, 'a new store knows no container');
    const states = { [container]: { ...emptyContainerState(), etag: '"1-text/turtle"', seen: [`${container}x`], checkpoints: ['checkpoint-2-ab'] } };
    await store.saveContainerStates(invoiceId, states);
    same(await store.loadContainerStates(invoiceId), states, 'loadContainerStates gives back what was saved');
  },

  'round-trips the change feeds it follows': async (store) => {
    same(await store.loadFeeds(), {}, 'a new store follows no feed');
    const day = { etag: '"2-text/turtle"', seen: ['http://localhost:1/seller/changes/ab/2026-12-07/INV-S~x'] };
    const feeds = { 'http://localhost:1/seller/changes/ab/': { at: 1_796_000_000_000, days: { '2026-12-07': day }, pending: {} } };
    await store.saveFeeds(feeds);
    same(await store.loadFeeds(), feeds, 'loadFeeds gives back what was saved');
  },

  'queues, lists (oldest first, per invoice) and dequeues outbox entries': async (store) => {
    const first = queued('first', 1_764_000_000_000, '2026-11-21T07:00:00.000Z');
    const second = queued('second', 1_764_000_000_001, '2026-11-21T07:00:01.000Z');
    await store.enqueue(second);
    await store.enqueue(first);
    await store.enqueue(first);
    same((await store.outbox(invoiceId)).map((e) => e.op.id), [first.op.id, second.op.id], 'the outbox lists oldest first, each op once');
    same(await store.outbox(otherInvoice), [], 'the outbox is filtered by invoice');
    await store.dequeue(first.op.id);
    same((await store.outbox()).map((e) => e.op.id), [second.op.id], 'dequeue removes the op');
  },

  'keeps the batch label of ops queued together, ordered by op id': async (store) => {
    const at = '2026-11-21T07:00:00.000Z';
    const batch = [queued('x', 1_764_000_000_000, at, 'batch-1'), queued('y', 1_764_000_000_000, at, 'batch-1')];
    for (const entry of batch) await store.enqueue(entry);
    const listed = await store.outbox(invoiceId);
    same(listed.map((e) => e.op.id), batch.map((e) => e.op.id).sort(), 'entries queued together are ordered by op id');
    same(listed.map((e) => e.batch), ['batch-1', 'batch-1'], 'the batch label is kept');
  },
};

/** Registers the contract's tests for one store implementation; `makeStore` gives a new, empty store each time. */
export function runDeviceStoreTests(name: string, makeStore: () => Promise<DeviceStore>, { describe, it }: TestRunner): void {
  describe(`DeviceStore contract: ${name}`, () => {
    for (const [title, check] of Object.entries(checks)) it(title, async () => check(await makeStore()));
  });
}
