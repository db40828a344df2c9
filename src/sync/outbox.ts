import { messageOf } from '../model/errors.ts';
import type { ContainerUrl, InvoiceId } from '../model/ids.ts';
import type { AnyOp } from '../model/ops.ts';
import { isRetryable } from '../pod/http-error.ts';
import { putImmutable } from '../pod/resources.ts';
import { opToTurtle } from '../rdf/codec.ts';
import { packResource } from './packs.ts';
import { markSeen, type DeviceStore, type OutboxEntry } from './store.ts';

export interface OutboxReport {
  readonly pushed: number;
  /** Ops still waiting in the outbox (the pod could not take them now). */
  readonly queued: number;
  readonly error: string | null;
}

/** Tells the invoice's readers that a resource was put in its op container (change-feed.ts); throws when it could not. */
export type Announce = (invoiceId: InvoiceId, resourceUrl: string) => Promise<void>;

/**
 * Ops on their way from this device to its party's pod. An op is queued (durably, in the device's store) before
 * anything is sent, so a pod that is down or a crash loses nothing; pushing it again is harmless (a 412). It leaves
 * the outbox only once it is announced too, so a crash between the two never leaves an op that no feed names.
 */
export class Outbox {
  constructor(
    private readonly store: DeviceStore,
    private readonly fetchFn: typeof fetch,
    private readonly announce: Announce = async () => undefined,
  ) {}

  /** Queues ops made together: one op goes up alone, several as one pack (they share a batch label). */
  async enqueue(ops: readonly AnyOp[], container: ContainerUrl, queuedAt: string): Promise<void> {
    const label = ops.length > 1 ? { batch: `batch-${ops[0]!.id}` } : {};
    for (const op of ops) await this.store.enqueue({ op, container, queuedAt, ...label });
  }

  /**
   * Puts queued ops on the pod: a batch as one pack, any other op alone. A pod that cannot take them now leaves them
   * queued: never lost, never doubled.
   */
  async push(invoiceId?: InvoiceId): Promise<OutboxReport> {
    const entries = await this.store.outbox(invoiceId);
    let pushed = 0;
    for (const group of outboxGroups(entries)) {
      try {
        await this.put(group);
      } catch (error) {
        const retry = isRetryable(error) ? ' It stays in the outbox; the next command or `fedinvoice sync` pushes it.' : ' It stays in the outbox.';
        return { pushed, queued: entries.length - pushed, error: messageOf(error) + retry };
      }
      for (const entry of group) await this.store.dequeue(entry.op.id);
      pushed += group.length;
    }
    return { pushed, queued: 0, error: null };
  }

  private async put(group: readonly OutboxEntry[]): Promise<void> {
    const first = group[0]!;
    if (group.length === 1) {
      const url = `${first.container}${first.op.id}`;
      await putImmutable(this.fetchFn, url, opToTurtle(first.op));
      await this.announce(first.op.invoiceId, url);
      return;
    }
    const pack = packResource('pack', group.map((entry) => entry.op));
    const url = `${first.container}${pack.name}`;
    await putImmutable(this.fetchFn, url, pack.turtle);
    await markSeen(this.store, first.op.invoiceId, first.container, url);
    await this.announce(first.op.invoiceId, url);
  }
}

/**
 * The outbox in the order it is pushed: each op alone, except that the ops of one batch go together, in the place
 * of the first one. A batch cut short by a crash is a smaller group (its pack is named by what it holds).
 */
export function outboxGroups(entries: readonly OutboxEntry[]): OutboxEntry[][] {
  const groups: OutboxEntry[][] = [];
  const batches = new Map<string, OutboxEntry[]>();
  for (const entry of entries) {
    const key = entry.batch ? `${entry.container} ${entry.batch}` : undefined;
    const group = key ? batches.get(key) : undefined;
    if (group) {
      group.push(entry);
      continue;
    }
    const fresh = [entry];
    groups.push(fresh);
    if (key) batches.set(key, fresh);
  }
  return groups;
}
