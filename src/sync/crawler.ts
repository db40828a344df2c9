import { messageOf } from '../model/errors.ts';
import type { ContainerUrl, OpId } from '../model/ids.ts';
import type { AnyOp, SourcedOp } from '../model/ops.ts';
import { isDenied, isHttpError, isNotFound, isRetryable, isUnservable, statusOf } from '../pod/http-error.ts';
import { getResource, listContainer, type ContainerListing } from '../pod/resources.ts';
import { decodeOpTurtles } from '../rdf/op-resource.ts';
import {
  checkpointsForRefused,
  lackingRefused,
  planCrawl,
  planFetches,
  type CheckpointMember,
  type CrawlPlan,
  type FetchItem,
  type Refusal,
} from './crawl-plan.ts';
import { classifyMember, readPack } from './packs.ts';
import type { ContainerState } from './store.ts';

export interface CrawlLimits {
  /** Largest op resource read; an op is a few hundred bytes, so anything near this is hostile. */
  readonly maxOpBytes: number;
  /** Most new members fetched from one container in one crawl; the rest wait for the next. */
  readonly maxNewMembers: number;
  readonly concurrency: number;
  /** Largest pack or checkpoint read (an op is ~600 bytes of Turtle: 64 MiB is ~100k ops). */
  readonly maxPackBytes: number;
  /** Most ops read from one pack or checkpoint. */
  readonly maxPackOps: number;
  /**
   * Read a checkpoint to spare GETs (false: fetch every single member, e.g. to compare; a checkpoint is still read
   * for a copy of a refused member).
   */
  readonly useCheckpoints: boolean;
  /**
   * Read the newest checkpoint only if it should spare at least this many GETs, and at least as many ops as
   * the crawler already has from the container (which the checkpoint would fetch again).
   */
  readonly checkpointMinGain: number;
}

/** Single ops fetched before they are judged together: bounds memory. */
const JUDGE_CHUNK = 64;

export const DEFAULT_LIMITS: CrawlLimits = {
  maxOpBytes: 256 * 1024,
  maxNewMembers: 2000,
  concurrency: 8,
  maxPackBytes: 64 * 1024 * 1024,
  maxPackOps: 100_000,
  useCheckpoints: true,
  checkpointMinGain: 16,
};

export interface ContainerReport {
  readonly container: ContainerUrl;
  /** 'unchanged': answered 304; 'updated': listed and fetched; 'stale': the pod failed, last known state kept. */
  readonly outcome: 'unchanged' | 'updated' | 'stale';
  readonly newOps: number;
  readonly refused: readonly Refusal[];
  /** Members left for a later crawl because of `maxNewMembers`. */
  readonly deferred: number;
  readonly error: string | null;
  /** Packs read in this crawl. */
  readonly packs?: number;
  /** Checkpoints read in this crawl, and how many single members they spared a GET. */
  readonly checkpoints?: number;
  readonly fromCheckpoints?: number;
}

export interface CrawlResult {
  readonly state: ContainerState;
  readonly ops: SourcedOp[];
  readonly report: ContainerReport;
}

export interface CrawlContext {
  readonly fetch: typeof fetch;
  readonly limits: CrawlLimits;
  /** Ops the device already holds: a member named by one of these is never fetched. */
  readonly knownIds: ReadonlySet<OpId>;
  readonly now: () => Date;
  readonly onMemberDone?: () => void;
  readonly onMembersFound?: (count: number) => void;
}

/** Whether a crawl read its container to the end: not stale, nothing left for the next crawl. */
export const readToEnd = (report: ContainerReport): boolean => report.outcome !== 'stale' && report.deferred === 0;

/**
 * Reads one participant's op container: one conditional listing (a 304 when nothing changed), then only the
 * members it has not seen, with bounded concurrency, as crawl-plan.ts decides. Each member is size-capped,
 * read strictly (what the SHACL shapes accept, see src/rdf/codec.ts) and checked against its name's hash before it
 * becomes a SourcedOp. Failures never throw: the
 * container is reported stale with the error, and whatever was not fetched is fetched on the next crawl.
 *
 * Packing (see packs.ts): an op taken from a checkpoint counts only if the container lists it as a single member
 * too, so a checkpoint adds no op that reading every member would not give; and if a single member is refused (its
 * content does not hash to its name), every checkpoint is read and a valid copy of that op found there is taken,
 * so readers with and without checkpoints end with the same ops even in a container written by a misbehaving party.
 */
export async function crawlContainer(container: ContainerUrl, previous: ContainerState, context: CrawlContext): Promise<CrawlResult> {
  let listing: ContainerListing;
  try {
    listing = await listContainer(context.fetch, container, { etag: previous.etag });
  } catch (error) {
    return stale(container, context, error, previous, [], []);
  }
  if (listing.notModified) {
    return { state: fresh(previous, context), ops: [], report: { container, outcome: 'unchanged', newOps: 0, refused: [], deferred: 0, error: null } };
  }
  const plan = planCrawl({
    container,
    members: listing.members,
    seen: new Set(previous.seen),
    knownIds: context.knownIds,
    limits: context.limits,
  });
  const crawl = new ContainerCrawl(container, previous, context, plan);
  await crawl.run();
  return crawl.result(listing.members, listing.etag);
}

const fresh = (state: ContainerState, context: CrawlContext): ContainerState => ({
  ...state,
  lastSuccess: context.now().toISOString(),
  error: null,
});

function stale(
  container: ContainerUrl,
  context: CrawlContext,
  error: unknown,
  state: ContainerState,
  ops: SourcedOp[],
  refused: readonly Refusal[],
): CrawlResult {
  const message = messageOf(error);
  return {
    state: { ...state, error: { at: context.now().toISOString(), message, status: statusOf(error) } },
    ops,
    report: { container, outcome: 'stale', newOps: ops.length, refused, deferred: 0, error: message },
  };
}

type Fetched = { readonly url: string; readonly id: OpId; readonly body: string };

/** One crawl of a listed container: executes its plan, collecting ops, refusals and what was seen. */
class ContainerCrawl {
  private readonly seen: Set<string>;
  private readonly refused: Refusal[];
  private readonly known: Set<OpId>;
  /** Single members not fetched yet, by op id. */
  private readonly singles: Map<OpId, string>;
  private readonly ops: SourcedOp[] = [];
  /** Valid ops found in checkpoints, by id: used only for ops the container lists as single members. */
  private readonly copies = new Map<OpId, AnyOp>();
  private failure: unknown = null;
  private deferred = 0;
  private packsRead = 0;
  private checkpointsRead = 0;
  private fromCheckpoints = 0;
  private fetched: Fetched[] = [];

  constructor(
    private readonly container: ContainerUrl,
    private readonly previous: ContainerState,
    private readonly context: CrawlContext,
    private readonly plan: CrawlPlan,
  ) {
    this.seen = new Set([...previous.seen, ...plan.held, ...plan.refused.map((r) => r.url)]);
    this.refused = [...plan.refused];
    this.known = new Set(context.knownIds);
    this.singles = new Map(plan.singles);
  }

  async run(): Promise<void> {
    if (this.plan.readFirst) {
      await this.readCheckpoints([this.plan.readFirst]);
      this.resolveFromCopies();
    }
    const { fetch, deferred } = planFetches(this.singles, this.plan.packs, this.context.limits.maxNewMembers);
    this.deferred = deferred;
    this.context.onMembersFound?.(fetch.length);
    await this.fetchAll(fetch);
    if (this.failure !== null) return;
    const lacking = lackingRefused(this.container, [...this.previous.refused, ...this.refused], this.plan.listedSingles, this.known);
    const more = checkpointsForRefused(this.plan.checkpoints, this.seen, lacking.length);
    if (more.length === 0) return;
    await this.readCheckpoints(more);
    this.resolveFromCopies();
  }

  result(members: readonly string[], etag: string | null): CrawlResult {
    const { container } = this;
    const state: ContainerState = {
      // An interrupted or capped crawl must list again next time, so the ETag is kept only when everything was read.
      etag: this.failure === null && this.deferred === 0 ? etag : null,
      seen: [...this.seen].sort(),
      refused: [...this.previous.refused, ...this.refused],
      lastSuccess: this.previous.lastSuccess,
      error: this.previous.error,
      checkpoints: members.map((url) => url.slice(container.length)).filter((name) => classifyMember(name).kind === 'checkpoint'),
    };
    const extra = { packs: this.packsRead, checkpoints: this.checkpointsRead, fromCheckpoints: this.fromCheckpoints };
    if (this.failure !== null) {
      const result = stale(container, this.context, this.failure, state, this.ops, this.refused);
      return { ...result, report: { ...result.report, ...extra } };
    }
    const report: ContainerReport = { container, outcome: 'updated', newOps: this.ops.length, refused: this.refused, deferred: this.deferred, error: null, ...extra };
    return { state: fresh(state, this.context), ops: this.ops, report };
  }

  private take(op: AnyOp): void {
    if (this.known.has(op.id)) return;
    this.known.add(op.id);
    this.ops.push({ op, container: this.container });
  }

  private onFetchError(url: string, error: unknown): void {
    if (isUnservable(error)) {
      // Not a reason to call the pod stale and ask again on every sync: the answer would be the same.
      this.refused.push({ url, reason: `the pod server will not serve it as Turtle (HTTP ${statusOf(error)}), so it holds no ops (a binary file?)` });
      this.seen.add(url);
    } else if (isHttpError(error) && !isRetryable(error) && !isNotFound(error) && !isDenied(error)) {
      // The member itself is bad (e.g. too large): judged once, never fetched again.
      this.refused.push({ url, reason: error.message });
      this.seen.add(url);
    } else if (!isNotFound(error)) {
      this.failure ??= error;
    }
  }

  private async readPackAt(url: string, kind: 'pack' | 'checkpoint'): Promise<AnyOp[] | null> {
    const { limits } = this.context;
    try {
      const resource = await getResource(this.context.fetch, url, { maxBytes: limits.maxPackBytes });
      const name = url.slice(this.container.length);
      const read = await readPack(resource.body, this.container, name, { maxOps: limits.maxPackOps });
      this.refused.push(...read.refused);
      this.seen.add(url);
      if (kind === 'pack') this.packsRead++;
      else this.checkpointsRead++;
      return read.ops;
    } catch (error) {
      this.onFetchError(url, error);
      return null;
    }
  }

  private async readCheckpoints(which: readonly CheckpointMember[]): Promise<void> {
    for (const checkpoint of which) {
      if (this.failure !== null || this.seen.has(checkpoint.url)) continue;
      const read = await this.readPackAt(checkpoint.url, 'checkpoint');
      for (const op of read ?? []) this.copies.set(op.id, op);
    }
  }

  /** Takes, for every listed single this crawler lacks (unfetched, or refused), the valid copy a checkpoint holds. */
  private resolveFromCopies(): void {
    for (const [id, url] of [...this.singles]) {
      const copy = this.copies.get(id);
      if (!copy) continue;
      this.take(copy);
      this.singles.delete(id);
      this.seen.add(url);
      this.fromCheckpoints++;
    }
    for (const id of lackingRefused(this.container, [...this.previous.refused, ...this.refused], this.plan.listedSingles, this.known)) {
      const copy = this.copies.get(id);
      if (copy) this.take(copy);
    }
  }

  /** Fetches the planned members with bounded concurrency; single ops are judged in chunks as they arrive. */
  private async fetchAll(items: readonly FetchItem[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (this.failure === null && next < items.length) {
        const item = items[next++]!;
        try {
          await this.fetchOne(item);
        } finally {
          this.context.onMemberDone?.();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.context.limits.concurrency, items.length) }, worker));
    // What was fetched before a failure is still judged: it is on this device now, and need not be fetched again.
    if (this.fetched.length > 0) await this.judge(this.fetched);
  }

  private async fetchOne(item: FetchItem): Promise<void> {
    if (item.kind === 'pack') {
      for (const op of (await this.readPackAt(item.url, 'pack')) ?? []) this.take(op);
      return;
    }
    try {
      const resource = await getResource(this.context.fetch, item.url, { maxBytes: this.context.limits.maxOpBytes });
      this.fetched.push({ url: item.url, id: item.id, body: resource.body });
    } catch (error) {
      this.onFetchError(item.url, error);
    }
    if (this.fetched.length >= JUDGE_CHUNK) {
      const documents = this.fetched;
      this.fetched = [];
      await this.judge(documents);
    }
  }

  /**
   * Judges fetched single ops together, each by the table-driven reader: the SHACL shapes' verdicts (proven by
   * test/rdf/agreement.test.ts) at a fraction of SHACL's cost; each op gets exactly the verdict it would get alone.
   */
  private async judge(documents: readonly Fetched[]): Promise<void> {
    const results = decodeOpTurtles(documents.map(({ url, body }) => ({ turtle: body, baseIri: url })));
    documents.forEach(({ url, id }, k) => {
      const parsed = results[k]!;
      if (!parsed.ok) this.refused.push({ url, reason: parsed.reason });
      else if (parsed.op.id !== id) this.refused.push({ url, reason: `its content hashes to ${parsed.op.id.slice(0, 12)}…, not to its name: it was altered after it was written` });
      else this.take(parsed.op);
      this.seen.add(url);
      this.singles.delete(id);
    });
  }
}
