/**
 * When a device writes a checkpoint of its party's container, and what goes in it. Pure: decided from what the
 * device knows of the container (its ContainerState after a crawl), so it is tested without pods.
 */
import type { ContainerUrl, OpId } from '../model/ids.ts';
import type { ContainerReport } from './crawler.ts';
import { classifyMember, newestCheckpoint } from './packs.ts';
import type { ContainerState } from './store.ts';

/** Single ops not yet in a checkpoint that make one due (see `checkpointDue`). */
export const DEFAULT_CHECKPOINT_EVERY = 200;

export interface CheckpointPolicy {
  /** The party's own op container, the only one a device writes checkpoints in. */
  readonly container: ContainerUrl;
  /** What the device knows of that container after this sync's crawl. */
  readonly state: ContainerState | undefined;
  /** How this sync's crawl of the container went: only a fresh listing can show new single ops. */
  readonly crawled: ContainerReport['outcome'] | undefined;
  /** 0: never automatically. */
  readonly every: number;
}

/**
 * A checkpoint is due when the container has at least `every` single ops, and at least a quarter of the newest
 * checkpoint's count, that no checkpoint holds: the bytes written stay a small multiple of the ops' size, and a
 * new device fetches at most about a fifth of the ops one by one.
 */
export function checkpointDue({ container, state, crawled, every }: CheckpointPolicy): boolean {
  if (crawled !== 'updated' || every <= 0 || !state) return false;
  const singles = singleIds(container, state.seen).length;
  const covered = newestCheckpoint(state.checkpoints ?? [])?.count ?? 0;
  return singles - covered >= Math.max(every, Math.ceil(covered / 4));
}

/**
 * The ops a checkpoint may hold: every single member of the container this device has read and not refused. Never
 * an op only in the outbox or only in a pack: a checkpoint is a cache of single members, nothing more.
 */
export function checkpointContents(container: ContainerUrl, state: ContainerState): Set<OpId> {
  const ids = new Set(singleIds(container, state.seen));
  for (const { url } of state.refused) ids.delete(url.slice(container.length) as OpId);
  return ids;
}

function singleIds(container: ContainerUrl, urls: readonly string[]): OpId[] {
  const ids: OpId[] = [];
  for (const url of urls) {
    const member = classifyMember(url.startsWith(container) ? url.slice(container.length) : '');
    if (member.kind === 'op') ids.push(member.id);
  }
  return ids;
}
