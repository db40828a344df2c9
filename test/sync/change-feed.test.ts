import { describe, expect, it } from 'vitest';
import { asContainerUrl, type InvoiceId } from '../../src/model/ids.ts';
import { feedEntryOf, feedOf, isListed, PENDING_ENTRY_MS, podOfFeed, resourceOfEntry, settleFeed, type FeedRead } from '../../src/sync/change-feed.ts';
import { emptyContainerState } from '../../src/sync/store.ts';

const pod = 'https://pods.example/acme/';
const feed = feedOf(pod, 'https://pods.example/customer/profile/card#me' as never);
const invoiceId = `PO-1.${'a'.repeat(32)}` as InvoiceId;
const container = asContainerUrl(`${pod}invoices/${invoiceId}/ops/`);
const opName = 'b'.repeat(64);

const readOf = (entries: string[]): FeedRead => ({
  feed,
  outcome: 'changed',
  entries: new Map([[invoiceId, entries]]),
  state: { etag: '"listing-2"', seen: ['older', ...entries] },
  error: null,
});

describe('change feed entries', () => {
  it('name their invoice and resource, also when announced again, and their feed names its pod', () => {
    const first = feedEntryOf(feed, invoiceId, `${container}${opName}`);
    const again = feedEntryOf(feed, invoiceId, `${container}${opName}`, 1_700_000_000_000);
    expect(again).not.toBe(first);
    expect([resourceOfEntry(feed, first), resourceOfEntry(feed, again)]).toEqual([opName, opName]);
    expect(resourceOfEntry(feed, `${feed}not-an-entry`)).toBeNull();
    expect(podOfFeed(feed)).toBe(pod);
  });

  it('count as listed when a crawl of the pod fetched, held, refused or listed (a checkpoint) the resource, on that pod only', () => {
    const seen = { [container]: { ...emptyContainerState(), seen: [`${container}${opName}`] } };
    expect(isListed(seen, pod, opName)).toBe(true);
    expect(isListed(seen, 'https://pods.example/acme-other/', opName)).toBe(false);
    expect(isListed(seen, 'https://pods.example/ac', opName)).toBe(true); // callers pass whole pod roots, ending in '/'
    const refused = { [container]: { ...emptyContainerState(), refused: [{ url: `${container}${opName}`, reason: 'bad' }] } };
    expect(isListed(refused, pod, opName)).toBe(true);
    const checkpoint = { [container]: { ...emptyContainerState(), checkpoints: ['checkpoint-3-cc'] } };
    expect(isListed(checkpoint, pod, 'checkpoint-3-cc')).toBe(true);
    expect(isListed({ [container]: emptyContainerState() }, pod, opName)).toBe(false);
  });

  it('settle: handled entries are seen; unsynced ones stay new; unlisted ones stay new as pending, until PENDING_ENTRY_MS', () => {
    const entry = feedEntryOf(feed, invoiceId, `${container}${opName}`);
    const read = readOf([entry]);
    expect(settleFeed(read, undefined, () => 'handled', 0)).toBe(read.state);
    expect(settleFeed(read, undefined, () => 'unsynced', 0)).toEqual({ etag: null, seen: ['older'] });
    const t0 = Date.parse('2026-12-07T08:00:00Z');
    const pending = settleFeed(read, undefined, () => 'unlisted', t0);
    expect(pending).toEqual({ etag: null, seen: ['older'], pending: { [entry]: '2026-12-07T08:00:00.000Z' } });
    expect(settleFeed(read, pending, () => 'unlisted', t0 + PENDING_ENTRY_MS - 1).pending).toEqual(pending.pending);
    expect(settleFeed(read, pending, () => 'unlisted', t0 + PENDING_ENTRY_MS)).toEqual(read.state);
    expect(settleFeed(read, pending, () => 'handled', t0 + 1)).toEqual(read.state);
  });
});
