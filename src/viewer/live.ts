/**
 * One invoice kept up to date for the viewer: a Replica.sync whenever a participant's op container announces
 * a change through Solid Notifications, and conditional polling (Replica.sync costs one 304 per unchanged
 * container) while any container has no open channel. A slow heartbeat poll runs even when every channel is
 * open, because a pod that dies without closing its sockets would otherwise never show as stale.
 *
 * Syncs never overlap: a change announced during a sync runs one more sync right after it.
 */
import { messageOf } from '../model/errors.ts';
import type { InvoiceId } from '../model/ids.ts';
import type { FoldedInvoice } from '../model/invoice.ts';
import type { Replica } from '../sync/replica.ts';
import { Subscriptions, type SubscriptionStatus } from './subscriptions.ts';

export interface PodStatus {
  readonly container: string;
  /** The last crawl's outcome; 'unknown' before the first crawl. */
  readonly outcome: 'unchanged' | 'updated' | 'stale' | 'unknown';
  /** Last successful read of the container (from the device's container state), ISO. */
  readonly lastSuccess: string | null;
  readonly error: string | null;
  /** Null when notifications are switched off. */
  readonly channel: SubscriptionStatus | null;
}

export interface InvoiceSnapshot {
  readonly invoice: FoldedInvoice;
  readonly pods: readonly PodStatus[];
  /** Resources in the crawled containers that are not valid ops, with why (seen this session). */
  readonly refused: ReadonlyArray<{ readonly url: string; readonly reason: string }>;
  readonly syncedAt: string | null;
  /** A sync that failed as a whole (not a pod being down: that is a stale PodStatus). */
  readonly syncError: string | null;
  /** Ops this device wrote that are still waiting for its pod. */
  readonly outboxQueued: number;
  /** How the viewer learns about changes right now. */
  readonly mode: 'notifications' | 'polling';
  readonly pollIntervalMs: number;
  /** Ops added by the sync that produced this snapshot. */
  readonly newOps: number;
}

export interface LiveInvoiceOptions {
  /** Subscribe through Solid Notifications (default true); false: polling only. */
  readonly notifications?: boolean;
  /** Polling interval while some container has no notification channel. Default 2000 ms. */
  readonly pollIntervalMs?: number;
  /** Polling interval while every container has an open channel. Default 10000 ms. */
  readonly heartbeatMs?: number;
  readonly now?: () => number;
  readonly log?: (message: string) => void;
}

export class LiveInvoice {
  private current: InvoiceSnapshot;
  private readonly listeners = new Set<(snapshot: InvoiceSnapshot) => void>();
  private readonly subscriptions: Subscriptions | null;
  private readonly refused = new Map<string, string>();
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly pollIntervalMs: number;
  private readonly heartbeatMs: number;
  private readonly now: () => number;
  private readonly counters = { syncs: 0, notifications: 0 };

  private constructor(
    private readonly replica: Replica,
    readonly invoiceId: InvoiceId,
    initial: FoldedInvoice,
    private readonly options: LiveInvoiceOptions,
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 2000;
    this.heartbeatMs = options.heartbeatMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.subscriptions =
      options.notifications === false
        ? null
        : new Subscriptions({
            fetch: replica.fetch,
            now: this.now,
            onChange: () => {
              this.counters.notifications++;
              void this.sync();
            },
            onStatus: (status) => {
              // A channel that drops may mean its pod went away: find out now rather than at the next poll. Not a
              // channel that failed to open: its pod was just read, and syncing again would only retry it again.
              const was = this.current.pods.find((pod) => pod.container === status.container)?.channel?.state;
              if (status.state === 'down' && was === 'live') void this.sync();
              options.log?.(`notifications for ${status.container}: ${status.state}${status.error ? ` (${status.error})` : ''}`);
              const pods = this.current.pods.map((pod) => (pod.container === status.container ? { ...pod, channel: status } : pod));
              this.publish({ ...this.current, pods, mode: this.mode(), newOps: 0 });
              this.schedule();
            },
          });
    this.current = {
      invoice: initial,
      pods: [],
      refused: [],
      syncedAt: null,
      syncError: null,
      outboxQueued: 0,
      mode: this.mode(),
      pollIntervalMs: this.pollIntervalMs,
      newOps: 0,
    };
  }

  /** Opens an invoice the replica knows: shows the local view at once, then the first sync resolves the promise. */
  static async open(replica: Replica, invoiceId: InvoiceId, options: LiveInvoiceOptions = {}): Promise<LiveInvoice> {
    const live = new LiveInvoice(replica, invoiceId, await replica.view(invoiceId), options);
    await live.sync();
    return live;
  }

  get snapshot(): InvoiceSnapshot {
    return this.current;
  }

  /** How many syncs ran, and how many were asked for by a notification (or a channel opening). */
  get stats(): { readonly syncs: number; readonly notifications: number } {
    return { ...this.counters };
  }

  /** Calls `listener` on every new snapshot; returns the unsubscribe function. */
  onSnapshot(listener: (snapshot: InvoiceSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Fetches what is new (or queues one more sync if one is running) and resolves when the view includes it. */
  sync(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.syncOnce();
        } while (this.again && !this.stopped);
      } finally {
        this.running = null;
        this.schedule();
      }
    })();
    return this.running;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.subscriptions?.close();
    this.listeners.clear();
  }

  private mode(pods: readonly PodStatus[] | undefined = this.current?.pods): InvoiceSnapshot['mode'] {
    return this.subscriptions && pods?.length && this.subscriptions.allLive ? 'notifications' : 'polling';
  }

  private schedule(): void {
    if (this.stopped || this.running) return;
    if (this.timer) clearTimeout(this.timer);
    const wait = this.mode() === 'notifications' ? this.heartbeatMs : this.pollIntervalMs;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.sync();
    }, wait);
    this.timer.unref?.();
  }

  private async syncOnce(): Promise<void> {
    let result;
    this.counters.syncs++;
    try {
      result = await this.replica.sync(this.invoiceId);
    } catch (error) {
      this.publish({ ...this.current, syncError: messageOf(error), syncedAt: new Date(this.now()).toISOString(), newOps: 0 });
      return;
    }
    if (this.stopped) return;
    let states: Awaited<ReturnType<Replica['containerStates']>> = {};
    try {
      states = await this.replica.containerStates(this.invoiceId);
    } catch {
      // Only the "since" of a stale banner depends on it.
    }
    const reports = new Map<string, { outcome: PodStatus['outcome']; error: string | null }>();
    for (const report of result.containers) {
      reports.set(report.container, { outcome: report.outcome, error: report.error });
      for (const refused of report.refused) this.refused.set(refused.url, refused.reason);
      if (report.outcome !== 'stale') {
        this.subscriptions?.watch(report.container);
        // The pod answers: if its channel is down, reopen it now rather than after the backoff.
        this.subscriptions?.retry(report.container, report.newOps > 0);
      } else {
        this.subscriptions?.watch(report.container);
        this.subscriptions?.suspend(report.container, report.error ?? 'the pod cannot be reached');
      }
    }
    const pods: PodStatus[] = [...reports].map(([container, report]) => ({
      container,
      outcome: report.outcome,
      lastSuccess: states[container]?.lastSuccess ?? null,
      error: report.error,
      channel: this.subscriptions?.status(container) ?? null,
    }));
    this.publish({
      invoice: result.invoice,
      pods,
      refused: [...this.refused].map(([url, reason]) => ({ url, reason })),
      syncedAt: new Date(this.now()).toISOString(),
      syncError: null,
      outboxQueued: result.outbox.queued,
      mode: this.mode(),
      pollIntervalMs: this.pollIntervalMs,
      newOps: result.newOps,
    });
  }

  private publish(snapshot: InvoiceSnapshot): void {
    this.current = { ...snapshot, mode: this.mode(snapshot.pods) };
    if (this.stopped) return;
    for (const listener of this.listeners) {
      try {
        listener(this.current);
      } catch (error) {
        this.options.log?.(`a viewer listener failed: ${messageOf(error)}`);
      }
    }
  }
}
