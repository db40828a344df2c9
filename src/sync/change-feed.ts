import { messageOf } from '../model/errors.ts';
import { sha256Hex } from '../model/hash.ts';
import { asContainerUrl, isInvoiceId, type ContainerUrl, type InvoiceId, type WebId } from '../model/ids.ts';
import { setInvoiceAccess } from '../pod/acl.ts';
import { listContainer, putImmutable } from '../pod/resources.ts';
import type { FeedState } from './store.ts';

/**
 * Change feeds: how a device learns which of its many invoices changed with one request per counterparty, not one
 * per invoice (docs/many-invoices.md).
 *
 * Each business keeps, on its own pod, one feed container per reader: `<pod>changes/<hash of the reader's WebID>/`,
 * readable by that reader alone (and its own devices: the business's own WebID has a feed too). Whenever one of its
 * devices puts ops in an invoice's op container, it also puts an empty, immutable entry `<invoice key>~<resource>`
 * in the feed of every reader of that invoice. A reader lists each feed it follows (a conditional GET: a 304 when
 * nothing changed; without ETags the whole listing, still one request) and crawls only the invoices and pods that
 * have entries it has not seen. An entry is only a hint: it can make a device crawl an invoice it already knows,
 * never add an op or reveal one; the ops are still read and judged from the participants' op containers.
 */
const FEED_PREDICATE = 'https://w3id.org/fedinvoice/ns#changed';
const SEPARATOR = '~';

/** The feed on `podRoot` that `reader` follows. */
export const feedOf = (podRoot: string, reader: WebId): ContainerUrl => asContainerUrl(`${podRoot}changes/${sha256Hex(reader).slice(0, 32)}/`);

/** The entry announcing that `resourceUrl` (an op, pack or checkpoint in the invoice's op container) was written. */
export const feedEntryOf = (feed: ContainerUrl, invoiceId: InvoiceId, resourceUrl: string): string =>
  `${feed}${invoiceId}${SEPARATOR}${resourceUrl.slice(resourceUrl.lastIndexOf('/') + 1)}`;

/** The invoice a feed entry names, or null for a member that is not an entry. */
export function invoiceOfEntry(feed: ContainerUrl, entryUrl: string): InvoiceId | null {
  if (!entryUrl.startsWith(feed)) return null;
  const name = entryUrl.slice(feed.length);
  const key = name.slice(0, name.indexOf(SEPARATOR));
  return key && isInvoiceId(key) ? key : null;
}

/** Puts the entries announcing `resourceUrl` in each reader's feed on this party's pod (in parallel). */
export async function announce(
  fetchFn: typeof fetch,
  podRoot: string,
  invoiceId: InvoiceId,
  resourceUrl: string,
  readers: readonly WebId[],
): Promise<string[]> {
  const turtle = `<> <${FEED_PREDICATE}> <${resourceUrl}> .\n`;
  const entries = [...new Set(readers)].map((reader) => feedEntryOf(feedOf(podRoot, reader), invoiceId, resourceUrl));
  await Promise.all(entries.map((entry) => putImmutable(fetchFn, entry, turtle)));
  return entries;
}

/**
 * Creates `reader`'s feed on this party's pod, readable by `reader` alone besides the owner (the owner's own feed:
 * by nobody else). A feed that exists promises that this party's devices announce every write there; one that does
 * not (404) makes readers sync this party's invoices one by one. Idempotent.
 */
export async function openFeed(fetchFn: typeof fetch, podRoot: string, owner: WebId, reader: WebId): Promise<void> {
  await setInvoiceAccess(fetchFn, feedOf(podRoot, reader), owner, reader === owner ? [] : [reader]);
}

export interface FeedRead {
  readonly feed: ContainerUrl;
  /**
   * 'unchanged': nothing new; 'changed': `entries` are new; 'absent': no feed there (404: the party's devices do not
   * announce their writes to this reader), so its invoices are synced one by one; 'failed': the same, `error` says why.
   */
  readonly outcome: 'unchanged' | 'changed' | 'absent' | 'failed';
  /** New entries, by the invoice they name (entries naming no invoice are ignored). */
  readonly entries: ReadonlyMap<InvoiceId, readonly string[]>;
  /** The feed's state once every new entry is handled. */
  readonly state: FeedState;
  readonly error: string | null;
}

export const emptyFeedState = (): FeedState => ({ etag: null, seen: [] });

/** Lists one feed (conditionally) and tells what is new since `previous`. Never throws. */
export async function readFeed(fetchFn: typeof fetch, feed: ContainerUrl, previous: FeedState): Promise<FeedRead> {
  const entries = new Map<InvoiceId, string[]>();
  try {
    const listing = await listContainer(fetchFn, feed, { etag: previous.etag });
    if (listing.notModified) return { feed, outcome: 'unchanged', entries, state: previous, error: null };
    if (listing.absent) return { feed, outcome: 'absent', entries, state: previous, error: null };
    const seen = new Set(previous.seen);
    for (const member of listing.members) {
      const invoiceId = seen.has(member) ? null : invoiceOfEntry(feed, member);
      if (invoiceId) entries.set(invoiceId, [...(entries.get(invoiceId) ?? []), member]);
    }
    const state = { etag: listing.etag, seen: listing.members };
    return { feed, outcome: entries.size ? 'changed' : 'unchanged', entries, state, error: null };
  } catch (error) {
    return { feed, outcome: 'failed', entries, state: previous, error: messageOf(error) };
  }
}
