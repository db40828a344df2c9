import { acceptanceOf, assertPartyMayWrite, buildableOps, makeOp, MAX_CLOCK_DRIFT_MS, proposalOf } from '../model/builder.ts';
import { FedinvoiceError, HttpError, OpRefusedError } from '../model/errors.ts';
import { fold } from '../model/fold.ts';
import { asContainerUrl, isInvoiceId, type ContainerUrl, type InvoiceId, type OpId, type WebId } from '../model/ids.ts';
import type { FoldedInvoice } from '../model/invoice.ts';
import type { AnyOp, Op, OpType, PartyInfo, PayloadByType, SourcedOp } from '../model/ops.ts';
import type { Side } from '../model/roles.ts';
import { setInvoiceAccess } from '../pod/acl.ts';
import { listContainer, putImmutable } from '../pod/resources.ts';
import { opToTurtle } from '../rdf/codec.ts';
import type { OpValidator } from '../rdf/shacl.ts';
import { crawlContainer, DEFAULT_LIMITS, type ContainerReport, type CrawlLimits } from './crawler.ts';
import { classifyMember, newestCheckpoint, packResource } from './packs.ts';
import { emptyContainerState, type ContainerState, type DeviceStore, type InvoiceRef, type OutboxEntry } from './store.ts';

/** Who this device is: the pod decides what it may write; `side` only drives the local refusal of seed 000. */
export interface DeviceIdentity {
  readonly webId: WebId;
  readonly side: Side;
  /** The party's pod, e.g. http://localhost:3001/buyer/ */
  readonly podRoot: string;
  /** Device label put on every op, e.g. "desktop". */
  readonly device: string;
}

export interface ReplicaOptions {
  readonly store: DeviceStore;
  /** The device session's authenticated fetch. */
  readonly fetch: typeof fetch;
  readonly validator: OpValidator;
  readonly identity: DeviceIdentity;
  readonly limits?: Partial<CrawlLimits>;
  readonly now?: () => number;
  readonly onProgress?: (progress: { done: number; total: number }) => void;
  /**
   * After a sync, write a checkpoint of this party's single ops when at least this many (and at least a quarter
   * of those the newest checkpoint holds) are not in one yet. 0: never automatically. Default 200.
   */
  readonly checkpointEvery?: number;
}

/** One op of a batch: what `write` takes, for several ops made together. */
export interface BatchEntry<T extends OpType = OpType> {
  readonly type: T;
  readonly payload: PayloadByType[T];
}

export interface BatchResult {
  readonly ops: AnyOp[];
  readonly outbox: OutboxReport;
}

export interface CheckpointResult {
  readonly url: string;
  readonly ops: number;
  readonly outcome: 'created' | 'existed';
}

export interface OutboxReport {
  readonly pushed: number;
  /** Ops still waiting in the outbox (the pod could not take them now). */
  readonly queued: number;
  readonly error: string | null;
}

export interface WriteResult {
  readonly op: AnyOp;
  readonly outbox: OutboxReport;
}

export interface SyncResult {
  readonly invoice: FoldedInvoice;
  readonly containers: readonly ContainerReport[];
  readonly outbox: OutboxReport;
  /** HTTP requests this sync made (its real cost: a pod answers a few hundred a second at best). */
  readonly requests: number;
  readonly newOps: number;
  /** The checkpoint this sync wrote (see `checkpointEvery`), if any. */
  readonly checkpoint?: CheckpointResult | null;
}

export interface CreateInvoiceInput {
  readonly currency: string;
  readonly counterparty: { readonly webId: WebId; readonly podRoot: string };
  readonly ownInfo: PartyInfo;
  readonly counterpartyInfo: PartyInfo;
}

const foldRef = (ops: readonly SourcedOp[], ref: InvoiceRef): FoldedInvoice => fold(ops, { invoiceId: ref.invoiceId, origin: ref.origin });

export const invoiceContainerOf = (podRoot: string, invoiceId: InvoiceId): string => `${podRoot}invoices/${invoiceId}/`;
export const opsContainerOf = (podRoot: string, invoiceId: InvoiceId): ContainerUrl => asContainerUrl(`${invoiceContainerOf(podRoot, invoiceId)}ops/`);

/**
 * One device's replica of its invoices. Writes go to the durable outbox first and then to the device's own pod;
 * reads crawl every participant's op container and fold the union. Nothing here keeps state outside the store.
 */
export class Replica {
  private requestCount = 0;
  readonly fetch: typeof fetch;
  private readonly limits: CrawlLimits;
  private readonly now: () => number;

  constructor(private readonly options: ReplicaOptions) {
    const inner = options.fetch;
    this.fetch = ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
      this.requestCount++;
      return inner(input, init);
    }) as typeof fetch;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.now = options.now ?? Date.now;
  }

  get identity(): DeviceIdentity {
    return this.options.identity;
  }

  get requests(): number {
    return this.requestCount;
  }

  ownContainer(invoiceId: InvoiceId): ContainerUrl {
    return opsContainerOf(this.identity.podRoot, invoiceId);
  }

  /** Starts an invoice: grants the counterparty read on this party's invoice folder, then writes CreateInvoice. */
  async createInvoice(invoiceId: InvoiceId, input: CreateInvoiceInput): Promise<WriteResult> {
    if (!isInvoiceId(invoiceId)) throw new FedinvoiceError(`"${invoiceId}" is not a valid invoice id: use letters, digits, ".", "_" or "-" (at most 64)`);
    if (await this.options.store.getInvoice(invoiceId)) throw new FedinvoiceError(`invoice ${invoiceId} already exists on this device`);
    const me = this.identity;
    const mine = { webId: me.webId, container: this.ownContainer(invoiceId), info: input.ownInfo };
    const theirs = { webId: input.counterparty.webId, container: opsContainerOf(input.counterparty.podRoot, invoiceId), info: input.counterpartyInfo };
    const payload: PayloadByType['CreateInvoice'] = {
      currency: input.currency,
      buyer: me.side === 'buyer' ? mine : theirs,
      seller: me.side === 'seller' ? mine : theirs,
    };
    await setInvoiceAccess(this.fetch, invoiceContainerOf(me.podRoot, invoiceId), me.webId, [input.counterparty.webId]);
    await this.options.store.saveInvoice({ invoiceId, ownContainer: mine.container, origin: mine.container, seedContainers: [mine.container], readers: [input.counterparty.webId] });
    return this.write(invoiceId, 'CreateInvoice', payload);
  }

  /**
   * Joins an invoice another party created, from the op container its invitation names: crawls it, checks
   * that the CreateInvoice names this device's WebID, and grants every participant read on this party's ops.
   */
  async joinInvoice(invoiceId: InvoiceId, from: ContainerUrl): Promise<SyncResult> {
    if (!isInvoiceId(invoiceId)) throw new FedinvoiceError(`"${invoiceId}" is not a valid invoice id`);
    const existing = await this.options.store.getInvoice(invoiceId);
    await this.options.store.saveInvoice({
      invoiceId,
      ownContainer: this.ownContainer(invoiceId),
      origin: existing?.origin ?? from,
      seedContainers: [...new Set([...(existing?.seedContainers ?? []), from])],
      readers: existing?.readers ?? [],
    });
    const result = await this.sync(invoiceId);
    const { buyer, seller } = result.invoice;
    if (!buyer || !seller) {
      throw new FedinvoiceError(`no CreateInvoice for ${invoiceId} could be read from ${from}${result.containers[0]?.error ? `: ${result.containers[0].error}` : ''}`);
    }
    const mine = this.identity.side === 'buyer' ? buyer : seller;
    if (mine.webId !== this.identity.webId) {
      throw new FedinvoiceError(`invoice ${invoiceId} names ${mine.webId} as its ${this.identity.side}, not this device's WebID ${this.identity.webId}`);
    }
    if (mine.container !== this.ownContainer(invoiceId)) {
      await this.options.store.saveInvoice({ ...(await this.options.store.getInvoice(invoiceId))!, ownContainer: mine.container });
    }
    return result;
  }

  /**
   * Makes an op from this device's current view and queues it durably, then tries to put it on the pod.
   * Refused locally, with nothing written, when the party may not write it or the fold would reject it.
   */
  async write<T extends OpType>(invoiceId: InvoiceId, type: T, payload: PayloadByType[T]): Promise<WriteResult> {
    const ref = await this.requireInvoice(invoiceId);
    assertPartyMayWrite(this.identity.side, type);
    const { ops: known } = await this.latest(ref);
    const view = await this.buildingView(ref);
    const op = makeOp(type, payload, { invoiceId, device: this.identity.device, heads: view.heads, latestClock: view.latestClock }, this.now()) as Op<T> & AnyOp;
    const sourced: SourcedOp = { op, container: ref.ownContainer };
    const after = foldRef([...known, sourced], ref);
    const verdict = after.log.find((entry) => entry.opId === op.id);
    if (verdict?.state === 'rejected') throw new OpRefusedError(`${type} was not written: ${verdict.reason}`);

    await this.options.store.enqueue({ op, container: ref.ownContainer, queuedAt: new Date(this.now()).toISOString() });
    await this.options.store.appendOps(invoiceId, [sourced]);
    this.remember(invoiceId, [...known, sourced], after);
    const outbox = await this.pushOutbox(invoiceId);
    return { op, outbox };
  }

  /**
   * Makes several ops at once (e.g. the lines of an imported order), each depending on the one before, and puts
   * them on the pod in ONE request: a pack (packs.ts). All or nothing locally: if the fold would reject any of
   * them, none is written. The outbox holds them (durably) until the pack is on the pod.
   */
  async writeBatch(invoiceId: InvoiceId, entries: readonly BatchEntry[]): Promise<BatchResult> {
    const ref = await this.requireInvoice(invoiceId);
    if (entries.length === 0) return { ops: [], outbox: await this.pushOutbox(invoiceId) };
    for (const entry of entries) assertPartyMayWrite(this.identity.side, entry.type);
    const { ops: known } = await this.latest(ref);
    const view = await this.buildingView(ref);
    let heads = view.heads;
    let latestClock = view.latestClock;
    const ops: AnyOp[] = [];
    const now = this.now();
    for (const entry of entries) {
      const op = makeOp(entry.type, entry.payload, { invoiceId, device: this.identity.device, heads, latestClock }, now) as AnyOp;
      ops.push(op);
      heads = [op.id];
      latestClock = op.clock;
    }
    const sourced: SourcedOp[] = ops.map((op) => ({ op, container: ref.ownContainer }));
    const after = foldRef([...known, ...sourced], ref);
    const ids = new Set<OpId>(ops.map((op) => op.id));
    const bad = after.log.find((entry) => ids.has(entry.opId) && entry.state === 'rejected');
    if (bad) throw new OpRefusedError(`the batch was not written: its ${bad.type} ${bad.opId.slice(0, 12)}… would be rejected: ${bad.reason}`);

    const batch = `batch-${ops[0]!.id}`;
    const queuedAt = new Date(now).toISOString();
    for (const op of ops) await this.options.store.enqueue({ op, container: ref.ownContainer, queuedAt, batch });
    await this.options.store.appendOps(invoiceId, sourced);
    this.remember(invoiceId, [...known, ...sourced], after);
    return { ops, outbox: await this.pushOutbox(invoiceId) };
  }

  /** Puts queued ops on the pod: a batch as one pack, any other op alone. A pod that cannot take them now leaves them queued: never lost, never doubled. */
  async pushOutbox(invoiceId?: InvoiceId): Promise<OutboxReport> {
    const entries = await this.options.store.outbox(invoiceId);
    // Ops of one batch go together (in the place of the first one); a batch cut short by a crash is a smaller pack.
    const groups: OutboxEntry[][] = [];
    const batches = new Map<string, OutboxEntry[]>();
    for (const entry of entries) {
      const key = entry.batch ? `${entry.container} ${entry.batch}` : undefined;
      const group = key ? batches.get(key) : undefined;
      if (group) group.push(entry);
      else {
        const fresh = [entry];
        groups.push(fresh);
        if (key) batches.set(key, fresh);
      }
    }
    let pushed = 0;
    for (const group of groups) {
      const first = group[0]!;
      try {
        if (group.length === 1) await putImmutable(this.fetch, `${first.container}${first.op.id}`, opToTurtle(first.op));
        else {
          const pack = packResource('pack', group.map((entry) => entry.op));
          await putImmutable(this.fetch, `${first.container}${pack.name}`, pack.turtle);
          await this.markSeen(first.op.invoiceId, first.container, `${first.container}${pack.name}`);
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const retry = error instanceof HttpError && error.retryable ? ' It stays in the outbox; the next command or `fedinvoice sync` pushes it.' : ' It stays in the outbox.';
        return { pushed, queued: entries.length - pushed, error: message + retry };
      }
      for (const entry of group) await this.options.store.dequeue(entry.op.id);
      pushed += group.length;
    }
    return { pushed, queued: 0, error: null };
  }

  /**
   * Writes a checkpoint: one resource holding a copy of every single op this device has read from its party's
   * container (never an op only in the outbox or only in a pack: a checkpoint holds nothing that is not also a
   * single member). A new device then reads it instead of one GET per op. Returns null when there is nothing to pack.
   */
  async writeCheckpoint(invoiceId: InvoiceId): Promise<CheckpointResult | null> {
    const ref = await this.requireInvoice(invoiceId);
    const state = (await this.options.store.loadContainerStates(invoiceId))[ref.ownContainer];
    if (!state) return null;
    const singles = new Set<string>();
    for (const url of state.seen) {
      const member = classifyMember(url.startsWith(ref.ownContainer) ? url.slice(ref.ownContainer.length) : '');
      if (member.kind === 'op') singles.add(member.id);
    }
    for (const { url } of state.refused) singles.delete(url.slice(ref.ownContainer.length));
    const ops = (await this.options.store.loadOps(invoiceId)).filter((s) => s.container === ref.ownContainer && singles.has(s.op.id)).map((s) => s.op);
    if (ops.length < 2) return null;
    const pack = packResource('checkpoint', ops);
    const url = `${ref.ownContainer}${pack.name}`;
    const outcome = await putImmutable(this.fetch, url, pack.turtle);
    await this.markSeen(invoiceId, ref.ownContainer, url);
    return { url, ops: pack.count, outcome };
  }

  /** A pack or checkpoint this device wrote holds only ops it has: its own crawls need not read it. */
  private async markSeen(invoiceId: InvoiceId, container: ContainerUrl, url: string): Promise<void> {
    const states = await this.options.store.loadContainerStates(invoiceId);
    const state = states[container] ?? emptyContainerState();
    if (state.seen.includes(url)) return;
    states[container] = { ...state, seen: [...state.seen, url].sort() };
    await this.options.store.saveContainerStates(invoiceId, states);
  }

  /** Whether this party's container has enough single ops that no checkpoint holds yet (see `checkpointEvery`). */
  private checkpointDue(ref: InvoiceRef, state: ContainerState | undefined): boolean {
    const every = this.options.checkpointEvery ?? 200;
    if (every <= 0 || !state) return false;
    let singles = 0;
    for (const url of state.seen) if (classifyMember(url.slice(ref.ownContainer.length)).kind === 'op') singles++;
    const covered = newestCheckpoint(state.checkpoints ?? [])?.count ?? 0;
    return singles - covered >= Math.max(every, Math.ceil(covered / 4));
  }

  /** What this device knows of each container it crawls for the invoice (last success, last error), without touching the network. */
  async containerStates(invoiceId: InvoiceId): Promise<Record<string, ContainerState>> {
    return this.options.store.loadContainerStates(invoiceId);
  }

  /** This device's view from what it holds, without touching the network. */
  async view(invoiceId: InvoiceId): Promise<FoldedInvoice> {
    const ref = await this.requireInvoice(invoiceId);
    return foldRef(await this.options.store.loadOps(invoiceId), ref);
  }

  /** Pushes the outbox, crawls every participant's container, stores what is new and folds. Never throws for a pod that is down. */
  /**
   * The ops and fold this device last saw for an invoice, so that a write folds once, not three times. Every sync
   * reloads from the store (which another process using the same profile may have written to) and refreshes it.
   */
  private readonly lastSeen = new Map<InvoiceId, { ops: SourcedOp[]; invoice: FoldedInvoice }>();

  private remember(invoiceId: InvoiceId, ops: SourcedOp[], invoice: FoldedInvoice): void {
    this.lastSeen.set(invoiceId, { ops, invoice });
  }

  /** Proposes the invoice as this device can build on it: its terms hash and exactly the heads the Propose will have seen. */
  async propose(invoiceId: InvoiceId): Promise<WriteResult> {
    return this.write(invoiceId, 'Propose', proposalOf(await this.writerView(invoiceId)));
  }

  /**
   * Accepts the other party's open proposal. With `termsHash` (or its first 8+ characters), refuses unless that is
   * exactly what is open: a person accepts what they reviewed, not whatever arrived since.
   */
  async accept(invoiceId: InvoiceId, termsHash?: string): Promise<WriteResult> {
    const payload = acceptanceOf(await this.writerView(invoiceId), this.identity.side);
    if (termsHash !== undefined && (termsHash.length < 8 || !payload.termsHash.startsWith(termsHash))) {
      throw new OpRefusedError(`the open proposal is for terms ${payload.termsHash}, not ${termsHash}: review it with \`fedinvoice show ${invoiceId}\``);
    }
    return this.write(invoiceId, 'Accept', payload);
  }

  /**
   * The invoice as this device builds on it: the last fold, without ops clocked too far ahead of this device's
   * clock (MAX_CLOCK_DRIFT_MS). A Propose or Accept must be computed from this view: its heads are what the op
   * will have seen.
   */
  async writerView(invoiceId: InvoiceId): Promise<FoldedInvoice> {
    return this.buildingView(await this.requireInvoice(invoiceId));
  }

  private async buildingView(ref: InvoiceRef): Promise<FoldedInvoice> {
    const { ops, invoice } = await this.latest(ref);
    const now = this.now();
    if (invoice.latestClock.wallMs <= now + MAX_CLOCK_DRIFT_MS) return invoice;
    return foldRef(buildableOps(ops, now), ref);
  }

  private async latest(ref: InvoiceRef): Promise<{ ops: SourcedOp[]; invoice: FoldedInvoice }> {
    const cached = this.lastSeen.get(ref.invoiceId);
    if (cached) return cached;
    const ops = await this.options.store.loadOps(ref.invoiceId);
    const fresh = { ops, invoice: foldRef(ops, ref) };
    this.lastSeen.set(ref.invoiceId, fresh);
    return fresh;
  }

  async sync(invoiceId: InvoiceId): Promise<SyncResult> {
    const startRequests = this.requestCount;
    const ref = await this.requireInvoice(invoiceId);
    const outbox = await this.pushOutbox(invoiceId);
    const store = this.options.store;
    const known = await store.loadOps(invoiceId);
    const knownIds = new Set<OpId>(known.map((sourced) => sourced.op.id));
    const states = await store.loadContainerStates(invoiceId);
    const reports = new Map<ContainerUrl, ContainerReport>();
    let newOps = 0;
    let invoice = foldRef(known, ref);
    let done = 0;
    let total = 0;
    const progress = this.options.onProgress;

    // New ops can admit new participants, whose containers are then crawled too.
    for (let round = 0; round < 4; round++) {
      const containers = new Set<ContainerUrl>([...ref.seedContainers, ref.ownContainer, ...invoice.participants.map((p) => p.container)]);
      const todo = [...containers].filter((container) => !reports.has(container)).sort();
      if (todo.length === 0) break;
      const results = await Promise.all(
        todo.map((container) =>
          crawlContainer(container, states[container] ?? emptyContainerState(), {
            fetch: this.fetch,
            validator: this.options.validator,
            limits: this.limits,
            knownIds,
            now: () => new Date(this.now()),
            onMembersFound: (count) => {
              total += count;
              progress?.({ done, total });
            },
            onMemberDone: () => progress?.({ done: ++done, total }),
          }),
        ),
      );
      const fresh: SourcedOp[] = [];
      todo.forEach((container, i) => {
        const result = results[i]!;
        states[container] = result.state;
        reports.set(container, result.report);
        for (const sourced of result.ops) {
          knownIds.add(sourced.op.id);
          fresh.push(sourced);
        }
      });
      if (fresh.length) {
        await store.appendOps(invoiceId, fresh);
        known.push(...fresh);
        newOps += fresh.length;
        invoice = foldRef(known, ref);
      }
    }
    await store.saveContainerStates(invoiceId, states);
    await this.grantParticipants(ref, invoice);
    let checkpoint: CheckpointResult | null = null;
    if (reports.get(ref.ownContainer)?.outcome === 'updated' && this.checkpointDue(ref, states[ref.ownContainer])) {
      try {
        checkpoint = await this.writeCheckpoint(invoiceId);
      } catch {
        // Only an optimisation: the next sync tries again.
      }
    }
    this.remember(invoiceId, known, invoice);
    return { invoice, containers: [...reports.values()], outbox, requests: this.requestCount - startRequests, newOps, checkpoint };
  }

  listLocalInvoices(): Promise<InvoiceRef[]> {
    return this.options.store.listInvoices();
  }

  /** Invoices this device knows, and (one request) the ones its party has on its pod but this device has not joined. */
  async listInvoices(): Promise<{ local: InvoiceRef[]; onPod: InvoiceId[]; error: string | null }> {
    const local = await this.options.store.listInvoices();
    try {
      const listing = await listContainer(this.fetch, `${this.identity.podRoot}invoices/`);
      const onPod = listing.notModified
        ? []
        : listing.members.map((url) => url.slice(`${this.identity.podRoot}invoices/`.length).replace(/\/$/, '')).filter(isInvoiceId);
      return { local, onPod: onPod as InvoiceId[], error: null };
    } catch (error) {
      return { local, onPod: [], error: error instanceof Error ? error.message : String(error) };
    }
  }

  /** Every participant must be able to read this party's ops: grant read to any the ACL does not name yet. */
  private async grantParticipants(ref: InvoiceRef, invoice: FoldedInvoice): Promise<void> {
    const needed = invoice.participants.map((p) => p.webId).filter((webId) => webId !== this.identity.webId);
    const granted = new Set(ref.readers ?? []);
    if (needed.every((webId) => granted.has(webId))) return;
    const readers = [...new Set([...granted, ...needed])].sort();
    try {
      await setInvoiceAccess(this.fetch, invoiceContainerOf(this.identity.podRoot, ref.invoiceId), this.identity.webId, readers);
      await this.options.store.saveInvoice({ ...ref, readers });
    } catch {
      // The pod is down: the grant is retried on the next sync, since `readers` was not updated.
    }
  }

  private async requireInvoice(invoiceId: InvoiceId): Promise<InvoiceRef> {
    const ref = await this.options.store.getInvoice(invoiceId);
    if (!ref) throw new FedinvoiceError(`invoice ${invoiceId} is not known on this device: create it with \`fedinvoice create\` or join it with \`fedinvoice join\``);
    return ref;
  }
}
