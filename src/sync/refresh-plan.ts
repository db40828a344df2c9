import type { InvoiceId } from '../model/ids.ts';

/** What one feed told about its pod: nothing new, new entries per invoice, or nothing usable (absent or failed). */
export type FeedNews = { readonly usable: false } | { readonly usable: true; readonly changed: ReadonlySet<InvoiceId> };

export interface KnownInvoice {
  readonly invoiceId: InvoiceId;
  /** The pods of its participants as of this device's last sync of it; null if it was never synced with feeds. */
  readonly pods: readonly string[] | null;
}

export interface RefreshPlan {
  /** Invoices to sync whole: a pod of theirs has no usable feed, or this device never recorded their pods. */
  readonly whole: InvoiceId[];
  /** Invoices to sync on the pods whose feeds named them only. */
  readonly targeted: Array<{ readonly invoiceId: InvoiceId; readonly pods: string[] }>;
}

/**
 * Which invoices a refresh syncs, and where, from what each pod's feed said (pure: change-feed.ts reads the feeds).
 * An invoice untouched by every feed costs nothing; one a feed names costs a crawl of its container on that pod; one
 * whose feed cannot be trusted to have said everything (absent, failed, or pods unknown) is synced as before.
 */
export function planRefresh(invoices: readonly KnownInvoice[], news: ReadonlyMap<string, FeedNews>): RefreshPlan {
  const whole: InvoiceId[] = [];
  const targeted: Array<{ invoiceId: InvoiceId; pods: string[] }> = [];
  for (const { invoiceId, pods } of invoices) {
    if (!pods || pods.some((pod) => news.get(pod)?.usable !== true)) {
      whole.push(invoiceId);
      continue;
    }
    const changedOn = pods.filter((pod) => {
      const feed = news.get(pod);
      return feed?.usable === true && feed.changed.has(invoiceId);
    });
    if (changedOn.length) targeted.push({ invoiceId, pods: changedOn });
  }
  return { whole, targeted };
}
