/**
 * What a crawl of one op container reads, decided from the listing and what the device already holds. Pure: the
 * crawler (crawler.ts) executes the plan; these decisions are tested without pods.
 *
 * - Single members whose op the device holds are settled by their name; so are names that hold no op (refused).
 * - Every unseen pack is read (one request for all its ops).
 * - A crawler far behind reads the newest checkpoint first: at least `checkpointMinGain` single members unseen, and
 *   the checkpoint holding at least as many ops it lacks as ops it has (it would fetch those again). A crawler that
 *   is up to date never reads one.
 * - At most `maxNewMembers` members are fetched in one crawl; the rest are deferred to the next.
 * - A refused single member whose op is still lacking sends the crawler to every checkpoint for a valid copy.
 */
import type { ContainerUrl, OpId } from '../model/ids.ts';
import type { CrawlLimits } from './crawler.ts';
import { classifyMember } from './packs.ts';

export interface Refusal {
  readonly url: string;
  readonly reason: string;
}

export interface CheckpointMember {
  readonly url: string;
  readonly name: string;
  readonly count: number;
  readonly hash: string;
}

export interface CrawlPlan {
  /** Single members whose op the device already holds: seen without a request. */
  readonly held: readonly string[];
  /** Members whose name says they hold no op: refused without a request. */
  readonly refused: readonly Refusal[];
  /** Unseen single members whose op the device lacks, by op id, in listing order. */
  readonly singles: ReadonlyMap<OpId, string>;
  /** Every single member listed, seen or not. */
  readonly listedSingles: ReadonlySet<OpId>;
  /** Unseen packs, in listing order. */
  readonly packs: readonly string[];
  /** Unseen checkpoints, newest first: most ops, ties by the greatest hash, so every device picks the same. */
  readonly checkpoints: readonly CheckpointMember[];
  /** The checkpoint to read before any single member, or null. */
  readonly readFirst: CheckpointMember | null;
}

export interface PlanInput {
  readonly container: ContainerUrl;
  /** The container's members, as listed. */
  readonly members: readonly string[];
  /** Members fetched or judged by earlier crawls. */
  readonly seen: ReadonlySet<string>;
  /** Ops the device holds, from any container. */
  readonly knownIds: ReadonlySet<OpId>;
  readonly limits: Pick<CrawlLimits, 'useCheckpoints' | 'checkpointMinGain'>;
}

const NOT_AN_OP = 'its name is not an op id (64 hex characters), pack-<hash> or checkpoint-<count>-<hash>, so it holds no ops';

export function planCrawl({ container, members, seen, knownIds, limits }: PlanInput): CrawlPlan {
  const held: string[] = [];
  const refused: Refusal[] = [];
  const singles = new Map<OpId, string>();
  const listedSingles = new Set<OpId>();
  const packs: string[] = [];
  const checkpoints: CheckpointMember[] = [];
  for (const url of members) {
    const name = nameIn(container, url);
    const member = classifyMember(name);
    if (member.kind === 'op') listedSingles.add(member.id);
    if (seen.has(url)) continue;
    if (member.kind === 'op') {
      if (knownIds.has(member.id)) held.push(url);
      else singles.set(member.id, url);
    } else if (member.kind === 'pack') packs.push(url);
    else if (member.kind === 'checkpoint') checkpoints.push({ url, name, count: member.count, hash: member.hash });
    else refused.push({ url, reason: NOT_AN_OP });
  }
  checkpoints.sort(newestFirst);
  const readFirst = limits.useCheckpoints
    ? worthReadingFirst(checkpoints[0], singles.size, listedSingles.size - singles.size, limits.checkpointMinGain)
    : null;
  return { held, refused, singles, listedSingles, packs, checkpoints, readFirst };
}

/** The newest checkpoint is read first only if it spares at least `minGain` GETs and at least as many ops as it fetches again. */
function worthReadingFirst(
  newest: CheckpointMember | undefined,
  unfetched: number,
  have: number,
  minGain: number,
): CheckpointMember | null {
  if (!newest) return null;
  const gain = newest.count - have;
  return unfetched >= minGain && gain >= Math.max(minGain, have) ? newest : null;
}

function newestFirst(a: CheckpointMember, b: CheckpointMember): number {
  if (a.count !== b.count) return b.count - a.count;
  if (a.hash === b.hash) return 0;
  return a.hash < b.hash ? 1 : -1;
}

export type FetchItem = { readonly kind: 'op'; readonly url: string; readonly id: OpId } | { readonly kind: 'pack'; readonly url: string };

/**
 * What this crawl fetches: the single members still lacking (after any checkpoint), then the packs, at most
 * `maxNewMembers` of them; `deferred` counts those left for the next crawl.
 */
export function planFetches(
  singles: ReadonlyMap<OpId, string>,
  packs: readonly string[],
  maxNewMembers: number,
): { fetch: FetchItem[]; deferred: number } {
  const all: FetchItem[] = [...[...singles].map(([id, url]) => ({ kind: 'op' as const, url, id })), ...packs.map((url) => ({ kind: 'pack' as const, url }))];
  const fetch = all.slice(0, maxNewMembers);
  return { fetch, deferred: all.length - fetch.length };
}

/** Listed single members that were refused (in this crawl or before) and whose op the crawler still lacks. */
export function lackingRefused(
  container: ContainerUrl,
  refused: Iterable<Refusal>,
  listedSingles: ReadonlySet<OpId>,
  knownIds: ReadonlySet<OpId>,
): OpId[] {
  const ids = new Set<OpId>();
  for (const { url } of refused) {
    const member = classifyMember(nameIn(container, url));
    if (member.kind === 'op' && listedSingles.has(member.id) && !knownIds.has(member.id)) ids.add(member.id);
  }
  return [...ids];
}

/**
 * The checkpoints to read for valid copies of refused single members: every one not read yet, as soon as one such
 * op is lacking. So a crawler ends with the same ops whether or not it reads checkpoints.
 */
export function checkpointsForRefused(
  checkpoints: readonly CheckpointMember[],
  seen: ReadonlySet<string>,
  lacking: number,
): CheckpointMember[] {
  return lacking > 0 ? checkpoints.filter((checkpoint) => !seen.has(checkpoint.url)) : [];
}

const nameIn = (container: ContainerUrl, url: string): string => (url.startsWith(container) ? url.slice(container.length) : '');
