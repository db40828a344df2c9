import { messageOf } from '../model/errors.ts';
import type { ContainerUrl, InvoiceId } from '../model/ids.ts';
import { listContainer, type ContainerListing } from '../pod/resources.ts';
import { dayContainerOf, dayOf, dayOfEntry, FEED_DAY_MARGIN_MS, invoiceOfEntry, resourceOfEntry } from './change-feed.ts';
import type { ContainerState, FeedDayState, FeedState } from './store.ts';

/**
 * Reading a change feed (change-feed.ts says what one is): which day containers to list, what is new in them, and the
 * state a device keeps once it has acted on the news.
 */

/** A read spanning more days than this lists the feed itself first, to skip the days nothing was written. */
const DAYS_LISTED_DIRECTLY = 3;
const DAY_MS = 24 * 60 * 60_000;

export interface FeedRead {
  readonly feed: ContainerUrl;
  /**
   * 'unchanged': nothing new; 'changed': `entries` are new; 'absent': no feed there (404: the party's devices do not
   * announce their writes to this reader), so its invoices are synced one by one; 'started': the feed is there but
   * this device has no state of it yet, so its invoices are synced one by one once and the feed read from then on;
   * 'failed': as 'absent', `error` says why.
   */
  readonly outcome: 'unchanged' | 'changed' | 'absent' | 'started' | 'failed';
  /** New entries, by the invoice they name (entries naming no invoice are ignored). */
  readonly entries: ReadonlyMap<InvoiceId, readonly string[]>;
  /** The feed's state once every new entry is handled. */
  readonly state: FeedState;
  readonly error: string | null;
}

export const emptyFeedState = (): FeedState => ({});

/** The days from `fromMs`'s to `toMs`'s, oldest first; none when `fromMs` is later. */
export function daysBetween(fromMs: number, toMs: number): string[] {
  const days: string[] = [];
  if (fromMs > toMs) return days;
  for (let ms = Date.parse(dayOf(fromMs)); ms <= toMs; ms += DAY_MS) days.push(dayOf(ms));
  return days;
}

/**
 * Reads one feed: the day containers from FEED_DAY_MARGIN_MS before the last read to today, and any day with an entry
 * not handled yet; each conditionally. Tells what is new since `previous`. A feed this device never read is read
 * from `startAt` (the server's time when the invoices on its pod were last synced whole), or, without one, only
 * checked for being there ('started': those invoices are synced whole, which gives the next read its start). `now`
 * is the server's time as this device reckons it; the server's own Date headers correct it. Never throws.
 */
export async function readFeed(
  fetchFn: typeof fetch,
  feed: ContainerUrl,
  previous: FeedState,
  now: number,
  startAt: number | null,
): Promise<FeedRead> {
  try {
    // A feed this device starts reading must be there: one without (404) means its pod's writes are not announced.
    const absent: FeedRead = { feed, outcome: 'absent', entries: new Map(), state: previous, error: null };
    if (previous.at === undefined && !(await feedExists(fetchFn, feed))) return absent;
    const from = previous.at === undefined && startAt !== null ? { at: startAt, days: {} } : previous;
    if (from.at === undefined) return { feed, outcome: 'started', entries: new Map(), state: previous, error: null };
    const { days, considered, rootDate } = await daysToList(fetchFn, feed, from, now);
    if (rootDate === 'absent') return absent;
    const listings = await listDays(fetchFn, feed, from, days);
    const dates = [...listings.values()].map((listing) => listing.serverDate ?? now);
    const serverNow = Math.max(from.at!, ...dates, ...(rootDate === null ? [] : [rootDate]));
    // This device's reckoning was behind the server's clock: the server's today was not considered yet.
    const late = daysBetween(from.at!, serverNow).filter((day) => !considered.has(day));
    for (const [day, listing] of await listDays(fetchFn, feed, from, late)) listings.set(day, listing);
    return newsIn(feed, from, listings, serverNow);
  } catch (error) {
    return { feed, outcome: 'failed', entries: new Map(), state: previous, error: messageOf(error) };
  }
}

async function feedExists(fetchFn: typeof fetch, feed: ContainerUrl): Promise<boolean> {
  const listing = await listContainer(fetchFn, feed);
  return listing.notModified || !listing.absent;
}

/**
 * The days to list (`considered`: those in the window, listed or known from the feed's listing to be empty), and,
 * when the feed itself was listed, its server's time ('absent': the feed is gone).
 */
async function daysToList(fetchFn: typeof fetch, feed: ContainerUrl, previous: FeedState, now: number) {
  const since = daysBetween(previous.at! - FEED_DAY_MARGIN_MS, Math.max(now, previous.at!));
  const unhandled = Object.entries(previous.days ?? {}).filter(([, day]) => day.open).map(([day]) => day);
  const days = [...new Set([...since, ...unhandled])].sort();
  const considered = new Set(days);
  if (days.length <= DAYS_LISTED_DIRECTLY) return { days, considered, rootDate: null };
  const root = await listContainer(fetchFn, feed);
  if (!root.notModified && root.absent) return { days: [], considered, rootDate: 'absent' as const };
  const written = new Set(root.notModified ? [] : root.members);
  const listed = days.filter((day) => written.has(dayContainerOf(feed, day)) || unhandled.includes(day));
  return { days: listed, considered, rootDate: root.serverDate };
}

async function listDays(fetchFn: typeof fetch, feed: ContainerUrl, previous: FeedState, days: readonly string[]) {
  const listDay = (day: string) => listContainer(fetchFn, dayContainerOf(feed, day), { etag: previous.days?.[day]?.etag ?? null });
  const listings = await Promise.all(days.map(listDay));
  return new Map(days.map((day, i) => [day, listings[i]!]));
}

/** What the day listings hold that `previous` had not seen; the state keeps only what the next read needs. */
function newsIn(feed: ContainerUrl, previous: FeedState, listings: ReadonlyMap<string, ContainerListing>, serverNow: number): FeedRead {
  const entries = new Map<InvoiceId, string[]>();
  const days: Record<string, FeedDayState> = { ...previous.days };
  let listedAgain = false;
  for (const [day, listing] of listings) {
    if (listing.notModified || (listing.absent && !days[day])) continue;
    const seen = new Set(previous.days?.[day]?.seen ?? []);
    for (const member of listing.members) {
      const invoiceId = seen.has(member) ? null : invoiceOfEntry(member);
      if (invoiceId) entries.set(invoiceId, [...(entries.get(invoiceId) ?? []), member]);
    }
    listedAgain ||= listing.etag !== (previous.days?.[day]?.etag ?? null) || listing.members.length !== seen.size;
    days[day] = { etag: listing.etag, seen: listing.members };
  }
  const outcome = entries.size > 0 ? 'changed' : 'unchanged';
  // Nothing new and the window starts on the same day: the state as it was (a 304 writes nothing to the store).
  if (!listedAgain && dayOf(previous.at! - FEED_DAY_MARGIN_MS) === dayOf(serverNow - FEED_DAY_MARGIN_MS)) {
    return { feed, outcome, entries, state: previous, error: null };
  }
  return { feed, outcome, entries, state: { ...previous, at: serverNow, days }, error: null };
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
 * A feed's state once its news was acted on. Handled entries count as seen; the others stay new, and their day is
 * listed in full again next time (no ETag) to find them. `unlisted` entries are kept as `pending` (with when they
 * were first found so) for at most PENDING_ENTRY_MS. Days before the window that hold nothing unhandled are dropped.
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
      const result = outcome(invoiceId, resourceOfEntry(entry));
      if (result === 'handled') continue;
      const since = previous?.pending?.[entry];
      if (result === 'unlisted') {
        if (since !== undefined && now - Date.parse(since) >= PENDING_ENTRY_MS) continue;
        pending[entry] = since ?? new Date(now).toISOString();
      } else if (since !== undefined) pending[entry] = since; // not synced this time: its clock keeps running
      unhandled.add(entry);
    }
  }
  const state = read.state;
  const openDays = new Set([...unhandled].map((entry) => dayOfEntry(read.feed, entry)));
  const firstDay = state.at === undefined ? null : dayOf(state.at - FEED_DAY_MARGIN_MS);
  const kept = (day: string) => openDays.has(day) || state.days![day]!.open === true;
  const stale = Object.keys(state.days ?? {}).filter((day) => firstDay !== null && day < firstDay && !kept(day));
  if (unhandled.size === 0 && stale.length === 0 && !state.pending) return state;
  const days: Record<string, FeedDayState> = { ...state.days };
  for (const day of stale) delete days[day];
  for (const entry of unhandled) {
    const day = dayOfEntry(read.feed, entry);
    days[day] = { etag: null, seen: (days[day]?.seen ?? []).filter((seen) => seen !== entry), open: true };
  }
  const { pending: _dropped, ...rest } = state;
  return { ...rest, days, ...(Object.keys(pending).length > 0 && { pending }) };
}

/** Whether the last crawl of an op container of the invoice on `pod` listed `resource` (fetched, held or refused it). */
export function isListed(states: Readonly<Record<string, ContainerState>>, pod: string, resource: string): boolean {
  return Object.entries(states).some(([container, state]) => {
    if (!container.startsWith(pod)) return false;
    const url = `${container}${resource}`;
    return state.seen.includes(url) || state.refused.some((refusal) => refusal.url === url) || (state.checkpoints ?? []).includes(resource);
  });
}
