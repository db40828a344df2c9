import { HttpError } from '../model/errors.ts';
import type { ContainerUrl, OpId } from '../model/ids.ts';
import type { AnyOp, SourcedOp } from '../model/ops.ts';
import { getResource, listContainer } from '../pod/resources.ts';
import { decodeOpTurtles } from '../rdf/op-resource.ts';
import type { OpValidator } from '../rdf/shacl.ts';
import { classifyMember, readPack } from './packs.ts';
import type { ContainerState } from './store.ts';

/**
 * Reads one participant's op container: one conditional listing (a 304 when nothing changed), then only the
 * members it has not seen, with bounded concurrency. Each member is size-capped, read strictly (what the SHACL
 * shapes accept, see src/rdf/codec.ts) and checked against its name's hash before it becomes a SourcedOp.
 * Failures never throw: the container is reported stale with the error, and whatever was not fetched is fetched
 * on the next crawl.
 *
 * Packing (see packs.ts): every unseen pack is read (one request for all its ops). A checkpoint is a copy of
 * single ops of the container: a crawler far behind reads the newest one first and then skips every single
 * member whose op it found there; a crawler that is up to date never reads one (it would fetch ops it has).
 * An op taken from a checkpoint counts only if the container lists it as a single member too, so a checkpoint
 * adds no op that reading every member would not give; and if a single member is refused (its content does not
 * hash to its name), every checkpoint is read and a valid copy of that op found there is taken, so readers with
 * and without checkpoints end with the same ops even in a container written by a misbehaving party.
 */
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
  /** Read a checkpoint to spare GETs (false: fetch every single member, e.g. to compare; a checkpoint is still read for a copy of a refused member). */
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
  readonly refused: ReadonlyArray<{ readonly url: string; readonly reason: string }>;
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
  readonly validator: OpValidator;
  readonly limits: CrawlLimits;
  /** Ops the device already holds: a member named by one of these is never fetched. */
  readonly knownIds: ReadonlySet<OpId>;
  readonly now: () => Date;
  readonly onMemberDone?: () => void;
  readonly onMembersFound?: (count: number) => void;
}

export async function crawlContainer(container: ContainerUrl, previous: ContainerState, context: CrawlContext): Promise<CrawlResult> {
  const stale = (error: unknown, state: ContainerState, ops: SourcedOp[], refused: ContainerReport['refused']): CrawlResult => {
    const status = error instanceof HttpError ? error.status : 0;
    const message = error instanceof Error ? error.message : String(error);
    return {
      state: { ...state, error: { at: context.now().toISOString(), message, status } },
      ops,
      report: { container, outcome: 'stale', newOps: ops.length, refused, deferred: 0, error: message },
    };
  };

  let listing;
  try {
    listing = await listContainer(context.fetch, container, { etag: previous.etag });
  } catch (error) {
    return stale(error, previous, [], []);
  }
  const fresh = (state: ContainerState): ContainerState => ({ ...state, lastSuccess: context.now().toISOString(), error: null });
  if (listing.notModified) {
    return { state: fresh(previous), ops: [], report: { container, outcome: 'unchanged', newOps: 0, refused: [], deferred: 0, error: null } };
  }

  const { limits } = context;
  const seen = new Set(previous.seen);
  const refused: Array<{ url: string; reason: string }> = [];
  const known = new Set<OpId>(context.knownIds);
  /** Single members not fetched yet, by op id. */
  const singles = new Map<OpId, string>();
  /** Ids of every single member listed (fetched or not). */
  const listedSingles = new Set<OpId>();
  const packs: string[] = [];
  const checkpoints: Array<{ url: string; name: string; count: number; hash: string }> = [];
  for (const url of listing.members) {
    const name = url.startsWith(container) ? url.slice(container.length) : '';
    const member = classifyMember(name);
    if (member.kind === 'op') listedSingles.add(member.id);
    if (seen.has(url)) continue;
    switch (member.kind) {
      case 'op':
        if (known.has(member.id)) seen.add(url);
        else singles.set(member.id, url);
        break;
      case 'pack':
        packs.push(url);
        break;
      case 'checkpoint':
        checkpoints.push({ url, name, count: member.count, hash: member.hash });
        break;
      default:
        seen.add(url);
        refused.push({ url, reason: 'its name is not an op id (64 hex characters), pack-<hash> or checkpoint-<count>-<hash>, so it holds no ops' });
    }
  }
  checkpoints.sort((a, b) => b.count - a.count || (a.hash < b.hash ? 1 : a.hash > b.hash ? -1 : 0));

  const ops: SourcedOp[] = [];
  const take = (op: AnyOp) => {
    if (known.has(op.id)) return;
    known.add(op.id);
    ops.push({ op, container });
  };
  let failure: unknown = null;
  let packsRead = 0;
  let checkpointsRead = 0;
  let fromCheckpoints = 0;
  /** Valid ops found in checkpoints, by id: used only for ops the container lists as single members. */
  const copies = new Map<OpId, AnyOp>();
  const onFetchError = (url: string, error: unknown) => {
    if (error instanceof HttpError && !error.retryable && error.status !== 404 && error.status !== 401 && error.status !== 403) {
      // The member itself is bad (e.g. too large): judged once, never fetched again.
      refused.push({ url, reason: error.message });
      seen.add(url);
    } else if (!(error instanceof HttpError && error.status === 404)) {
      failure ??= error;
    }
  };
  const readPackAt = async (url: string, kind: 'pack' | 'checkpoint'): Promise<AnyOp[] | null> => {
    try {
      const resource = await getResource(context.fetch, url, { maxBytes: limits.maxPackBytes });
      const read = await readPack(resource.body, container, url.slice(container.length), { maxOps: limits.maxPackOps });
      refused.push(...read.refused);
      seen.add(url);
      if (kind === 'pack') packsRead++;
      else checkpointsRead++;
      return read.ops;
    } catch (error) {
      onFetchError(url, error);
      return null;
    }
  };
  const readCheckpoints = async (which: typeof checkpoints) => {
    for (const checkpoint of which) {
      if (failure !== null || seen.has(checkpoint.url)) continue;
      const read = await readPackAt(checkpoint.url, 'checkpoint');
      for (const op of read ?? []) copies.set(op.id, op);
    }
  };
  /** Takes, for every listed single this crawler lacks (unfetched, or refused), the valid copy a checkpoint holds. */
  const resolveFromCopies = () => {
    for (const [id, url] of [...singles]) {
      const copy = copies.get(id);
      if (!copy) continue;
      take(copy);
      singles.delete(id);
      seen.add(url);
      fromCheckpoints++;
    }
    for (const id of unresolvedRefused()) {
      const copy = copies.get(id);
      if (copy) take(copy);
    }
  };
  /** Listed single members that were refused and whose op this crawler still lacks. */
  const unresolvedRefused = (): OpId[] => {
    const refusedIds = new Set<OpId>();
    for (const { url } of [...previous.refused, ...refused]) {
      const name = url.startsWith(container) ? url.slice(container.length) : '';
      const member = classifyMember(name);
      if (member.kind === 'op' && listedSingles.has(member.id) && !known.has(member.id)) refusedIds.add(member.id);
    }
    return [...refusedIds];
  };

  // A crawler far behind reads the newest checkpoint first (see the class comment for when).
  const newest = checkpoints[0];
  if (limits.useCheckpoints && newest) {
    const have = listedSingles.size - singles.size;
    const gain = newest.count - have;
    if (singles.size >= limits.checkpointMinGain && gain >= Math.max(limits.checkpointMinGain, have)) {
      await readCheckpoints([newest]);
      resolveFromCopies();
    }
  }

  const batch = [...[...singles].map(([id, url]) => ({ url, id, pack: false })), ...packs.map((url) => ({ url, id: null, pack: true }))].slice(0, limits.maxNewMembers);
  const deferred = singles.size + packs.length - batch.length;
  context.onMembersFound?.(batch.length);

  // Fetched single ops are judged in chunks, each by the table-driven reader (the SHACL shapes' verdicts, proven by
  // test/rdf/agreement.test.ts, at a fraction of SHACL's cost); each op gets exactly the verdict it would get alone.
  let fetched: Array<{ url: string; id: OpId; body: string }> = [];
  const judge = async (documents: Array<{ url: string; id: OpId; body: string }>) => {
    const results = decodeOpTurtles(documents.map(({ url, body }) => ({ turtle: body, baseIri: url })));
    documents.forEach(({ url, id }, k) => {
      const parsed = results[k]!;
      if (!parsed.ok) refused.push({ url, reason: parsed.reason });
      else if (parsed.op.id !== id) refused.push({ url, reason: `its content hashes to ${parsed.op.id.slice(0, 12)}…, not to its name: it was altered after it was written` });
      else take(parsed.op);
      seen.add(url);
      singles.delete(id);
    });
  };
  let next = 0;
  const worker = async () => {
    while (failure === null && next < batch.length) {
      const item = batch[next++]!;
      try {
        if (item.pack) {
          for (const op of (await readPackAt(item.url, 'pack')) ?? []) take(op);
          continue;
        }
        const { url, id } = item as { url: string; id: OpId };
        try {
          const resource = await getResource(context.fetch, url, { maxBytes: limits.maxOpBytes });
          fetched.push({ url, id, body: resource.body });
        } catch (error) {
          onFetchError(url, error);
        }
        if (fetched.length >= JUDGE_CHUNK) {
          const documents = fetched;
          fetched = [];
          await judge(documents);
        }
      } finally {
        context.onMemberDone?.();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limits.concurrency, batch.length) }, worker));
  // What was fetched before a failure is still judged: it is on this device now, and need not be fetched again.
  if (fetched.length > 0) await judge(fetched);

  // A refused single member may have a valid copy in a checkpoint: then every checkpoint is read, so that this
  // crawler ends with the same ops as one that read them all.
  if (failure === null && unresolvedRefused().length > 0 && checkpoints.some((c) => !seen.has(c.url))) {
    await readCheckpoints(checkpoints);
    resolveFromCopies();
  }

  const refusedAll = [...previous.refused, ...refused];
  const state: ContainerState = {
    // An interrupted or capped crawl must list again next time, so the ETag is kept only when everything was read.
    etag: failure === null && deferred === 0 ? listing.etag : null,
    seen: [...seen].sort(),
    refused: refusedAll,
    lastSuccess: previous.lastSuccess,
    error: previous.error,
    checkpoints: listing.members.map((url) => url.slice(container.length)).filter((name) => classifyMember(name).kind === 'checkpoint'),
  };
  const extra = { packs: packsRead, checkpoints: checkpointsRead, fromCheckpoints };
  if (failure !== null) {
    const result = stale(failure, state, ops, refused);
    return { ...result, report: { ...result.report, ...extra } };
  }
  return { state: fresh(state), ops, report: { container, outcome: 'updated', newOps: ops.length, refused, deferred, error: null, ...extra } };
}
