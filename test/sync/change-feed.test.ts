import { describe, expect, it } from 'vitest';
import { asContainerUrl, type InvoiceId } from '../../src/model/ids.ts';
import { dayContainerOf, dayOf, feedEntryOf, feedOf, invoiceOfEntry, podOfFeed, resourceOfEntry } from '../../src/sync/change-feed.ts';
import { daysBetween, isListed, PENDING_ENTRY_MS, readFeed, settleFeed, type FeedRead } from '../../src/sync/feed-read.ts';
import { urlOf } from '../../src/pod/http-client.ts';
import { emptyContainerState } from '../../src/sync/store.ts';

const pod = 'https://pods.example/acme/';
const feed = feedOf(pod, 'https://pods.example/customer/profile/card#me' as never);
const invoiceId = `PO-1.${'a'.repeat(32)}` as InvoiceId;
const container = asContainerUrl(`${pod}invoices/${invoiceId}/ops/`);
const opName = 'b'.repeat(64);
const t0 = Date.parse('2026-12-07T08:00:00Z');
const today = dayContainerOf(feed, '2026-12-07');

const readOf = (entries: string[]): FeedRead => ({
  feed,
  outcome: 'changed',
  entries: new Map([[invoiceId, entries]]),
  state: { at: t0, days: { '2026-12-07': { etag: '"listing-2"', seen: [`${today}older`, ...entries] } } },
  error: null,
});

describe('change feed entries', () => {
  it('go in the container of the day they are dated (UTC), and name their invoice and resource, also when announced again', () => {
    const first = feedEntryOf(feed, invoiceId, `${container}${opName}`, t0);
    const again = feedEntryOf(feed, invoiceId, `${container}${opName}`, t0, t0 + 1);
    expect(first).toBe(`${feed}2026-12-07/${invoiceId}~${opName}`);
    expect(feedEntryOf(feed, invoiceId, `${container}${opName}`, Date.parse('2026-12-07T23:59:59.999Z'))).toContain('/2026-12-07/');
    expect(feedEntryOf(feed, invoiceId, `${container}${opName}`, Date.parse('2026-12-08T00:00:00Z'))).toContain('/2026-12-08/');
    expect(again).not.toBe(first);
    expect([resourceOfEntry(first), resourceOfEntry(again)]).toEqual([opName, opName]);
    expect([invoiceOfEntry(first), invoiceOfEntry(again)]).toEqual([invoiceId, invoiceId]);
    expect([resourceOfEntry(`${today}not-an-entry`), invoiceOfEntry(`${today}not-an-entry`)]).toEqual([null, null]);
    expect(podOfFeed(feed)).toBe(pod);
  });

  it('are read by day: the days from one time to another, across a month and a year', () => {
    expect(daysBetween(t0, t0)).toEqual(['2026-12-07']);
    expect(daysBetween(Date.parse('2026-12-30T23:50:00Z'), Date.parse('2027-01-02T00:00:01Z'))).toEqual(['2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02']);
    expect(daysBetween(t0 + 1, t0)).toEqual([]);
    expect(dayOf(Date.parse('2027-02-28T23:59:59Z'))).toBe('2027-02-28');
  });

  it('count as listed when a crawl of the pod fetched, held, refused or listed (a checkpoint) the resource, on that pod only', () => {
    const seen = { [container]: { ...emptyContainerState(), seen: [`${container}${opName}`] } };
    expect(isListed(seen, pod, opName)).toBe(true);
    expect(isListed(seen, 'https://pods.example/acme-other/', opName)).toBe(false);
    const refused = { [container]: { ...emptyContainerState(), refused: [{ url: `${container}${opName}`, reason: 'bad' }] } };
    expect(isListed(refused, pod, opName)).toBe(true);
    const checkpoint = { [container]: { ...emptyContainerState(), checkpoints: ['checkpoint-3-cc'] } };
    expect(isListed(checkpoint, pod, 'checkpoint-3-cc')).toBe(true);
    expect(isListed({ [container]: emptyContainerState() }, pod, opName)).toBe(false);
  });

  it('settle: handled entries are seen; others keep their day open; unlisted ones are pending until PENDING_ENTRY_MS', () => {
    const entry = feedEntryOf(feed, invoiceId, `${container}${opName}`, t0);
    const read = readOf([entry]);
    expect(settleFeed(read, undefined, () => 'handled', t0)).toBe(read.state);
    const open = { etag: null, seen: [`${today}older`], open: true };
    expect(settleFeed(read, undefined, () => 'unsynced', t0)).toEqual({ at: t0, days: { '2026-12-07': open } });
    const pending = settleFeed(read, undefined, () => 'unlisted', t0);
    expect(pending).toEqual({ at: t0, days: { '2026-12-07': open }, pending: { [entry]: '2026-12-07T08:00:00.000Z' } });
    expect(settleFeed(read, pending, () => 'unlisted', t0 + PENDING_ENTRY_MS - 1).pending).toEqual(pending.pending);
    expect(settleFeed(read, pending, () => 'unlisted', t0 + PENDING_ENTRY_MS)).toEqual(read.state);
  });

  it('settle: days before the read window are dropped once nothing in them is open', () => {
    const state = {
      at: t0,
      days: {
        '2026-12-05': { etag: '"a"', seen: [] },
        '2026-12-06': { etag: null, seen: [], open: true as const },
        '2026-12-07': { etag: '"b"', seen: [] },
      },
    };
    const settled = settleFeed({ feed, outcome: 'unchanged', entries: new Map(), state, error: null }, state, () => 'handled', t0);
    expect(Object.keys(settled.days!)).toEqual(['2026-12-06', '2026-12-07']);
  });
});

describe('settling a feed read across days', () => {
  it('keeps the day of an entry not handled yet, even once the day has left the read window', () => {
    const yesterday = '2026-12-06';
    const entry = `${dayContainerOf(feed, yesterday)}${invoiceId}~${opName}`;
    const read: FeedRead = {
      feed,
      outcome: 'changed',
      entries: new Map([[invoiceId, [entry]]]),
      state: { at: t0, days: { [yesterday]: { etag: '"y"', seen: [entry] }, '2026-12-07': { etag: '"t"', seen: [] } } },
      error: null,
    };
    const settled = settleFeed(read, undefined, () => 'unsynced', t0);
    expect(settled.days![yesterday]).toEqual({ etag: null, seen: [], open: true });
    // Listed again next time, however old; dropped once handled.
    const again: FeedRead = { ...read, state: { ...settled, days: { ...settled.days, [yesterday]: { etag: '"y"', seen: [entry] } } } };
    expect(Object.keys(settleFeed(again, settled, () => 'handled', t0 + 1).days!)).toEqual(['2026-12-07']);
  });

  it("an entry's pending time keeps running while a command leaves its invoice unsynced", () => {
    const entry = feedEntryOf(feed, invoiceId, `${container}${opName}`, t0);
    const read = readOf([entry]);
    const pending = settleFeed(read, undefined, () => 'unlisted', t0);
    const other = settleFeed(read, pending, () => 'unsynced', t0 + 60_000);
    expect(other.pending).toEqual(pending.pending);
    expect(settleFeed(read, other, () => 'unlisted', t0 + PENDING_ENTRY_MS).pending).toBeUndefined();
  });
});

// Two answers CSS does not give here: a missing feed is a 403 on CSS (a reader may not read `changes/`), a 404 on a
// server that lets it; and a window with no day written needs a feed nobody wrote to today. A table stands in.
describe('reading a feed (a server answering from a table: which containers exist, and its clock)', () => {
  const serverNow = Date.parse('2026-12-07T09:00:00Z');
  /** A fetch that lists the containers `tree` names (members by URL), answers 404 for any other, and dates its answers. */
  const serverOf = (tree: Record<string, string[]>) => {
    const asked: string[] = [];
    const fetchFn = (async (input: Parameters<typeof fetch>[0]) => {
      const url = urlOf(input);
      asked.push(url.slice(feed.length));
      const headers = { date: new Date(serverNow).toUTCString(), 'content-type': 'text/turtle' };
      const members = tree[url];
      if (!members) return new Response('', { status: 404, headers });
      const body = members.map((member) => `<${url}> <http://www.w3.org/ns/ldp#contains> <${member}> .`).join('\n');
      return new Response(body, { status: 200, headers });
    }) as typeof fetch;
    return { fetchFn, asked };
  };

  it('a feed that is not there is absent on the first read, also when the invoices there were synced (a start time)', async () => {
    const { fetchFn } = serverOf({});
    const read = await readFeed(fetchFn, feed, {}, serverNow, serverNow - 60_000);
    expect(read.outcome).toBe('absent');
  });

  it('after days away with nothing written since, the read moves on: the next one lists today alone', async () => {
    const old = dayContainerOf(feed, '2026-11-20');
    const { fetchFn, asked } = serverOf({ [feed]: [old], [old]: [] });
    const first = await readFeed(fetchFn, feed, { at: serverNow - 6 * 24 * 60 * 60_000, days: {} }, serverNow, null);
    expect(first.outcome).toBe('unchanged');
    expect(first.state.at).toBe(serverNow);
    asked.length = 0;
    await readFeed(fetchFn, feed, first.state, serverNow, null);
    expect(asked).toEqual(['2026-12-07/']);
  });
});
