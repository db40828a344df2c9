import { acceptanceOf, assertPartyMayWrite, buildableOps, makeOp, MAX_CLOCK_DRIFT_MS, proposalOf } from '../model/builder.ts';
import { FedinvoiceError, messageOf, OpRefusedError } from '../model/errors.ts';
import { fold } from '../model/fold.ts';
import { isInvoiceId, type ContainerUrl, type InvoiceId, type OpId, type WebId } from '../model/ids.ts';
import { invoiceKeyOf, isInvoiceNumber, isLegacyKey, keyFitsOrigin, numberOfKey, splitOpsContainer } from '../model/invoice-key.ts';
import type { FoldedInvoice } from '../model/invoice.ts';
import type { AnyOp, KeyBinding, OpType, PartyInfo, PayloadByType, SourcedOp } from '../model/ops.ts';
import type { Side } from '../model/roles.ts';
import { sideOn } from '../model/sides.ts';
import { setInvoiceAccess } from '../pod/acl.ts';
import { ensureContainer, listContainer, putImmutable } from '../pod/resources.ts';
import { checkpointContents, checkpointDue, DEFAULT_CHECKPOINT_EVERY } from './checkpoint-policy.ts';
import { crawlContainer, DEFAULT_LIMITS, readToEnd, type ContainerReport, type CrawlLimits } from './crawler.ts';
import { Outbox, type Announce, type OutboxReport } from './outbox.ts';
import { claimInvoiceFolder, evidenceContainerOf, invoiceFolderOf, opsContainerOf } from './invoice-folder.ts';
import { announce, dayOfEntry, FEED_DAY_MARGIN_MS, feedOf, openFeed, podOfFeed } from './change-feed.ts';
import { emptyFeedState, isListed, readFeed, settleFeed, type FeedRead } from './feed-read.ts';
import { ServerClock } from './server-clock.ts';
import { planRefresh, type FeedNews } from './refresh-plan.ts';
import { sharedVerifier, type OpSigner } from './device-key.ts';
import { writeBundle } from './evidence-bundle.ts';
import { publishDeviceKey } from '../pod/device-keys.ts';
import { urlOf } from '../pod/http-client.ts';
import { isRetryable } from '../pod/http-error.ts';
import { namedContainers, type PublishedKey, type SignaturePolicy } from '../model/signatures.ts';
import { packResource } from './packs.ts';
import { ParticipantKeys } from './participant-keys.ts';
import { emptyContainerState, markSeen, type ContainerState, type DeviceStore, type FeedState, type InvoiceRef, type InvoiceSummary } from './store.ts';

export type { OutboxReport } from './outbox.ts';

/**
 * Who this device is: a business's identity (WebID and pod) and the device's own label. Its side on an invoice is
 * the invoice's to say (the CreateInvoice names buyer and seller, an AddParticipant the others), never the device's.
 */
export interface DeviceIdentity {
  readonly webId: WebId;
  /** The business's pod, e.g. http://localhost:3001/buyer/ */
  readonly podRoot: string;
  /** Device label put on every op, any short name: "desktop", "warehouse-tablet", "erp". */
  readonly device: string;
}

export interface ReplicaOptions {
  readonly store: DeviceStore;
  /** The device session's authenticated fetch. */
  readonly fetch: typeof fetch;
  readonly identity: DeviceIdentity;
  readonly limits?: Partial<CrawlLimits>;
  readonly now?: () => number;
  readonly onProgress?: (progress: { done: number; total: number }) => void;
  /**
   * After a sync, write a checkpoint of this party's single ops when at least this many (and at least a quarter
   * of those the newest checkpoint holds) are not in one yet (checkpoint-policy.ts). 0: never automatically. Default 200.
   */
  readonly checkpointEvery?: number;
  /**
   * The device's signing key (device-key.ts). With it, every op this device writes is signed, its public key is
   * published with the WebID before its first op is pushed, every fold requires signatures by keys the participants
   * published, and the device keeps evidence: copies of the other participants' ops in its party's evidence container.
   */
  readonly signer?: OpSigner;
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

/** What `refresh` did: the invoices it synced (the others did not change), and what it cost. */
export interface RefreshResult {
  readonly synced: ReadonlyMap<InvoiceId, SyncResult>;
  /** Every invoice this device knows, as of after the refresh (summaries included). */
  readonly invoices: readonly InvoiceRef[];
  /** Feeds read, and those that could not be used (absent or failed): their invoices were synced whole. */
  readonly feeds: { readonly read: number; readonly unusable: readonly FeedRead[] };
  readonly outbox: OutboxReport;
  readonly requests: number;
}

/** Options of one sync: `pods` limits the crawl to the containers on those pods (and participants never crawled). */
export interface SyncOptions {
  readonly pods?: readonly string[];
}

/** The feeds read for some pods, and what each says of its pod. */
/** A crawl of an invoice's containers: when it started (this device's clock) and what each container gave. */
interface Crawl {
  readonly start: number;
  readonly reports: ReadonlyMap<ContainerUrl, ContainerReport>;
}

interface FeedReads {
  readonly reads: FeedRead[];
  readonly news: Map<string, FeedNews>;
}

/** Feeds read at once, and invoices synced at once, by `refresh`. */
const REFRESH_CONCURRENCY = 8;

export interface CreateInvoiceInput {
  /** The creator's side on this invoice; default buyer. */
  readonly as?: Side;
  readonly currency: string;
  readonly counterparty: { readonly webId: WebId; readonly podRoot: string };
  readonly ownInfo: PartyInfo;
  readonly counterpartyInfo: PartyInfo;
}

const foldRef = (ops: readonly SourcedOp[], ref: InvoiceRef, signatures?: SignaturePolicy): FoldedInvoice =>
  fold(ops, { invoiceId: ref.invoiceId, origin: ref.origin, ...(signatures ? { signatures } : {}) });

export { invoiceFolderOf as invoiceContainerOf, opsContainerOf } from './invoice-folder.ts';
export { sideOn } from '../model/sides.ts';


/**
 * One device's replica of its invoices. Writes go to the durable outbox first and then to the device's own pod;
 * reads crawl every participant's op container and fold the union. Nothing here keeps state outside the store.
 */
export class Replica {
  private requestCount = 0;
  readonly fetch: typeof fetch;
  private readonly limits: CrawlLimits;
  private readonly now: () => number;
  private readonly outbox: Outbox;
  /**
   * The ops and fold this device last saw for an invoice, so that a write folds once, not three times. Every sync
   * reloads from the store (which another process using the same profile may have written to) and refreshes it.
   */
  private readonly lastSeen = new Map<InvoiceId, { ops: SourcedOp[]; invoice: FoldedInvoice }>();

  constructor(private readonly options: ReplicaOptions) {
    const inner = options.fetch;
    this.now = options.now ?? Date.now;
    this.serverClock = new ServerClock(this.now);
    this.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
      this.requestCount++;
      const response = await inner(input, init);
      this.serverClock.observe(urlOf(input), response);
      return response;
    }) as typeof fetch;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    const announceWrite: Announce = (invoiceId, url, again) => this.announceWrite(invoiceId, url, again);
    // Entries are dated by the pod's clock: until this device has heard it, they follow their op (a late date is safe).
    this.outbox = new Outbox(options.store, this.fetch, announceWrite, () => this.serverClock.knows(options.identity.podRoot));
    this.participantKeys = new ParticipantKeys(options.store, this.fetch, this.now);
  }

  /** The pod servers' clocks, for dating change feed entries and whole syncs. */
  private readonly serverClock: ServerClock;

  /** The participants' published device keys (signing replicas): kept in the store, refreshed when due (participant-keys.ts). */
  private readonly participantKeys: ParticipantKeys;
  private keyPublished = false;

  private foldOf(ops: readonly SourcedOp[], ref: InvoiceRef): FoldedInvoice {
    return foldRef(ops, ref, this.signaturePolicy());
  }

  /** What a signing replica's folds require; undefined for a replica that does not sign (ops are then its container's). */
  signaturePolicy(): SignaturePolicy | undefined {
    const signer = this.options.signer;
    if (!signer) return undefined;
    const keys = this.participantKeys.keys;
    const own = this.participantKeys.has(signer.publicKeyMultibase);
    const { webId: controller, device: label } = this.identity;
    const mine: PublishedKey = { key: signer.publicKeyMultibase, controller, label, revoked: false };
    return { keys: own ? keys : [...keys, mine], verify: sharedVerifier, vouchers: new Set([controller]) };
  }

  private async loadKeys(): Promise<void> {
    if (this.options.signer) await this.participantKeys.load();
  }

  /** Reads the profiles of those WebIDs that are due (participant-keys.ts), or of all of them not read in this sync with `force`. */
  private async refreshKeys(webIds: Iterable<WebId>, done: Set<WebId>, force = false): Promise<void> {
    if (!this.options.signer) return;
    await this.participantKeys.refresh(webIds, done, force);
    this.keyPublished ||= this.participantKeys.has(this.options.signer.publicKeyMultibase);
  }

  /** Publishes this device's key with its WebID before its first op leaves the outbox; offline, the next write or sync retries. */
  private async ensureKeyPublished(): Promise<void> {
    const signer = this.options.signer;
    if (!signer || this.keyPublished) return;
    await this.loadKeys();
    if (this.participantKeys.has(signer.publicKeyMultibase)) {
      this.keyPublished = true;
      return;
    }
    try {
      await publishDeviceKey(this.fetch, this.identity.webId, this.identity.device, signer.publicKeyMultibase);
      this.keyPublished = true;
      await this.refreshKeys([this.identity.webId], new Set(), true);
    } catch (error) {
      if (!isRetryable(error)) throw error;
    }
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

  /**
   * The key of an invoice this party creates: `number` (what people type) with the hash of this pod and the number
   * (invoice-key.ts); a key already derived for this pod is taken as it is.
   */
  keyForNumber(number: string): InvoiceId {
    const podRoot = this.identity.podRoot;
    if (!isLegacyKey(number) && invoiceKeyOf(podRoot, numberOfKey(number)) === number) return number as InvoiceId;
    if (!isInvoiceNumber(number)) {
      throw new FedinvoiceError(`"${number}" is not a valid invoice number: use letters, digits, ".", "_" or "-" (at most 31, starting with a letter or digit)`);
    }
    return invoiceKeyOf(podRoot, number);
  }

  /**
   * Starts invoice `number` on the side `input.as` (default buyer): claims its folder on this party's pod (refused if
   * the folder already holds an invoice), grants the counterparty read on it, then writes CreateInvoice.
   */
  async createInvoice(number: string, input: CreateInvoiceInput): Promise<WriteResult> {
    const invoiceId = this.keyForNumber(number);
    if (await this.options.store.getInvoice(invoiceId)) throw new FedinvoiceError(`invoice ${numberOfKey(invoiceId)} already exists on this device`);
    const me = this.identity;
    if (input.counterparty.webId === me.webId) throw new FedinvoiceError('the counterparty is your own WebID: an invoice needs two businesses');
    const side = input.as ?? 'buyer';
    const mine = { webId: me.webId, container: this.ownContainer(invoiceId), info: input.ownInfo };
    const theirs = {
      webId: input.counterparty.webId,
      container: opsContainerOf(input.counterparty.podRoot, invoiceId),
      info: input.counterpartyInfo,
    };
    const payload: PayloadByType['CreateInvoice'] = {
      currency: input.currency,
      buyer: side === 'buyer' ? mine : theirs,
      seller: side === 'seller' ? mine : theirs,
    };
    if ((await claimInvoiceFolder(this.fetch, me.podRoot, invoiceId, mine.container)) === 'already') {
      throw new FedinvoiceError(
        `invoice ${numberOfKey(invoiceId)} already exists on your pod (another device of yours created it): join it with \`fedinvoice join ${numberOfKey(invoiceId)} --from ${mine.container}\``,
      );
    }
    await setInvoiceAccess(this.fetch, invoiceFolderOf(me.podRoot, invoiceId), me.webId, [input.counterparty.webId]);
    for (const reader of [input.counterparty.webId, me.webId]) await openFeed(this.fetch, me.podRoot, me.webId, reader);
    await this.ensureEvidenceContainer(mine.container);
    await this.options.store.saveInvoice({
      invoiceId,
      ownContainer: mine.container,
      origin: mine.container,
      seedContainers: [mine.container],
      readers: [input.counterparty.webId],
      feedReaders: [input.counterparty.webId, me.webId].sort(),
    });
    return this.write(invoiceId, 'CreateInvoice', payload);
  }

  /**
   * Joins an invoice another party created, from the op container its invitation names. Refuses, before any
   * access is granted, a key that is not derived from the pod that container is on, and a folder on this party's
   * pod that already holds another invoice; then crawls, and checks that the CreateInvoice names this WebID with
   * this party's folder of the invoice. Every participant is granted read on this party's ops.
   */
  async joinInvoice(invoiceId: InvoiceId, from: ContainerUrl): Promise<SyncResult> {
    if (!isInvoiceId(invoiceId)) throw new FedinvoiceError(`"${invoiceId}" is not a valid invoice id`);
    const existing = await this.options.store.getInvoice(invoiceId);
    const origin = existing?.origin ?? from;
    if (keyFitsOrigin(invoiceId, origin) === 'mismatch') {
      throw new FedinvoiceError(
        `refusing to join ${invoiceId} from ${origin}: an invoice's folder is named after the pod that created it and its number, and this one is not ` +
          `(it could be another party's invoice under a copied name); ask the creator for the container \`fedinvoice create\` printed`,
      );
    }
    await claimInvoiceFolder(this.fetch, this.identity.podRoot, invoiceId, origin);
    await this.ensureEvidenceContainer(this.ownContainer(invoiceId));
    await this.options.store.saveInvoice({
      invoiceId,
      ownContainer: this.ownContainer(invoiceId),
      origin,
      seedContainers: [...new Set([...(existing?.seedContainers ?? []), from])],
      readers: existing?.readers ?? [],
      feedReaders: existing?.feedReaders ?? [],
    });
    const result = await this.sync(invoiceId);
    this.assertNamedIn(invoiceId, result);
    return result;
  }

  /** A signing party's evidence container exists from the start, so that readers list it (empty) rather than get a 404. */
  private async ensureEvidenceContainer(opsContainer: ContainerUrl): Promise<void> {
    if (this.options.signer) await ensureContainer(this.fetch, evidenceContainerOf(opsContainer));
  }

  /** Refuses an invoice whose CreateInvoice (or AddParticipant) does not name this WebID with this party's folder of it. */
  private assertNamedIn(invoiceId: InvoiceId, result: SyncResult): void {
    const { buyer, seller, participants } = result.invoice;
    if (!buyer || !seller) {
      throw new FedinvoiceError(`no CreateInvoice for ${invoiceId} could be read${result.containers[0]?.error ? `: ${result.containers[0].error}` : ''}`);
    }
    const me = participants.find((p) => p.webId === this.identity.webId);
    if (!me) {
      // An AddParticipant naming this business may be among the ops this device had to reject: say why, first.
      const { rejected } = result.invoice;
      const why = rejected.length > 0 ? `; ${rejected.length} of its ops were rejected on this device, the first because ${rejected[0]!.reason}` : '';
      throw new FedinvoiceError(`invoice ${invoiceId} names ${buyer.webId} as its buyer and ${seller.webId} as its seller, not this device's WebID ${this.identity.webId}${why}`);
    }
    if (me.container !== this.ownContainer(invoiceId)) {
      throw new FedinvoiceError(`invoice ${invoiceId} names ${me.container} as your ops' container, not your folder of this invoice ${this.ownContainer(invoiceId)}: refusing to write there`);
    }
  }

  /** This device's side on an invoice it knows: from the invoice, never from the profile. Null before it is known or for a carrier. */
  async sideOf(invoiceId: InvoiceId): Promise<Side | null> {
    return sideOn((await this.latest(await this.requireInvoice(invoiceId))).invoice, this.identity.webId);
  }

  /**
   * The key of an invoice this device knows, from its key or its number. A number that several known invoices
   * share (made by different creators) is refused with the candidates, so that a person picks one.
   */
  async resolveInvoice(keyOrNumber: string): Promise<InvoiceId> {
    const store = this.options.store;
    if (isInvoiceId(keyOrNumber) && (await store.getInvoice(keyOrNumber))) return keyOrNumber;
    // Only the invoices with that number have their references read: a device may hold thousands.
    const ids = (await store.invoiceIds?.()) ?? (await store.listInvoices()).map((ref) => ref.invoiceId);
    const numbered = await Promise.all(ids.filter((id) => numberOfKey(id) === keyOrNumber).map((id) => store.getInvoice(id)));
    const matches = numbered.filter((ref): ref is InvoiceRef => ref !== undefined);
    if (matches.length === 1) return matches[0]!.invoiceId;
    if (matches.length > 1) {
      const lines = matches.map((ref) => `  ${ref.invoiceId}  (created at ${ref.origin})`);
      throw new FedinvoiceError(`invoice number ${keyOrNumber} is ambiguous on this device: name one of these invoices by its key\n${lines.join('\n')}`);
    }
    return keyOrNumber as InvoiceId;
  }

  /**
   * Makes an op from this device's current view and queues it durably, then tries to put it on the pod.
   * Refused locally, with nothing written, when the party may not write it or the fold would reject it.
   */
  async write<T extends OpType>(invoiceId: InvoiceId, type: T, payload: PayloadByType[T]): Promise<WriteResult> {
    const { ops, outbox } = await this.writeBatch(invoiceId, [{ type, payload }]);
    return { op: ops[0]!, outbox };
  }

  /**
   * Makes several ops at once (e.g. the lines of an imported order), each depending on the one before, and puts
   * them on the pod in ONE request: a pack (packs.ts). All or nothing locally: if the fold would reject any of
   * them, none is written. The outbox holds them (durably) until the pack is on the pod.
   */
  async writeBatch(invoiceId: InvoiceId, entries: readonly BatchEntry[]): Promise<BatchResult> {
    const ref = await this.requireInvoice(invoiceId);
    if (entries.length === 0) return { ops: [], outbox: await this.pushOutbox(invoiceId) };
    const { ops: known } = await this.latest(ref);
    const view = await this.buildingView(ref);
    const side = sideOn(view, this.identity.webId) ?? creatorSide(entries, this.identity.webId);
    if (side) for (const entry of entries) assertPartyMayWrite(side, entry.type);
    const now = this.now();
    const signer = this.options.signer;
    const ops = this.makeOps(ref, entries, view, now, this.keyToDeclare(known)).map((op) => (signer ? (signer.sign(op) as AnyOp) : op));
    const sourced: SourcedOp[] = ops.map((op) => ({ op, container: ref.ownContainer }));
    const after = this.foldOf([...known, ...sourced], ref);
    assertAccepted(after, ops);

    await this.outbox.enqueue(ops, ref.ownContainer, new Date(now).toISOString());
    await this.options.store.appendOps(invoiceId, sourced);
    this.remember(invoiceId, [...known, ...sourced], after);
    await this.recordFold(ref, after);
    await this.ensureKeyPublished();
    return { ops, outbox: await this.pushOutbox(invoiceId) };
  }

  /**
   * The key binding this device declares on its next op of an invoice: on its first op there (a CreateInvoice, or its
   * first op after joining), so that the ops it signs still verify once the key is gone from the profile.
   */
  private keyToDeclare(known: readonly SourcedOp[]): KeyBinding | undefined {
    const key = this.options.signer?.publicKeyMultibase;
    if (key === undefined || known.some(({ op }) => op.signingKey?.key === key)) return undefined;
    return { controller: this.identity.webId, key };
  }

  /** The batch's ops, chained: the first builds on `view` (and declares `signingKey`), each next one on the one before. */
  private makeOps(ref: InvoiceRef, entries: readonly BatchEntry[], view: FoldedInvoice, now: number, signingKey?: KeyBinding): AnyOp[] {
    let heads = view.heads;
    let latestClock = view.latestClock;
    return entries.map((entry, i) => {
      const declared = i === 0 && signingKey ? { signingKey } : {};
      const deviceView = { invoiceId: ref.invoiceId, device: this.identity.device, heads, latestClock, ...declared };
      const op = makeOp(entry.type, entry.payload, deviceView, now) as AnyOp;
      heads = [op.id];
      latestClock = op.clock;
      return op;
    });
  }

  /**
   * Puts queued ops on the pod: a batch as one pack, any other op alone. A pod that cannot take them now leaves them
   * queued: never lost, never doubled.
   */
  pushOutbox(invoiceId?: InvoiceId): Promise<OutboxReport> {
    return this.outbox.push(invoiceId);
  }

  /**
   * Writes a checkpoint: one resource holding a copy of every single op this device has read from its party's
   * container (checkpoint-policy.ts says which). A new device then reads it instead of one GET per op. Returns null
   * when there is nothing to pack.
   */
  async writeCheckpoint(invoiceId: InvoiceId): Promise<CheckpointResult | null> {
    const ref = await this.requireInvoice(invoiceId);
    const state = (await this.options.store.loadContainerStates(invoiceId))[ref.ownContainer];
    if (!state) return null;
    const ids = checkpointContents(ref.ownContainer, state);
    const ops = (await this.options.store.loadOps(invoiceId))
      .filter((s) => s.container === ref.ownContainer && ids.has(s.op.id))
      .map((s) => s.op);
    if (ops.length < 2) return null;
    const pack = packResource('checkpoint', ops);
    const url = `${ref.ownContainer}${pack.name}`;
    const outcome = await putImmutable(this.fetch, url, pack.turtle);
    await markSeen(this.options.store, invoiceId, ref.ownContainer, url);
    return { url, ops: pack.count, outcome };
  }

  /** What this device knows of each container it crawls for the invoice (last success, last error), without touching the network. */
  async containerStates(invoiceId: InvoiceId): Promise<Record<string, ContainerState>> {
    return this.options.store.loadContainerStates(invoiceId);
  }

  /** This device's view from what it holds, without touching the network. */
  async view(invoiceId: InvoiceId): Promise<FoldedInvoice> {
    const ref = await this.requireInvoice(invoiceId);
    await this.loadKeys();
    return this.foldOf(await this.options.store.loadOps(invoiceId), ref);
  }

  private remember(invoiceId: InvoiceId, ops: SourcedOp[], invoice: FoldedInvoice): void {
    this.lastSeen.set(invoiceId, { ops, invoice });
  }

  /**
   * An evidence bundle of the invoice (evidence-bundle.ts) from a fresh sync: every signed op this device's fold
   * placed and the keys, as the WebID profiles publish them now, that signed them.
   */
  async evidenceBundle(invoiceId: InvoiceId): Promise<string> {
    if (!this.options.signer) throw new FedinvoiceError('this device does not sign its ops: it has no evidence to bundle');
    const ref = await this.requireInvoice(invoiceId);
    const { invoice } = await this.sync(invoiceId);
    return writeBundle(invoice, await this.options.store.loadOps(invoiceId), ref.origin, this.signaturePolicy()!.keys);
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
    const view = await this.writerView(invoiceId);
    const side = sideOn(view, this.identity.webId);
    if (!side) throw new OpRefusedError(`this business is neither the buyer nor the seller of ${numberOfKey(invoiceId)}: it cannot accept`);
    const payload = acceptanceOf(view, side);
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
    return this.foldOf(buildableOps(ops, now), ref);
  }

  private async latest(ref: InvoiceRef): Promise<{ ops: SourcedOp[]; invoice: FoldedInvoice }> {
    const cached = this.lastSeen.get(ref.invoiceId);
    if (cached) return cached;
    await this.loadKeys();
    const ops = await this.options.store.loadOps(ref.invoiceId);
    const fresh = { ops, invoice: this.foldOf(ops, ref) };
    this.lastSeen.set(ref.invoiceId, fresh);
    return fresh;
  }

  /** Pushes the outbox, crawls every participant's container, stores what is new and folds. Never throws for a pod that is down. */
  async sync(invoiceId: InvoiceId, options: SyncOptions = {}): Promise<SyncResult> {
    const startRequests = this.requestCount;
    let ref = await this.requireInvoice(invoiceId);
    await this.loadKeys();
    await this.ensureKeyPublished();
    const outbox = await this.pushOutbox(invoiceId);
    const known = await this.options.store.loadOps(invoiceId);
    const states = await this.options.store.loadContainerStates(invoiceId);
    const crawlStart = this.now();
    const { invoice, reports, newOps } = await this.crawlParticipants(ref, known, states, options.pods);
    await this.options.store.saveContainerStates(invoiceId, states);
    ref = await this.recordFold(ref, invoice, { start: crawlStart, reports });
    await this.keepEvidence(ref, known, invoice);
    await this.grantParticipants(ref, invoice);
    const checkpoint = await this.checkpointIfDue(ref, states[ref.ownContainer], reports.get(ref.ownContainer));
    this.remember(invoiceId, known, invoice);
    return { invoice, containers: [...reports.values()], outbox, requests: this.requestCount - startRequests, newOps, checkpoint };
  }

  /**
   * Crawls every participant's container, appending what is new to the store and to `known`, and updating `states`.
   * New ops can admit new participants, whose containers are then crawled too (up to four rounds).
   */
  private async crawlParticipants(ref: InvoiceRef, known: SourcedOp[], states: Record<string, ContainerState>, pods?: readonly string[]) {
    // With `pods`, only the containers on them are crawled, and any this device never crawled (a new participant).
    const wanted = (container: ContainerUrl) => !pods || !states[container] || pods.some((pod) => container.startsWith(pod));
    const knownIds = new Set<OpId>(known.map((sourced) => sourced.op.id));
    const reports = new Map<ContainerUrl, ContainerReport>();
    const progress = this.progressCounter();
    const keysRead = new Set<WebId>();
    await this.refreshKeys([this.identity.webId, ...namedContainers(known.map((s) => s.op)).byWebId.keys()], keysRead);
    let invoice = this.foldOf(known, ref);
    let newOps = 0;
    for (let round = 0; round < 5; round++) {
      const containers = this.containersToCrawl(ref, invoice);
      const todo = [...containers].filter((container) => !reports.has(container) && wanted(container)).sort();
      if (todo.length === 0) break;
      const context = {
        fetch: this.fetch,
        limits: this.limits,
        knownIds,
        now: () => new Date(this.now()),
        ...progress,
      };
      const results = await Promise.all(
        todo.map((container) => crawlContainer(container, states[container] ?? emptyContainerState(), context)),
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
      if (fresh.length === 0) continue;
      await this.options.store.appendOps(ref.invoiceId, fresh);
      known.push(...fresh);
      newOps += fresh.length;
      // A WebID met for the first time is read; an op signed with a key not known yet makes every participant's profile due.
      const unknownKey = this.participantKeys.namesUnknownKey(fresh.map((s) => s.op));
      const named = namedContainers((unknownKey ? known : fresh).map((s) => s.op)).byWebId.keys();
      await this.refreshKeys(unknownKey ? [this.identity.webId, ...named] : named, keysRead, unknownKey);
      invoice = this.foldOf(known, ref);
    }
    return { invoice, reports, newOps };
  }

  /** The seeds, this party's container and every participant's; a signing replica reads their evidence containers too. */
  private containersToCrawl(ref: InvoiceRef, invoice: FoldedInvoice): Set<ContainerUrl> {
    const ops = [...ref.seedContainers, ref.ownContainer, ...invoice.participants.map((p) => p.container)];
    return new Set<ContainerUrl>(this.options.signer ? [...ops, ...ops.map(evidenceContainerOf)] : ops);
  }

  /**
   * Copies into this party's evidence container every op of another participant that this device's fold accepted
   * and the container does not hold yet, as one pack: if that participant deletes them from its pod, every reader
   * still finds them here, signed by their authors.
   */
  private async keepEvidence(ref: InvoiceRef, known: SourcedOp[], invoice: FoldedInvoice): Promise<void> {
    if (!this.options.signer) return;
    const evidence = evidenceContainerOf(ref.ownContainer);
    const kept = new Set(known.filter((s) => s.container === evidence).map((s) => s.op.id));
    const byId = new Map(known.map((s) => [s.op.id, s.op]));
    const copies = invoice.log
      .filter((entry) => entry.state === 'accepted' && entry.author !== null && entry.author.webId !== this.identity.webId && !kept.has(entry.opId))
      .map((entry) => byId.get(entry.opId)!)
      .filter((op) => op.proof !== undefined);
    if (copies.length === 0) return;
    const pack = packResource('pack', copies);
    const url = `${evidence}${pack.name}`;
    try {
      await putImmutable(this.fetch, url, pack.turtle);
    } catch (error) {
      if (isRetryable(error)) return; // the next sync copies them
      throw error;
    }
    const sourced = copies.map((op) => ({ op, container: evidence }));
    await this.options.store.appendOps(ref.invoiceId, sourced);
    known.push(...sourced);
    await markSeen(this.options.store, ref.invoiceId, evidence, url);
  }

  /** The crawler's progress callbacks, counting members over every container of one sync. */
  private progressCounter(): { onMembersFound: (count: number) => void; onMemberDone: () => void } {
    const progress = this.options.onProgress;
    let done = 0;
    let total = 0;
    return {
      onMembersFound: (count) => {
        total += count;
        progress?.({ done, total });
      },
      onMemberDone: () => progress?.({ done: ++done, total }),
    };
  }

  private async checkpointIfDue(
    ref: InvoiceRef,
    state: ContainerState | undefined,
    report: ContainerReport | undefined,
  ): Promise<CheckpointResult | null> {
    const every = this.options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
    if (!checkpointDue({ container: ref.ownContainer, state, crawled: report?.outcome, every })) return null;
    try {
      return await this.writeCheckpoint(ref.invoiceId);
    } catch {
      return null; // Only an optimisation: the next sync tries again.
    }
  }

  listLocalInvoices(): Promise<InvoiceRef[]> {
    return this.options.store.listInvoices();
  }

  /** Invoices this device knows, and (one request) the ones its party has on its pod but this device has not joined. */
  async listInvoices(): Promise<{ local: InvoiceRef[]; onPod: InvoiceId[]; error: string | null }> {
    const local = await this.options.store.listInvoices();
    return { local, ...(await this.invoicesOnPod()) };
  }

  /** The invoice folders on this party's pod (one request), whether this device joined them or not. */
  async invoicesOnPod(): Promise<{ onPod: InvoiceId[]; error: string | null }> {
    try {
      const listing = await listContainer(this.fetch, `${this.identity.podRoot}invoices/`);
      const onPod = listing.notModified
        ? []
        : listing.members.map((url) => url.slice(`${this.identity.podRoot}invoices/`.length).replace(/\/$/, '')).filter(isInvoiceId);
      return { onPod: onPod as InvoiceId[], error: null };
    } catch (error) {
      return { onPod: [], error: messageOf(error) };
    }
  }

  /** Every participant must be able to read this party's ops: grant read to any the ACL does not name yet. */
  private async grantParticipants(ref: InvoiceRef, invoice: FoldedInvoice): Promise<void> {
    const me = this.identity;
    const needed = invoice.participants.map((p) => p.webId).filter((webId) => webId !== me.webId);
    const granted = new Set(ref.readers ?? []);
    const opened = new Set(ref.feedReaders ?? []);
    const toOpen = [me.webId, ...needed].filter((webId) => !opened.has(webId));
    if (toOpen.length === 0 && needed.every((webId) => granted.has(webId))) return;
    const readers = [...new Set([...granted, ...needed])].sort();
    try {
      const folder = invoiceFolderOf(me.podRoot, ref.invoiceId);
      if (readers.length !== granted.size) await setInvoiceAccess(this.fetch, folder, me.webId, readers);
      for (const reader of toOpen) await openFeed(this.fetch, me.podRoot, me.webId, reader);
      await this.options.store.saveInvoice({ ...ref, readers, feedReaders: [...new Set([...opened, ...toOpen])].sort() });
    } catch {
      // The pod is down: the grant is retried on the next sync, since `readers` was not updated.
    }
  }

  /**
   * Keeps in the invoice's reference what its latest fold says that others read without folding: the participants'
   * pods (the feeds `refresh` reads for it) and the summary a list shows. Written only when it changed.
   */
  private async recordFold(ref: InvoiceRef, invoice: FoldedInvoice, crawl?: Crawl): Promise<InvoiceRef> {
    const containers = [...new Set([ref.ownContainer, ref.origin, ...ref.seedContainers, ...invoice.participants.map((p) => p.container)])];
    const pods = [...new Set(containers.map((c) => splitOpsContainer(c)?.podRoot).filter((pod): pod is string => !!pod))].sort();
    const syncedAt = crawl ? { ...ref.syncedAt, ...this.crawledWhole(pods, containers, crawl) } : ref.syncedAt;
    const updated = { ...ref, participantPods: pods, summary: summaryOf(invoice, this.identity.webId), ...(syncedAt && { syncedAt }) };
    if (JSON.stringify(updated) === JSON.stringify(ref)) return ref;
    await this.options.store.saveInvoice(updated);
    return updated;
  }

  /**
   * The pods on which a crawl read every container of the invoice to the end, each with when the crawl started by
   * that pod's clock (known from its answers during the crawl): the invoice is up to date there as of then.
   */
  private crawledWhole(pods: readonly string[], containers: readonly ContainerUrl[], crawl: Crawl): Record<string, number> {
    const since = this.now() - crawl.start;
    const complete = (container: ContainerUrl) => {
      const report = crawl.reports.get(container);
      return report !== undefined && readToEnd(report);
    };
    const whole = pods.filter((pod) => containers.filter((c) => c.startsWith(pod)).every(complete));
    return Object.fromEntries(whole.map((pod) => [pod, this.serverClock.now(pod) - since]));
  }

  /** What a list shows of an invoice: the summary its last fold left, or (kept for the next list) a fold of what this device holds. */
  async summary(invoiceId: InvoiceId): Promise<InvoiceSummary> {
    const ref = await this.requireInvoice(invoiceId);
    return ref.summary ?? (await this.recordFold(ref, await this.view(invoiceId))).summary!;
  }

  /**
   * Puts a written resource's entry in the feed of each reader of the invoice and of this business's own devices;
   * `again` (a resource put after a failed try): under entries no reader can have seen yet.
   */
  private async announceWrite(invoiceId: InvoiceId, resourceUrl: string, again = false): Promise<void> {
    const ref = await this.options.store.getInvoice(invoiceId);
    const me = this.identity;
    const readers = [me.webId, ...(ref?.readers ?? [])];
    const started = this.now();
    const datedAt = this.serverClock.now(me.podRoot);
    const put = (dated: { datedAt: number; againAt?: number }) => announce(this.fetch, me.podRoot, invoiceId, resourceUrl, readers, dated);
    const entries = await put({ datedAt, ...(again && { againAt: started }) });
    // Entries that took long to land may have been dated before a reader's window: dated again, now.
    if (this.now() - started > FEED_DAY_MARGIN_MS / 2) {
      entries.push(...(await put({ datedAt: this.serverClock.now(me.podRoot), againAt: this.now() })));
    }
    await this.markOwnEntriesSeen(entries);
  }

  /** This device has the op: its own entries are no news to it. */
  private async markOwnEntriesSeen(entries: readonly string[]): Promise<void> {
    const ownFeed = feedOf(this.identity.podRoot, this.identity.webId);
    const feeds = await this.options.store.loadFeeds();
    const state = feeds[ownFeed] ?? emptyFeedState();
    const days = { ...state.days };
    for (const entry of entries.filter((e) => e.startsWith(ownFeed))) {
      const day = dayOfEntry(ownFeed, entry);
      const kept = days[day];
      days[day] = { ...kept, etag: kept?.etag ?? null, seen: [...new Set([...(kept?.seen ?? []), entry])].sort() };
    }
    feeds[ownFeed] = { ...state, days };
    await this.options.store.saveFeeds(feeds);
  }

  /**
   * Brings every invoice this device knows up to date at a cost that follows what changed, not how many invoices
   * there are: one (conditional) listing per pod of its counterparties' and its own change feed, then a crawl of
   * each invoice a feed names, on that pod only. An invoice on a pod with no usable feed is synced whole.
   */
  async refresh(): Promise<RefreshResult> {
    const startRequests = this.requestCount;
    const outbox = await this.pushOutbox();
    const refs = await this.options.store.listInvoices();
    const feeds = await this.options.store.loadFeeds();
    const pods = [...new Set(refs.flatMap((ref) => ref.participantPods ?? []))].sort();
    const { reads, news } = await this.readFeeds(pods, feeds, refs);
    const plan = planRefresh(refs.map((ref) => ({ invoiceId: ref.invoiceId, pods: ref.participantPods ?? null })), news);
    const jobs = [...plan.whole.map((invoiceId) => ({ invoiceId, pods: undefined })), ...plan.targeted];
    const results = await inParallel(jobs, (job) => this.sync(job.invoiceId, job.pods ? { pods: job.pods } : {}));
    const synced = new Map(jobs.map((job, i) => [job.invoiceId, results[i]!]));
    const invoices = await Promise.all(refs.map((ref) => (synced.has(ref.invoiceId) ? this.requireInvoice(ref.invoiceId) : ref)));
    // Every invoice a feed names was synced: its entries are handled unless a container of it was stale.
    const known = new Set(refs.map((ref) => ref.invoiceId));
    await this.saveFeedStates(feeds, reads, (invoiceId) => (known.has(invoiceId) ? (synced.get(invoiceId) ?? 'not synced') : 'unknown'));
    const unusable = reads.filter((read) => read.outcome === 'absent' || read.outcome === 'failed');
    return { synced, invoices, feeds: { read: reads.length, unusable }, outbox, requests: this.requestCount - startRequests };
  }

  /**
   * One invoice brought up to date at the cost of one conditional request per participant's pod when nothing changed
   * (what a short command needs): the feeds meant for this device on those pods are read, and the invoice is synced,
   * on the pods whose feeds named it, only if one did. Without usable feeds (absent, failed, or pods not recorded
   * yet) it is synced whole, as `sync` does. Entries naming other invoices stay new for the next `refresh`.
   */
  async syncChanged(invoiceId: InvoiceId): Promise<SyncResult> {
    const startRequests = this.requestCount;
    const ref = await this.requireInvoice(invoiceId);
    const pods = ref.participantPods;
    if (!pods) return this.sync(invoiceId);
    // Pushed before the feeds are loaded: a push records this device's own entries as seen in them.
    await this.loadKeys();
    await this.ensureKeyPublished();
    const pushed = await this.pushOutbox(invoiceId);
    const feeds = await this.options.store.loadFeeds();
    // A feed never read starts from the invoices on its pod: all of them, known from the store only then.
    const unread = pods.some((pod) => feeds[feedOf(pod, this.identity.webId)]?.at === undefined);
    const reading = this.readFeeds(pods, feeds, unread ? await this.options.store.listInvoices() : []);
    // Folded while the feeds are on their way: most often nothing changed, and the command goes on with this fold.
    await this.latest(ref).catch(() => undefined);
    const { reads, news } = await reading;
    const plan = planRefresh([{ invoiceId, pods }], news);
    const named = plan.whole.length > 0 || plan.targeted.length > 0;
    const where = plan.targeted[0] ? { pods: plan.targeted[0].pods } : {};
    const result = named ? await this.sync(invoiceId, where) : await this.unchanged(ref, pushed);
    await this.saveFeedStates(feeds, reads, (named) => (named === invoiceId ? result : 'not synced'));
    const outbox = { ...result.outbox, pushed: pushed.pushed + result.outbox.pushed };
    return { ...result, outbox, requests: this.requestCount - startRequests };
  }

  /** The sync of an invoice no feed named: the fold of what this device holds, no crawl. */
  private async unchanged(ref: InvoiceRef, outbox: OutboxReport): Promise<SyncResult> {
    const { invoice } = await this.latest(ref);
    return { invoice, containers: [], outbox: { ...outbox, pushed: 0 }, requests: 0, newOps: 0 };
  }

  /**
   * Keeps each feed's state once its news was acted on: an entry is handled once its invoice was `synced` and a crawl
   * listed the resource it names. Written only when a state changed (every 304: nothing to write).
   */
  private async saveFeedStates(feeds: Record<string, FeedState>, reads: readonly FeedRead[], syncOf: (id: InvoiceId) => SyncOutcome) {
    const listings = new Map<InvoiceId, Record<string, ContainerState>>();
    for (const invoiceId of new Set(reads.flatMap((read) => [...read.entries.keys()]))) {
      if (typeof syncOf(invoiceId) === 'object') listings.set(invoiceId, await this.options.store.loadContainerStates(invoiceId));
    }
    const now = this.now();
    let changed = false;
    for (const read of reads) {
      const pod = podOfFeed(read.feed);
      const state = settleFeed(read, feeds[read.feed], (invoiceId, resource) => {
        const sync = syncOf(invoiceId);
        if (sync === 'unknown') return 'handled'; // an invoice this device does not follow: nothing to do
        // A crawl cut short on this pod (a failure elsewhere does not hold this pod's entries back).
        if (sync === 'not synced' || incompleteOn(sync, pod)) return 'unsynced';
        return resource === null || isListed(listings.get(invoiceId)!, pod, resource) ? 'handled' : 'unlisted';
      }, now);
      changed ||= state !== feeds[read.feed];
      feeds[read.feed] = state;
    }
    if (changed) await this.options.store.saveFeeds(feeds);
  }

  /**
   * The feed meant for this device on each pod, read at once (conditionally), and what each says of its pod. A feed
   * never read is read from the earliest complete crawl there (by that pod's clock) of the invoices `refs` has on its pod.
   */
  private async readFeeds(pods: readonly string[], feeds: Record<string, FeedState>, refs: readonly InvoiceRef[]): Promise<FeedReads> {
    const reads = await inParallel(pods, (pod) => {
      const feed = feedOf(pod, this.identity.webId);
      return readFeed(this.fetch, feed, feeds[feed] ?? emptyFeedState(), this.serverClock.now(pod), startOf(pod, refs));
    });
    return { reads, news: new Map<string, FeedNews>(pods.map((pod, i) => [pod, newsOf(reads[i]!)])) };
  }

  private async requireInvoice(invoiceId: InvoiceId): Promise<InvoiceRef> {
    const ref = await this.options.store.getInvoice(invoiceId);
    if (!ref) throw new FedinvoiceError(`invoice ${invoiceId} is not known on this device: create it with \`fedinvoice create\` or join it with \`fedinvoice join\``);
    return ref;
  }
}

/** Runs `work` on every item, at most REFRESH_CONCURRENCY at a time; the results in the items' order. */
async function inParallel<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(REFRESH_CONCURRENCY, items.length) }, worker));
  return results;
}

function summaryOf(invoice: FoldedInvoice, webId: WebId): InvoiceSummary {
  const { status, currency, totals, buyer, seller, log } = invoice;
  const side = sideOn(invoice, webId);
  const [buyerName, sellerName] = [buyer?.info.name ?? null, seller?.info.name ?? null];
  return { status, currency, gross: totals.gross, buyer: buyerName, seller: sellerName, side, ops: log.length };
}

const newsOf = (read: FeedRead): FeedNews =>
  read.outcome === 'absent' || read.outcome === 'failed' || read.outcome === 'started'
    ? { usable: false }
    : { usable: true, changed: new Set(read.entries.keys()) };

/** Where a feed never read starts: the earliest complete crawl on `pod` of the invoices there; null if one never had one. */
function startOf(pod: string, refs: readonly InvoiceRef[]): number | null {
  const times = refs.filter((ref) => ref.participantPods?.includes(pod)).map((ref) => ref.syncedAt?.[pod]);
  if (times.length === 0 || times.some((time) => time === undefined)) return null;
  return Math.min(...(times as number[]));
}

/** What became of an invoice a feed named: its sync, not synced by this command, or not followed by this device. */
type SyncOutcome = SyncResult | 'not synced' | 'unknown';

const incompleteOn = (result: SyncResult, pod: string): boolean =>
  result.containers.some((report) => report.container.startsWith(pod) && !readToEnd(report));

/** The side a batch's CreateInvoice gives this WebID (before the invoice exists, the CreateInvoice says it). */
function creatorSide(entries: readonly BatchEntry[], webId: WebId): Side | null {
  const create = entries.find((entry) => entry.type === 'CreateInvoice')?.payload as PayloadByType['CreateInvoice'] | undefined;
  if (create?.buyer.webId === webId) return 'buyer';
  return create?.seller.webId === webId ? 'seller' : null;
}

/** Refuses (throws, nothing written) unless the fold accepted every op made: one op by its own name, a batch as a whole. */
function assertAccepted(after: FoldedInvoice, ops: readonly AnyOp[]): void {
  const ids = new Set<OpId>(ops.map((op) => op.id));
  const bad = after.log.find((entry) => ids.has(entry.opId) && entry.state === 'rejected');
  if (!bad) return;
  if (ops.length === 1) throw new OpRefusedError(`${bad.type} was not written: ${bad.reason}`);
  throw new OpRefusedError(`the batch was not written: its ${bad.type} ${bad.opId.slice(0, 12)}… would be rejected: ${bad.reason}`);
}
