import { messageOf } from '../model/errors.ts';
import { sha256Hex } from '../model/hash.ts';
import { asContainerUrl, isInvoiceId, type ContainerUrl, type InvoiceId, type WebId } from '../model/ids.ts';
import { setInvoiceAccess } from '../pod/acl.ts';
import { listContainer, putImmutable } from '../pod/resources.ts';
import type { ContainerState, FeedState } from './store.ts';

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

/**
 * The entry announcing that `resourceUrl` (an op, pack or checkpoint in the invoice's op container) was written;
 * `againAt` (ms), for a resource put again after a failed try: a new entry, `<invoice key>~<resource>~<time>`.
 */
export const feedEntryOf = (feed: ContainerUrl, invoiceId: InvoiceId, resourceUrl: string, againAt?: number): string =>
  `${feed}${invoiceId}${SEPARATOR}${resourceUrl.slice(resourceUrl.lastIndexOf('/') + 1)}${againAt === undefined ? '' : `${SEPARATOR}${againAt.toString(36)}`}`;

/** The name of the resource an entry announces (in an op container of its invoice on the feed's pod), or null. */
export function resourceOfEntry(feed: ContainerUrl, entryUrl: string): string | null {
  const parts = entryUrl.slice(feed.length).split(SEPARATOR);
  return parts.length >= 2 && parts[1] ? parts[1] : null;
}

/** The pod a feed is on: feeds are `<pod>changes/<reader>/`. */
export const podOfFeed = (feed: ContainerUrl): string => feed.replace(/changes\/[^/]*\/$/, '');

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
  againAt?: number,
): Promise<string[]> {
  const turtle = `<> <${FEED_PREDICATE}> <${resourceUrl}> .\n`;
  const entries = [...new Set(readers)].map((reader) => feedEntryOf(feedOf(podRoot, reader), invoiceId, resourceUrl, againAt));
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

/**
 * How long an entry stays new while no crawl of its pod lists the resource it names. A writer puts an op and its
 * entries at once, so a reader can list an entry a moment before its op: it keeps the entry until a crawl lists the
 * op. An entry that names nothing for this long (its writer stopped mid-write, or a counterparty writes entries for
 * nothing) stops costing a crawl per command; a writer that puts the op later announces it under a new entry.
 */
export const PENDING_ENTRY_MS = 10 * 60_000;

/**
 * What a device did with an entry's news: `handled`, the invoice was synced and a crawl listed the resource;
 * `unsynced`, the invoice was not synced (or its crawl failed); `unlisted`, synced, but no crawl listed the resource.
 */
export type EntryOutcome = 'handled' | 'unsynced' | 'unlisted';

/**
 * A feed's state once its news was acted on. Handled entries count as seen; the others stay new, and the next read
 * lists the feed in full again (no ETag) to find them. `unlisted` entries are kept as `pending` (with when they were
 * first found so) for at most PENDING_ENTRY_MS.
 */
export function settleFeed(
  read: FeedRead,
  previous: FeedState | undefined,
  outcome: (invoiceId: InvoiceId, resource: string | null) => EntryOutcome,
  now: number,
): FeedState {
  const unhandled = new Set<string>();
  const pending: Record<string, string> = {};
  for (const [invoiceId, entries] of read.entries) {
    for (const entry of entries) {
      const result = outcome(invoiceId, resourceOfEntry(read.feed, entry));
      if (result === 'handled') continue;
      if (result === 'unlisted') {
        const since = previous?.pending?.[entry] ?? new Date(now).toISOString();
        if (now - Date.parse(since) >= PENDING_ENTRY_MS) continue;
        pending[entry] = since;
      }
      unhandled.add(entry);
    }
  }
  const { etag, seen } = read.state;
  if (unhandled.size === 0) return read.state.pending ? { etag, seen } : read.state;
  return { etag: null, seen: seen.filter((entry) => !unhandled.has(entry)), ...(Object.keys(pending).length > 0 && { pending }) };
}

/** Whether the last crawl of an op container of the invoice on `pod` listed `resource` (fetched, held or refused it). */
export function isListed(states: Readonly<Record<string, ContainerState>>, pod: string, resource: string): boolean {
  return Object.entries(states).some(([container, state]) => {
    if (!container.startsWith(pod)) return false;
    const url = `${container}${resource}`;
    return state.seen.includes(url) || state.refused.some((refusal) => refusal.url === url) || (state.checkpoints ?? []).includes(resource);
  });
}
