/**
 * The device keys a signing replica knows of the participants, and when it read each WebID profile. A profile is read
 * when the replica first meets the WebID, when an op arrives signed with (or declaring) a key it does not know yet,
 * and otherwise at most once per KEY_TTL_MS, so that revocations still arrive: a sync with nothing new costs no
 * profile reads. Kept in the device store, so the TTL holds across commands. A key a profile stops listing, without
 * revoking it, stays known.
 */
import type { WebId } from '../model/ids.ts';
import type { AnyOp } from '../model/ops.ts';
import type { PublishedKey } from '../model/signatures.ts';
import { readPublishedKeys } from '../pod/device-keys.ts';
import { NO_KEYS, type DeviceStore, type KnownKeys } from './store.ts';

/** How long a profile's keys stand without reading it again: the longest a revocation takes to reach a device that syncs. */
export const KEY_TTL_MS = 10 * 60_000;

const isKeyList = (stored: KnownKeys | readonly PublishedKey[]): stored is readonly PublishedKey[] => Array.isArray(stored);

export class ParticipantKeys {
  private known: KnownKeys | null = null;

  constructor(
    private readonly store: DeviceStore,
    private readonly fetchFn: typeof fetch,
    private readonly now: () => number,
  ) {}

  /** Loads what the store kept, once. */
  async load(): Promise<void> {
    if (this.known !== null) return;
    const stored: KnownKeys | readonly PublishedKey[] = (await this.store.loadKeys?.()) ?? NO_KEYS;
    // An embedder's store written for an earlier version keeps a list alone: its profiles count as never read.
    this.known = isKeyList(stored) ? { keys: stored, readAt: {} } : stored;
  }

  get keys(): readonly PublishedKey[] {
    return this.known?.keys ?? [];
  }

  has(key: string): boolean {
    return this.keys.some((known) => known.key === key);
  }

  /** Whether any of the ops is signed with, or declares, a key not known yet: the profiles may have it by now. */
  namesUnknownKey(ops: readonly AnyOp[]): boolean {
    const known = new Set(this.keys.map((key) => key.key));
    const unknown = (key: string | undefined) => key !== undefined && !known.has(key);
    return ops.some(({ proof, signingKey }) => unknown(proof?.key) || unknown(signingKey?.key));
  }

  /**
   * Reads the profiles of the WebIDs that are due (never read, or read more than KEY_TTL_MS ago; every one with
   * `force`), skipping those read already in this sync (`done`). A profile that cannot be read keeps its last keys.
   */
  async refresh(webIds: Iterable<WebId>, done: Set<WebId>, force = false): Promise<void> {
    await this.load();
    const { keys, readAt } = this.known!;
    const now = this.now();
    const due = (webId: WebId) => force || readAt[webId] === undefined || now - readAt[webId] >= KEY_TTL_MS;
    const todo = [...new Set(webIds)].filter((webId) => !done.has(webId) && due(webId));
    if (todo.length === 0) return;
    const read = await Promise.allSettled(todo.map((webId) => readPublishedKeys(this.fetchFn, webId)));
    let next = [...keys];
    const stamps = { ...readAt };
    todo.forEach((webId, i) => {
      done.add(webId);
      const result = read[i]!;
      if (result.status !== 'fulfilled') return;
      // A key gone from the profile without a revocation stays known: it still verifies what it signed, for the
      // devices that saw it published (docs/signatures.md); a key published again takes its new state.
      const listed = new Set(result.value.map((key) => key.key));
      const retired = next.filter((key) => key.controller === webId && !listed.has(key.key));
      next = [...next.filter((key) => key.controller !== webId), ...retired, ...result.value];
      stamps[webId] = now;
    });
    this.known = { keys: next, readAt: stamps };
    await this.store.saveKeys?.(this.known);
  }
}
