import { HttpError } from '../model/errors.ts';
import { isOpId, type ContainerUrl, type OpId } from '../model/ids.ts';
import type { SourcedOp } from '../model/ops.ts';
import { getResource, listContainer } from '../pod/resources.ts';
import { parseOpTurtle, type OpValidator } from '../rdf/op-turtle.ts';
import type { ContainerState } from './store.ts';

/**
 * Reads one participant's op container: one conditional listing (a 304 when nothing changed), then only the
 * members it has not seen, with bounded concurrency. Each member is size-capped, SHACL-validated and checked
 * against its name's hash before it becomes a SourcedOp. Failures never throw: the container is reported
 * stale with the error, and whatever was not fetched is fetched on the next crawl.
 */
export interface CrawlLimits {
  /** Largest op resource read; an op is a few hundred bytes, so anything near this is hostile. */
  readonly maxOpBytes: number;
  /** Most new members fetched from one container in one crawl; the rest wait for the next. */
  readonly maxNewMembers: number;
  readonly concurrency: number;
}

export const DEFAULT_LIMITS: CrawlLimits = { maxOpBytes: 256 * 1024, maxNewMembers: 2000, concurrency: 6 };

export interface ContainerReport {
  readonly container: ContainerUrl;
  /** 'unchanged': answered 304; 'updated': listed and fetched; 'stale': the pod failed, last known state kept. */
  readonly outcome: 'unchanged' | 'updated' | 'stale';
  readonly newOps: number;
  readonly refused: ReadonlyArray<{ readonly url: string; readonly reason: string }>;
  /** Members left for a later crawl because of `maxNewMembers`. */
  readonly deferred: number;
  readonly error: string | null;
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

  const seen = new Set(previous.seen);
  const refused: Array<{ url: string; reason: string }> = [];
  const toFetch: Array<{ url: string; id: OpId }> = [];
  for (const url of listing.members) {
    if (seen.has(url)) continue;
    const name = url.startsWith(container) ? url.slice(container.length) : '';
    if (!isOpId(name)) {
      seen.add(url);
      refused.push({ url, reason: 'its name is not an op id (64 hex characters), so it is not an op resource' });
      continue;
    }
    if (context.knownIds.has(name)) {
      seen.add(url);
      continue;
    }
    toFetch.push({ url, id: name });
  }
  const batch = toFetch.slice(0, context.limits.maxNewMembers);
  const deferred = toFetch.length - batch.length;
  context.onMembersFound?.(batch.length);

  const ops: SourcedOp[] = [];
  let failure: unknown = null;
  let next = 0;
  const worker = async () => {
    while (failure === null && next < batch.length) {
      const { url, id } = batch[next++]!;
      try {
        const resource = await getResource(context.fetch, url, { maxBytes: context.limits.maxOpBytes });
        const parsed = await parseOpTurtle(resource.body, url, context.validator);
        if (!parsed.ok) refused.push({ url, reason: parsed.reason });
        else if (parsed.op.id !== id) refused.push({ url, reason: `its content hashes to ${parsed.op.id.slice(0, 12)}…, not to its name: it was altered after it was written` });
        else ops.push({ op: parsed.op, container });
        seen.add(url);
      } catch (error) {
        if (error instanceof HttpError && !error.retryable && error.status !== 404 && error.status !== 401 && error.status !== 403) {
          // The member itself is bad (e.g. too large): judged once, never fetched again.
          refused.push({ url, reason: error.message });
          seen.add(url);
        } else if (!(error instanceof HttpError && error.status === 404)) {
          failure = error;
        }
      } finally {
        context.onMemberDone?.();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(context.limits.concurrency, batch.length) }, worker));

  const refusedAll = [...previous.refused, ...refused];
  const state: ContainerState = {
    // An interrupted or capped crawl must list again next time, so the ETag is kept only when everything was read.
    etag: failure === null && deferred === 0 ? listing.etag : null,
    seen: [...seen].sort(),
    refused: refusedAll,
    lastSuccess: previous.lastSuccess,
    error: previous.error,
  };
  if (failure !== null) return stale(failure, state, ops, refused);
  return { state: fresh(state), ops, report: { container, outcome: 'updated', newOps: ops.length, refused, deferred, error: null } };
}
