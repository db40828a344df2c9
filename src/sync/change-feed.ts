import { sha256Hex } from '../model/hash.ts';
import { asContainerUrl, isInvoiceId, type ContainerUrl, type InvoiceId, type WebId } from '../model/ids.ts';
import { setInvoiceAccess } from '../pod/acl.ts';
import { putImmutable } from '../pod/resources.ts';

/**
 * Change feeds: how a device learns which of its many invoices changed with one request per counterparty, not one
 * per invoice (docs/many-invoices.md). This file names feeds and entries and writes them; feed-read.ts reads them.
 *
 * Each business keeps, on its own pod, one feed container per reader: `<pod>changes/<hash of the reader's WebID>/`,
 * readable by that reader alone (and its own devices: the business's own WebID has a feed too). Whenever one of its
 * devices puts ops in an invoice's op container, it also puts an empty, immutable entry `<invoice key>~<resource>`
 * in the feed of every reader of that invoice, in the feed's container for the day (UTC, by the pod server's clock)
 * it is written: `<feed><YYYY-MM-DD>/<invoice key>~<resource>`. A reader lists the day containers since its last
 * read (most often today's alone: one conditional GET, a 304 when nothing changed), so what a read costs follows
 * what changed that day, not the feed's history; it crawls only the invoices and pods that have entries it has not
 * seen. An entry is only a hint: it can make a device crawl an invoice it already knows, never add an op or reveal
 * one; the ops are still read and judged from the participants' op containers.
 */
const FEED_PREDICATE = 'https://w3id.org/fedinvoice/ns#changed';
const SEPARATOR = '~';

/**
 * How late an entry may reach its day container after the time it is dated: a reader lists the days from this long
 * before its last read on. A write whose entries took longer announces them again (replica.ts, `announceWrite`).
 */
export const FEED_DAY_MARGIN_MS = 10 * 60_000;

/** The feed on `podRoot` that `reader` follows. */
export const feedOf = (podRoot: string, reader: WebId): ContainerUrl => asContainerUrl(`${podRoot}changes/${sha256Hex(reader).slice(0, 32)}/`);

/** The pod a feed is on: feeds are `<pod>changes/<reader>/`. */
export const podOfFeed = (feed: ContainerUrl): string => feed.replace(/changes\/[^/]*\/$/, '');

/** The UTC day of a time (ms), as a feed's day containers are named. */
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** A feed's container for one day. */
export const dayContainerOf = (feed: ContainerUrl, day: string): ContainerUrl => asContainerUrl(`${feed}${day}/`);

/**
 * The entry announcing that `resourceUrl` (an op, pack or checkpoint in the invoice's op container) was written, dated
 * `datedAt` (ms, the pod server's clock); `againAt` (ms), for a resource announced again: a new entry,
 * `<invoice key>~<resource>~<time>`.
 */
export function feedEntryOf(feed: ContainerUrl, invoiceId: InvoiceId, resourceUrl: string, datedAt: number, againAt?: number): string {
  const resource = resourceUrl.slice(resourceUrl.lastIndexOf('/') + 1);
  const again = againAt === undefined ? '' : `${SEPARATOR}${againAt.toString(36)}`;
  return `${dayContainerOf(feed, dayOf(datedAt))}${invoiceId}${SEPARATOR}${resource}${again}`;
}

/** The day an entry of `feed` was dated: the name of its day container. */
export const dayOfEntry = (feed: ContainerUrl, entryUrl: string): string => entryUrl.slice(feed.length, feed.length + 'YYYY-MM-DD'.length);

const nameOf = (entryUrl: string): string => entryUrl.slice(entryUrl.lastIndexOf('/') + 1);

/** The invoice an entry names, or null for a member that is not an entry. */
export function invoiceOfEntry(entryUrl: string): InvoiceId | null {
  const name = nameOf(entryUrl);
  const key = name.includes(SEPARATOR) ? name.slice(0, name.indexOf(SEPARATOR)) : '';
  return key && isInvoiceId(key) ? key : null;
}

/** The name of the resource an entry announces (in an op container of its invoice on the feed's pod), or null. */
export function resourceOfEntry(entryUrl: string): string | null {
  const parts = nameOf(entryUrl).split(SEPARATOR);
  return parts.length >= 2 && parts[1] ? parts[1] : null;
}

/**
 * Puts the entries announcing `resourceUrl` in each reader's feed on this party's pod (in parallel), in the day
 * containers of `datedAt` (the pod server's clock; a day container is made by the first entry put in it).
 */
export async function announce(
  fetchFn: typeof fetch,
  podRoot: string,
  invoiceId: InvoiceId,
  resourceUrl: string,
  readers: readonly WebId[],
  dated: { readonly datedAt: number; readonly againAt?: number },
): Promise<string[]> {
  const turtle = `<> <${FEED_PREDICATE}> <${resourceUrl}> .\n`;
  const entryIn = (reader: WebId) => feedEntryOf(feedOf(podRoot, reader), invoiceId, resourceUrl, dated.datedAt, dated.againAt);
  const entries = [...new Set(readers)].map(entryIn);
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

