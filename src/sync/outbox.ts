import { messageOf } from '../model/errors.ts';
import type { ContainerUrl, InvoiceId, OpId } from '../model/ids.ts';
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

/**
 * Tells the invoice's readers that a resource was put in its op container (change-feed.ts); throws when it could not.
 * `again`: the resource is put again after a failed try, and must be announced under new entries (see `put`).
 */
export type Announce = (invoiceId: InvoiceId, resourceUrl: string, again: boolean) => Promise<void>;

/**
 * Ops on their way from this device to its party's pod. An op is queued (durably, in the device's store) before
 * anything is sent, so a pod that is down or a crash loses nothing; pushing it again is harmless (a 412). It leaves
 * the outbox only once it is announced too, so a crash between the two never leaves an op that no feed names.
 */
export class Outbox {
  /** Ops queued by this outbox that no push has tried yet. */
  private readonly untried = new Set<OpId>();

  constructor(
    private readonly store: DeviceStore,
    private readonly fetchFn: typeof fetch,
    private readonly announce: Announce = async () => undefined,
    /** Whether a first try may put the entries with the op (see `put`); when not, they follow it. */
    private readonly atOnce: () => boolean = () => true,
  ) {}

  /** Queues ops made together: one op goes up alone, several as one pack (they share a batch label). */
  async enqueue(ops: readonly AnyOp[], container: ContainerUrl, queuedAt: string): Promise<void> {
    const label = ops.length > 1 ? { batch: `batch-${ops[0]!.id}` } : {};
    for (const op of ops) await this.store.enqueue({ op, container, queuedAt, ...label });
    for (const op of ops) this.untried.add(op.id);
  }

  /**
   * Puts queued ops on the pod: a batch as one pack, any other op alone. A pod that cannot take them now leaves them
   * queued: never lost, never doubled.
   */
  async push(invoiceId?: InvoiceId): Promise<OutboxReport> {
    const entries = await this.store.outbox(invoiceId);
    let pushed = 0;
    for (const group of outboxGroups(entries)) {
      const firstTry = group.map((entry) => this.untried.delete(entry.op.id)).every(Boolean);
      try {
        await this.put(group, firstTry);
      } catch (error) {
        const retry = isRetryable(error) ? ' It stays in the outbox; the next command or `fedinvoice sync` pushes it.' : ' It stays in the outbox.';
        return { pushed, queued: entries.length - pushed, error: messageOf(error) + retry };
      }
      for (const entry of group) await this.store.dequeue(entry.op.id);
      pushed += group.length;
    }
    return { pushed, queued: 0, error: null };
  }

  /**
   * Puts one group and announces it. On its first try the resource and its feed entries go up at once (a write
   * waits for one round trip, not two): a reader that lists an entry before its resource keeps the entry new until
   * a crawl lists the resource (feed-read.ts, `settleFeed`). A later try (the first failed, or was cut short)
   * puts the resource first and then announces it under new entries, so that even a reader that gave up on the
   * first entries learns of it; a first try before the pod's clock is known (`atOnce`) also puts the resource first.
   */
  private async put(group: readonly OutboxEntry[], firstTry: boolean): Promise<void> {
    const first = group[0]!;
    const { url, turtle } = group.length === 1 ? { url: `${first.container}${first.op.id}`, turtle: opToTurtle(first.op) } : this.pack(group);
    const invoiceId = first.op.invoiceId;
    if (firstTry && this.atOnce()) await allOrFirstError([putImmutable(this.fetchFn, url, turtle), this.announce(invoiceId, url, false)]);
    else {
      await putImmutable(this.fetchFn, url, turtle);
      await this.announce(invoiceId, url, !firstTry);
    }
    if (group.length > 1) await markSeen(this.store, invoiceId, first.container, url);
  }

  private pack(group: readonly OutboxEntry[]): { url: string; turtle: string } {
    const pack = packResource('pack', group.map((entry) => entry.op));
    return { url: `${group[0]!.container}${pack.name}`, turtle: pack.turtle };
  }
}

/** Waits for every request (none is left running), then throws the first failure, if any. */
async function allOrFirstError(requests: ReadonlyArray<Promise<unknown>>): Promise<void> {
  const failed = (await Promise.allSettled(requests)).find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
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
