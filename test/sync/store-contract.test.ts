import { describe, expect, it } from 'vitest';
import type { OpId } from '../../src/model/ids.ts';
import type { OutboxEntry } from '../../src/sync/store.ts';
import { MemoryDeviceStore } from '../../src/sync/store.ts';
import { runDeviceStoreTests, type TestRunner } from '../../src/sync/store-contract.ts';

// The contract suite itself: it passes a correct store and catches stores that break what the Replica relies on.
async function verdicts(makeStore: () => Promise<MemoryDeviceStore>): Promise<Record<string, string>> {
  const tests: Array<{ title: string; body: () => Promise<void> }> = [];
  const runner: TestRunner = { describe: (_name, body) => body(), it: (title, body) => tests.push({ title, body }) };
  runDeviceStoreTests('under test', makeStore, runner);
  const result: Record<string, string> = {};
  for (const { title, body } of tests) result[title] = await body().then(() => 'pass', (error: Error) => `fail: ${error.message.split('\n')[0]}`);
  return result;
}

/** Lists the outbox newest first. */
class NewestFirstStore extends MemoryDeviceStore {
  override async outbox(invoiceId?: Parameters<MemoryDeviceStore['outbox']>[0]): Promise<OutboxEntry[]> {
    return (await super.outbox(invoiceId)).reverse();
  }
}

/** Loses the batch label, so a batch would go up as single ops. */
class LabelLosingStore extends MemoryDeviceStore {
  override async enqueue(entry: OutboxEntry): Promise<void> {
    await super.enqueue({ op: entry.op, container: entry.container, queuedAt: entry.queuedAt });
  }
}

/** Never forgets a queued op. */
class StickyStore extends MemoryDeviceStore {
  override async dequeue(_opId: OpId): Promise<void> {}
}

/** Names no invoice among its ids, so a command could never resolve an invoice number. */
class IdlessStore extends MemoryDeviceStore {
  override async invoiceIds(): Promise<never[]> {
    return [];
  }
}

describe('runDeviceStoreTests', () => {
  it('passes every check on a correct store', async () => {
    const result = await verdicts(async () => new MemoryDeviceStore());
    expect(Object.keys(result)).toHaveLength(6);
    expect(Object.values(result).every((verdict) => verdict === 'pass')).toBe(true);
  });

  it('fails the checks a broken store breaks, naming what broke', async () => {
    const order = await verdicts(async () => new NewestFirstStore());
    expect(order['queues, lists (oldest first, per invoice) and dequeues outbox entries']).toMatch(/^fail: the outbox lists oldest first/);
    expect(order['keeps the batch label of ops queued together, ordered by op id']).toMatch(/^fail: entries queued together are ordered by op id/);
    expect(order['saves, finds and lists invoice references']).toBe('pass');
    const labels = await verdicts(async () => new LabelLosingStore());
    expect(labels['keeps the batch label of ops queued together, ordered by op id']).toMatch(/^fail: the batch label is kept/);
    const sticky = await verdicts(async () => new StickyStore());
    expect(sticky['queues, lists (oldest first, per invoice) and dequeues outbox entries']).toMatch(/^fail: dequeue removes the op/);
    const idless = await verdicts(async () => new IdlessStore());
    expect(idless['saves, finds and lists invoice references']).toMatch(/^fail: invoiceIds \(optional\) names every invoice/);
  });
});
