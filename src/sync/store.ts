import type { ContainerUrl, InvoiceId, OpId, WebId } from '../model/ids.ts';
import type { AnyOp, SourcedOp } from '../model/ops.ts';
import type { Side } from '../model/roles.ts';
import type { PublishedKey } from '../model/signatures.ts';

/**
 * What a device keeps locally: the ops it has fetched (immutable, so never fetched twice), what it knows of
 * each container, and its outbox of ops not yet on its pod. Narrow on purpose: a file store for the CLI and
 * a memory store for tests and embedders pass one shared contract suite.
 */
export interface InvoiceRef {
  readonly invoiceId: InvoiceId;
  /** Where this device's party writes its ops for this invoice. */
  readonly ownContainer: ContainerUrl;
  /** The creator's op container: the invoice's identity, and the only place its CreateInvoice may come from. */
  readonly origin: ContainerUrl;
  /** Containers to crawl even before the CreateInvoice is known (e.g. the one an invitation named). */
  readonly seedContainers: readonly ContainerUrl[];
  /** WebIDs this party's invoice folder grants read to, as last written to its ACL. */
  readonly readers?: readonly WebId[];
  /** Readers whose change feed on this party's pod this device has opened to them (change-feed.ts). */
  readonly feedReaders?: readonly WebId[];
  /** The pods of the invoice's participants as of the last sync: whose change feeds tell when it changes. */
  readonly participantPods?: readonly string[];
  /**
   * Per pod: when the last crawl that read every container of the invoice on that pod to the end started, by that
   * pod's clock. The change feed on that pod holds everything since for it; a feed this device never read is read
   * from the earliest of these among the invoices on its pod.
   */
  readonly syncedAt?: Readonly<Record<string, number>>;
  /** What a list shows of the invoice, as of the last fold of what this device holds: a list need not fold it again. */
  readonly summary?: InvoiceSummary;
}

/** One invoice in a list: a cache of its fold, rewritten whenever the device's ops of it change. */
export interface InvoiceSummary {
  readonly status: string;
  readonly currency: string | null;
  readonly gross: string;
  readonly buyer: string | null;
  readonly seller: string | null;
  /** This business's side on the invoice (null: neither buyer nor seller, e.g. a carrier). */
  readonly side: Side | null;
  readonly ops: number;
}

/** What a device knows of one change feed it follows (change-feed.ts, feed-read.ts). */
export interface FeedState {
  /**
   * The pod server's time (ms) of the last read this state records: the next read lists the feed's day containers
   * from the day FEED_DAY_MARGIN_MS before it on. Absent: the feed was never read in this layout (a state written by
   * an earlier version has only `etag` and `seen`), and the next read starts it.
   */
  readonly at?: number;
  /** Each day container listed and still in the window: the ETag of its last listing and its entries handled. */
  readonly days?: Readonly<Record<string, FeedDayState>>;
  /** New entries whose resource no crawl listed yet, with when that was first found (feed-read.ts, `settleFeed`). */
  readonly pending?: Readonly<Record<string, string>>;
}

export interface FeedDayState {
  /** ETag of the last listing (null: the server sent none, or list it in full next time). */
  readonly etag: string | null;
  readonly seen: readonly string[];
  /** An entry in it is not handled yet: it is listed again (in full) however old it is. */
  readonly open?: true;
}

export interface ContainerState {
  /** ETag of the last listing, for a conditional request that costs a 304 when nothing changed. */
  readonly etag: string | null;
  /** Members already fetched or judged: never fetched again. */
  readonly seen: readonly string[];
  /** Members that could not be read as ops, with why: reported, not retried. */
  readonly refused: ReadonlyArray<{ readonly url: string; readonly reason: string }>;
  readonly lastSuccess: string | null;
  /** The last failure, cleared by the next success. */
  readonly error: { readonly at: string; readonly message: string; readonly status: number } | null;
  /** Names of the checkpoints in the last listing (packs.ts): tells a writer whether a new one is due. */
  readonly checkpoints?: readonly string[];
}

export interface OutboxEntry {
  readonly op: AnyOp;
  readonly container: ContainerUrl;
  readonly queuedAt: string;
  /** Ops queued with the same batch label are put on the pod together, as one pack (packs.ts). */
  readonly batch?: string;
}

export interface DeviceStore {
  listInvoices(): Promise<InvoiceRef[]>;
  /**
   * Optional: the ids of the invoices that may have a reference here, without reading the references (a superset of
   * listInvoices' ids). A command resolving an invoice number on a device with many invoices reads these instead.
   */
  invoiceIds?(): Promise<InvoiceId[]>;
  getInvoice(invoiceId: InvoiceId): Promise<InvoiceRef | undefined>;
  saveInvoice(ref: InvoiceRef): Promise<void>;

  /** Every op fetched or written for the invoice, with the container it lives in. */
  loadOps(invoiceId: InvoiceId): Promise<SourcedOp[]>;
  /** Adds ops (a duplicate of a stored op is ignored). Durable when it resolves. */
  appendOps(invoiceId: InvoiceId, ops: readonly SourcedOp[]): Promise<void>;

  loadContainerStates(invoiceId: InvoiceId): Promise<Record<string, ContainerState>>;
  saveContainerStates(invoiceId: InvoiceId, states: Record<string, ContainerState>): Promise<void>;

  /** The change feeds this device follows, by feed URL. */
  loadFeeds(): Promise<Record<string, FeedState>>;
  saveFeeds(feeds: Record<string, FeedState>): Promise<void>;

  /** Durable before it resolves: an op typed by a person survives a crash from here on. */
  enqueue(entry: OutboxEntry): Promise<void>;
  outbox(invoiceId?: InvoiceId): Promise<OutboxEntry[]>;
  dequeue(opId: OpId): Promise<void>;

  /** The device keys last read from the participants' WebID profiles (signing replicas only; optional for embedders' stores). */
  loadKeys?(): Promise<KnownKeys>;
  saveKeys?(known: KnownKeys): Promise<void>;
}

/** The device keys last read from the participants' WebID profiles, and when each profile was last read (ms). */
export interface KnownKeys {
  readonly keys: readonly PublishedKey[];
  readonly readAt: Readonly<Record<WebId, number>>;
}
export const NO_KEYS: KnownKeys = { keys: [], readAt: {} };

/** Oldest first; entries queued together (a batch) by op id: the same order from every store. */
export const outboxOrder = (a: OutboxEntry, b: OutboxEntry): number =>
  compareText(a.queuedAt, b.queuedAt) || compareText(a.op.id, b.op.id);

/** Code-unit order (not the locale's), so every device sorts alike. */
function compareText(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

export const emptyContainerState = (): ContainerState => ({ etag: null, seen: [], refused: [], lastSuccess: null, error: null });

/** Records a member as seen, so crawls do not fetch it (a pack or checkpoint this device wrote holds only ops it has). */
export async function markSeen(store: DeviceStore, invoiceId: InvoiceId, container: ContainerUrl, url: string): Promise<void> {
  const states = await store.loadContainerStates(invoiceId);
  const state = states[container] ?? emptyContainerState();
  if (state.seen.includes(url)) return;
  states[container] = { ...state, seen: [...state.seen, url].sort() };
  await store.saveContainerStates(invoiceId, states);
}

/** In memory: for tests, and for embedders that keep their own persistence. */
export class MemoryDeviceStore implements DeviceStore {
  private readonly invoices = new Map<InvoiceId, InvoiceRef>();
  private readonly ops = new Map<InvoiceId, Map<string, SourcedOp>>();
  private readonly states = new Map<InvoiceId, Record<string, ContainerState>>();
  private readonly queue = new Map<OpId, OutboxEntry>();
  private feeds: Record<string, FeedState> = {};

  async listInvoices(): Promise<InvoiceRef[]> {
    return [...this.invoices.values()].sort((a, b) => (a.invoiceId < b.invoiceId ? -1 : 1));
  }
  async invoiceIds(): Promise<InvoiceId[]> {
    return [...this.invoices.keys()].sort();
  }
  async getInvoice(invoiceId: InvoiceId): Promise<InvoiceRef | undefined> {
    return this.invoices.get(invoiceId);
  }
  async saveInvoice(ref: InvoiceRef): Promise<void> {
    this.invoices.set(ref.invoiceId, ref);
  }
  async loadOps(invoiceId: InvoiceId): Promise<SourcedOp[]> {
    return [...(this.ops.get(invoiceId)?.values() ?? [])];
  }
  async appendOps(invoiceId: InvoiceId, ops: readonly SourcedOp[]): Promise<void> {
    let stored = this.ops.get(invoiceId);
    if (!stored) this.ops.set(invoiceId, (stored = new Map()));
    for (const sourced of ops) stored.set(`${sourced.op.id} ${sourced.container}`, sourced);
  }
  async loadContainerStates(invoiceId: InvoiceId): Promise<Record<string, ContainerState>> {
    return structuredClone(this.states.get(invoiceId) ?? {});
  }
  async saveContainerStates(invoiceId: InvoiceId, states: Record<string, ContainerState>): Promise<void> {
    this.states.set(invoiceId, structuredClone(states));
  }
  async loadFeeds(): Promise<Record<string, FeedState>> {
    return structuredClone(this.feeds);
  }
  async saveFeeds(feeds: Record<string, FeedState>): Promise<void> {
    this.feeds = structuredClone(feeds);
  }
  async enqueue(entry: OutboxEntry): Promise<void> {
    this.queue.set(entry.op.id, entry);
  }
  async outbox(invoiceId?: InvoiceId): Promise<OutboxEntry[]> {
    return [...this.queue.values()].filter((entry) => invoiceId === undefined || entry.op.invoiceId === invoiceId).sort(outboxOrder);
  }
  async dequeue(opId: OpId): Promise<void> {
    this.queue.delete(opId);
  }
  private keys: KnownKeys = NO_KEYS;
  async loadKeys(): Promise<KnownKeys> {
    return this.keys;
  }
  async saveKeys(known: KnownKeys): Promise<void> {
    this.keys = { keys: [...known.keys], readAt: { ...known.readAt } };
  }
}
