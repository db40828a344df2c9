import { dayOf, FEED_DAY_MARGIN_MS } from '../../src/sync/change-feed.ts';

/**
 * How many day containers a quiet read of one change feed lists now: two in the first minutes after midnight UTC (the
 * day before can still get entries that land late, FEED_DAY_MARGIN_MS), one otherwise. Tests that count requests
 * multiply by it, so that they hold at any hour.
 */
export const feedDaysNow = (now = Date.now()): number => (now - Date.parse(dayOf(now)) < FEED_DAY_MARGIN_MS + 60_000 ? 2 : 1);
