import { eInvoiceGaps } from './einvoice-gaps.ts';
import { buildCausalGraph, type CausalGraph, type VersionVector } from './causality.ts';
import { compareClocks, ZERO_CLOCK } from './clock.ts';
import { emptyTotals, foldContent, hashTerms, notProposable, termsOf, TERMS_TYPES, type ContentState, type JudgedOp } from './content.ts';
import { hasVerifiedId } from './hash.ts';
import type { ContainerUrl, InvoiceId, OpId, TermsHash } from './ids.ts';
import type { Agreement, Author, FoldedInvoice, LogEntry, OpSummary, Participant } from './invoice.ts';
import type { AnyOp, Op, OpType, SourcedOp } from './ops.ts';
import { delegableTypes, mayAdmit, PARTY_OP_TYPES, roleLabel, sideOf, whoMayWrite, type Side } from './roles.ts';
import { judgeSignature, namedContainers, revokedReason, trustedKeys, vouchedFor, type PublishedKey, type SignaturePolicy } from './signatures.ts';
import { judgeStatus } from './status.ts';
import { validateOpStructure } from './validate.ts';

export interface FoldOptions {
  /** Fold this invoice; ops of other invoices are rejected. Default: the invoice of the winning CreateInvoice. */
  readonly invoiceId?: InvoiceId;
  /**
   * The op container the invoice was created in (the creator's, as the invitation names it). Only a
   * CreateInvoice read from there counts, so a counterparty cannot replace the invoice with a CreateInvoice of
   * its own, however early its clock. Without it, the first CreateInvoice in clock order wins.
   */
  readonly origin?: ContainerUrl;
  /**
   * Require every op to be signed by a device key its author published (signatures.ts), and attribute a signed op
   * to its signer wherever it was read (evidence copies). Without it, an op's author is the container it was read from.
   */
  readonly signatures?: SignaturePolicy;
}

/**
 * Whether the invoice was made by a signing device: a signed CreateInvoice makes every op of it need a signature. An
 * invoice made before signatures (no CreateInvoice of it is signed) keeps being judged by where its ops live, as it
 * was made: none of its ops could have been signed.
 */
const madeSigned = (ops: readonly SourcedOp[]): boolean =>
  ops.some(({ op }) => op.type === 'CreateInvoice' && op.proof !== undefined);

const STATUS_TYPES: ReadonlySet<OpType> = new Set<OpType>(['Propose', 'Accept', 'MarkShipped', 'MarkPaid', 'MarkReceived', 'Dispute']);
const short = (id: string) => `${id.slice(0, 12)}…`;
const iso = (op: AnyOp) => isoOf(op.clock.wallMs);

interface Registered extends Participant {
  /** Position of the AddParticipant op; -1 for the buyer and seller. */
  readonly since: number;
}

/**
 * The heart of fedinvoice: folds a set of ops, each tagged with the container it was read from, into the one
 * invoice every replica agrees on. Pure and total: the same set (in any order, with any duplicates) gives the
 * same result, and bad input is reported in `rejected` or `pending`, never thrown.
 */
export function fold(sourced: readonly SourcedOp[], options: FoldOptions = {}): FoldedInvoice {
  const sources = new Map<OpId, { op: AnyOp; containers: ContainerUrl[] }>();
  const bad = new Map<string, LogEntry>();
  // Keyed by everything reported, and sorted below: which bad copy arrived first must not matter.
  const reject = (op: AnyOp, container: ContainerUrl, reason: string): void => {
    const entry = entryFor(op, null, 'rejected', reason);
    bad.set(`${entry.opId} ${container} ${JSON.stringify(entry)}`, entry);
  };
  const wellFormed: SourcedOp[] = [];
  for (const one of sourced) {
    const problem = problemWith(one.op);
    if (problem !== null) reject(one.op, one.container, problem);
    else wellFormed.push(one);
  }
  const signers = new Map<OpId, PublishedKey>();
  const policy = madeSigned(wellFormed) ? options.signatures : undefined;
  const attributed = policy ? bySignature(wellFormed, policy, signers, reject) : wellFormed;
  for (const { op, container } of attributed) {
    const existing = sources.get(op.id);
    if (existing) {
      if (!existing.containers.includes(container)) existing.containers.push(container);
    } else {
      sources.set(op.id, { op, containers: [container] });
    }
  }
  let graph = graphOf(sources);
  if ([...signers.values()].some((key) => key.revoked)) {
    const kept = vouchedFor(graph.graph, (pos) => signers.get(graph.graph.order[pos]!.id));
    for (const [id, key] of signers) {
      if (!key.revoked || kept.has(id) || !sources.has(id)) continue;
      const { op, containers } = sources.get(id)!;
      reject(op, containers[0]!, revokedReason(key));
      sources.delete(id);
    }
    graph = graphOf(sources);
  }
  const rejectedEarly = [...bad.keys()].sort().map((key) => bad.get(key)!);
  const judge = new Judge(graph.graph, sources, graph.inputContainers, options.invoiceId, options.origin);
  return judge.run(rejectedEarly);
}

function graphOf(sources: Map<OpId, { op: AnyOp; containers: ContainerUrl[] }>): { graph: CausalGraph; inputContainers: ContainerUrl[][] } {
  const inputOps: AnyOp[] = [];
  const inputContainers: ContainerUrl[][] = [];
  for (const source of sources.values()) {
    inputOps.push(source.op);
    inputContainers.push(source.containers.sort());
  }
  return { graph: buildCausalGraph(inputOps, (i) => inputContainers[i]![0]!), inputContainers };
}

/**
 * Every copy judged by its signature (signatures.ts): a good one counts as read from its signer's op containers,
 * a bad one is rejected with its reason unless another copy of the same op is good.
 */
function bySignature(
  sourced: readonly SourcedOp[],
  policy: SignaturePolicy,
  signers: Map<OpId, PublishedKey>,
  reject: (op: AnyOp, container: ContainerUrl, reason: string) => void,
): SourcedOp[] {
  const named = namedContainers(sourced.map((one) => one.op));
  const trust = trustedKeys(sourced.map((one) => one.op), policy, new Set(named.byWebId.keys()));
  const good: SourcedOp[] = [];
  const refused: Array<{ one: SourcedOp; reason: string }> = [];
  for (const one of sourced) {
    const verdict = judgeSignature(one, policy, trust, named);
    if (!verdict.ok) {
      refused.push({ one, reason: verdict.reason });
      continue;
    }
    signers.set(one.op.id, verdict.key);
    for (const container of verdict.containers) good.push({ op: one.op, container });
  }
  for (const { one, reason } of refused) if (!signers.has(one.op.id)) reject(one.op, one.container, reason);
  return good;
}

// Ops in linear order mostly share or repeat a millisecond: formatting the last one again is wasted work.
let lastWallMs = NaN;
let lastIso = '';
const isoOf = (wallMs: number): string => {
  if (wallMs !== lastWallMs) {
    lastWallMs = wallMs;
    lastIso = new Date(wallMs).toISOString();
  }
  return lastIso;
};

/** The log entry of a well-formed op. */
function entryOf(op: AnyOp, author: Author | null, state: LogEntry['state'], reason: string | null): LogEntry {
  return { opId: op.id, type: op.type, author, device: op.device, at: isoOf(op.clock.wallMs), state, reason };
}

/** The log entry of anything at all, well-formed or not. */
/** Ops this process found well-formed and correctly named: immutable values, so checked once. */
const trusted = new WeakSet<object>();

function problemWith(op: AnyOp): string | null {
  if (trusted.has(op)) return null;
  const problem = validateOpStructure(op) ?? (hasVerifiedId(op) ? null : 'its content does not match its id: it was altered after it was made');
  if (problem === null) trusted.add(op);
  return problem;
}

function entryFor(op: AnyOp | undefined, author: Author | null, state: LogEntry['state'], reason: string | null): LogEntry {
  if (op !== undefined && validateOpStructure(op) === null) return entryOf(op, author, state, reason);
  const safe = (op ?? {}) as Partial<AnyOp>;
  let at = '';
  try {
    at = new Date(safe.clock?.wallMs ?? NaN).toISOString();
  } catch {
    at = '';
  }
  return {
    opId: (typeof safe.id === 'string' ? safe.id : '(no id)') as OpId,
    type: (typeof safe.type === 'string' ? safe.type : '(unknown)') as OpType,
    author,
    device: typeof safe.device === 'string' ? safe.device : '',
    at,
    state,
    reason,
  };
}

class Judge {
  private readonly participants = new Map<ContainerUrl, Registered>();
  private readonly accepted: JudgedOp[] = [];
  private readonly statusOps: JudgedOp[] = [];
  /** The log entry of each op, by position in the linear order. */
  private readonly decisions: LogEntry[] = [];
  private readonly extraAdds = new Map<string, JudgedOp[]>();
  private readonly discountAdds = new Map<string, JudgedOp[]>();
  private readonly contentCache = new Map<string, { content: ContentState; vv: VersionVector }>();
  private create: Op<'CreateInvoice'> | undefined;

  constructor(
    private readonly graph: CausalGraph,
    private readonly sources: Map<OpId, { op: AnyOp; containers: ContainerUrl[] }>,
    private readonly inputContainers: readonly ContainerUrl[][],
    private readonly expectedInvoice: InvoiceId | undefined,
    private readonly origin: ContainerUrl | undefined,
  ) {}

  run(rejectedEarly: LogEntry[]): FoldedInvoice {
    const { graph } = this;
    this.create = this.findCreate();
    const create = this.create;
    if (create) {
      const { buyer, seller } = create.payload;
      this.participants.set(buyer.container, { role: 'buyer', webId: buyer.webId, container: buyer.container, allowedTypes: null, addedBy: null, since: -1 });
      this.participants.set(seller.container, { role: 'seller', webId: seller.webId, container: seller.container, allowedTypes: null, addedBy: null, since: -1 });
    }

    for (let pos = 0; pos < graph.order.length; pos++) this.judgeContent(graph.order[pos]!, pos);

    const status = create ? this.runStatusMachine() : undefined;
    // Once agreed, the terms shown are the agreed ones: the current content is needed only for tracking and comments.
    const content = create ? foldContent(create, this.accepted, graph, undefined, status?.agreement ? 'activity' : 'all') : undefined;

    const log = this.decisions;
    for (const [id, reason] of graph.pending) {
      const { op, containers } = this.sources.get(id)!;
      log.push(entryOf(op, this.authorOf(op, Number.MAX_SAFE_INTEGER, containers), 'pending', reason));
    }
    for (const entry of rejectedEarly) log.push(entry);
    const rejected: LogEntry[] = [];
    const pending: LogEntry[] = [];
    for (const entry of log) {
      if (entry.state === 'rejected') rejected.push(entry);
      else if (entry.state === 'pending') pending.push(entry);
    }

    const participants: Participant[] = [...this.participants.values()].map(({ since: _since, ...participant }) => participant);
    let latestClock = ZERO_CLOCK;
    for (const op of graph.order) if (compareClocks(op.clock, latestClock) > 0) latestClock = op.clock;
    const base = {
      rejected,
      pending,
      log,
      heads: graph.heads,
      latestClock: graph.order.length ? latestClock : ZERO_CLOCK,
    };
    if (!create || !content || !status) {
      return {
        invoiceId: this.expectedInvoice ?? null,
        currency: null,
        status: 'no invoice',
        buyer: null,
        seller: null,
        participants,
        items: [],
        catalog: [],
        extras: [],
        discounts: [],
        delivery: { date: null, requestedDate: null, requestOpen: false, address: null },
        paymentTerms: null,
        invoiceDetails: null,
        buyerReference: null,
        eInvoiceGaps: { seller: [], buyer: [] },
        tracking: null,
        comments: [],
        totals: emptyTotals(),
        termsHash: null,
        notProposable: 'the CreateInvoice op has not arrived',
        proposal: null,
        agreement: null,
        shipped: false,
        paid: false,
        received: false,
        disputes: [],
        ...base,
      };
    }

    // Once agreed, the invoice is what was agreed; later edits are listed, never applied.
    const shown = status.agreement ? this.contentAt(status.agreement.proposal.heads).content : content;
    const { buyer, seller } = create.payload;
    return {
      invoiceId: create.invoiceId,
      currency: create.payload.currency,
      status: status.status,
      buyer: { webId: buyer.webId, container: buyer.container, info: shown.buyerInfo },
      seller: { webId: seller.webId, container: seller.container, info: shown.sellerInfo },
      participants,
      items: shown.items,
      catalog: shown.catalog,
      extras: shown.extras,
      discounts: shown.discounts,
      delivery: shown.delivery,
      paymentTerms: shown.paymentTerms,
      invoiceDetails: shown.invoiceDetails,
      buyerReference: shown.buyerReference,
      eInvoiceGaps: eInvoiceGaps(shown, create.payload.currency),
      tracking: content.tracking,
      comments: content.comments,
      totals: shown.totals,
      termsHash: status.agreement ? status.agreement.termsHash : this.hashOf(content),
      notProposable: status.agreement ? 'the invoice is already agreed' : notProposable(content),
      proposal: status.proposal,
      agreement: status.agreement,
      shipped: status.shipped,
      paid: status.paid,
      received: status.received,
      disputes: status.disputes,
      ...base,
    };
  }

  /**
   * The invoice's CreateInvoice: read from the origin (or, without one, from the container of a party it names).
   * Of several, the one the counterparty built on first wins: a Create the other side has acted on cannot be
   * replaced by one it never saw, however early its clock. Before the counterparty acts, the earliest wins.
   */
  private findCreate(): Op<'CreateInvoice'> | undefined {
    const order = this.graph.order;
    const candidates: Array<{ op: Op<'CreateInvoice'>; pos: number; counterparty: ContainerUrl | undefined }> = [];
    for (let pos = 0; pos < order.length; pos++) {
      const op = order[pos]!;
      if (op.type !== 'CreateInvoice') continue;
      if (this.expectedInvoice !== undefined && op.invoiceId !== this.expectedInvoice) continue;
      const containers = this.containersAt(pos);
      const { buyer, seller } = op.payload;
      const named = [buyer.container, seller.container];
      const readFrom = this.createReadFrom(named, containers);
      if (readFrom === undefined) continue;
      candidates.push({ op, pos, counterparty: named.find((c) => c !== readFrom) });
    }
    if (candidates.length <= 1) return candidates[0]?.op;
    for (let pos = 0; pos < order.length; pos++) {
      const containers = this.containersAt(pos);
      const built = candidates.find(
        (c) => c.pos !== pos && c.counterparty !== undefined && containers.includes(c.counterparty) && this.graph.inPast(c.pos, pos),
      );
      if (built) return built.op;
    }
    return candidates[0]!.op;
  }

  /** The party container a Create counts as read from: the origin, when one is given, else the first party container holding it. */
  private createReadFrom(named: readonly ContainerUrl[], containers: readonly ContainerUrl[]): ContainerUrl | undefined {
    if (this.origin === undefined) return named.find((c) => containers.includes(c));
    return containers.includes(this.origin) && named.includes(this.origin) ? this.origin : undefined;
  }

  private hashOf(content: ContentState): TermsHash {
    const create = this.create!;
    const parties = {
      invoiceId: create.invoiceId,
      currency: create.payload.currency,
      buyerWebId: create.payload.buyer.webId,
      sellerWebId: create.payload.seller.webId,
    };
    return hashTerms(termsOf(parties, content));
  }

  /** The content folded over the causal past of `heads` (cached: proposals repeat heads). */
  private contentAt(heads: readonly OpId[]): { content: ContentState; vv: VersionVector } {
    const key = heads.join(',');
    let cached = this.contentCache.get(key);
    if (!cached) {
      const vv = this.graph.pastOf(heads.map((head) => this.graph.positionOf(head)!));
      cached = { content: foldContent(this.create!, this.accepted, this.graph, (pos) => this.graph.inVector(pos, vv)), vv };
      this.contentCache.set(key, cached);
    }
    return cached;
  }

  /**
   * The author is the participant whose container the op was read from, admitted before the op was made.
   * An op found in several containers (copied by someone) is attributed to the first one allowed to write it.
   */
  private authorOf(op: AnyOp, pos: number, containers: readonly ContainerUrl[]): Registered | null {
    if (containers.length === 1) {
      const participant = this.participants.get(containers[0]!);
      if (participant === undefined) return null;
      return this.admittedBefore(participant, pos) ? participant : null;
    }
    const candidates = containers
      .map((container) => this.participants.get(container))
      .filter((p): p is Registered => p !== undefined && this.admittedBefore(p, pos));
    return candidates.find((p) => this.mayWrite(p, op.type) === null) ?? candidates[0] ?? null;
  }

  /** Whether the participant was admitted before the op at `pos` (founders, with no admitting op, always were). */
  private admittedBefore(participant: Registered, pos: number): boolean {
    return participant.since < 0 || (pos !== Number.MAX_SAFE_INTEGER && this.graph.inPast(participant.since, pos));
  }

  private mayWrite(participant: Registered, type: OpType): string | null {
    if (participant.allowedTypes === null) {
      return PARTY_OP_TYPES[participant.role as Side].has(type) ? null : `${type} may only be written by ${whoMayWrite(type)}`;
    }
    return participant.allowedTypes.includes(type)
      ? null
      : `the ${roleLabel(participant.role)} ${participant.webId} was only allowed to write ${participant.allowedTypes.join(', ')}`;
  }

  private containersAt(pos: number): readonly ContainerUrl[] {
    return this.inputContainers[this.graph.inputIndex[pos]!]!;
  }

  private decide(op: AnyOp, pos: number, author: Author | null, reason: string | null): void {
    this.decisions[pos] = entryOf(op, author, reason === null ? 'accepted' : 'rejected', reason);
  }

  private readonly authorViews = new Map<Registered, Author>();
  /** One Author object per participant, shared by all its ops (the output is read-only). */
  private authorView(participant: Registered): Author {
    let view = this.authorViews.get(participant);
    if (!view) {
      view = { role: participant.role, webId: participant.webId, container: participant.container };
      this.authorViews.set(participant, view);
    }
    return view;
  }

  /** Pass 1: every op except the status machine's, in linear order. */
  private judgeContent(op: AnyOp, pos: number): void {
    const create = this.create;
    if (!create) {
      this.decisions[pos] = entryOf(op, null, 'pending', `waits for the CreateInvoice of ${this.expectedInvoice ?? 'this invoice'}${this.origin ? ` in ${this.origin}` : ''}`);
      return;
    }
    const containers = this.containersAt(pos);
    const participant = this.authorOf(op, pos, containers);
    if (!participant) {
      this.decide(op, pos, null, `it was read from ${containers.join(', ')}, which is not the op container of a participant admitted before it`);
      return;
    }
    const author = this.authorView(participant);

    if (op.invoiceId !== create.invoiceId) return this.decide(op, pos, author, `it belongs to invoice ${op.invoiceId}, not ${create.invoiceId}`);
    const regressedFrom = this.graph.clockRegressions.get(pos);
    if (regressedFrom !== undefined) {
      return this.decide(op, pos, author, `its clock (${iso(op)}) is not after that of op ${short(regressedFrom)} it depends on: a clock may never go backwards`);
    }
    const notAllowed = this.mayWrite(participant, op.type);
    if (notAllowed) return this.decide(op, pos, author, notAllowed);

    const judged: JudgedOp = { op, pos, author, side: sideOf(participant.role) };
    switch (op.type) {
      case 'CreateInvoice':
        if (op.id !== create.id) {
          return this.decide(op, pos, author, `a different CreateInvoice for this invoice already exists (op ${short(create.id)}${this.origin ? ` in ${this.origin}, where the invoice was created` : ''})`);
        }
        break;
      case 'AddParticipant': {
        const { role, container, allowedTypes, webId } = op.payload;
        if (!mayAdmit(participant.role, role)) return this.decide(op, pos, author, `the ${roleLabel(participant.role)} may not add a ${roleLabel(role)}`);
        const delegable = delegableTypes(role);
        const excess = allowedTypes.filter((type) => !delegable.has(type));
        if (excess.length) return this.decide(op, pos, author, `a ${roleLabel(role)} may not be allowed ${excess.join(', ')}`);
        if (this.participants.has(container)) return this.decide(op, pos, author, `the container ${container} already belongs to a participant`);
        this.participants.set(container, {
          role,
          webId,
          container,
          allowedTypes,
          addedBy: op.id,
          since: pos,
          ...(op.payload.name ? { name: op.payload.name } : {}),
        });
        break;
      }
      case 'AddExtra':
        pushTo(this.extraAdds, op.payload.key, judged);
        break;
      case 'AddDiscount':
        pushTo(this.discountAdds, op.payload.key, judged);
        break;
      case 'RemoveExtra':
      case 'RemoveDiscount': {
        const isExtra = op.type === 'RemoveExtra';
        const addsOfKey = (isExtra ? this.extraAdds : this.discountAdds).get(op.payload.key) ?? [];
        const adds = addsOfKey.filter((add) => this.graph.inPast(add.pos, pos));
        const noun = isExtra ? 'extra' : 'discount';
        if (adds.length === 0) return this.decide(op, pos, author, `there is no ${noun} "${op.payload.key}" in what its author had seen`);
        if (judged.side === 'buyer' && !adds.some((add) => add.side === 'buyer')) return this.decide(op, pos, author, `the buyer may only remove extras the buyer added, and "${op.payload.key}" was added by the seller`);
        break;
      }
      default:
        break;
    }
    this.decide(op, pos, author, null);
    if (STATUS_TYPES.has(op.type)) this.statusOps.push(judged);
    else this.accepted.push(judged);
  }

  /** Why a Propose does not name the terms of the invoice at its heads, or null when it does. */
  private proposalProblem(op: Op<'Propose'>, pos: number): string | null {
    const unseen = op.payload.heads.find((head) => {
      const headPos = this.graph.positionOf(head);
      return headPos === undefined || !this.graph.inPast(headPos, pos);
    });
    if (unseen) return `it names op ${short(unseen)} as a head, which is not in what it had seen`;
    const { content } = this.contentAt(op.payload.heads);
    const problem = notProposable(content);
    if (problem) return `these terms cannot be proposed: ${problem}`;
    const expected = this.hashOf(content);
    if (expected !== op.payload.termsHash) return `its terms hash ${short(op.payload.termsHash)} does not match the invoice at the heads it names (${short(expected)})`;
    return null;
  }

  /** Pass 2: the status machine (`model/status.ts`), judged by causal pasts; the agreed terms and what changed after. */
  private runStatusMachine() {
    const outcome = judgeStatus(this.graph, this.statusOps, (op, pos) => this.proposalProblem(op, pos));
    for (const judged of this.statusOps) this.decide(judged.op, judged.pos, judged.author, outcome.rejections.get(judged.pos) ?? null);
    let agreement: Agreement | null = null;
    if (outcome.agreed) {
      const { proposal, accept } = outcome.agreed;
      const { content, vv } = this.contentAt(proposal.heads);
      const changesAfter: OpSummary[] = this.accepted
        .filter((judged) => TERMS_TYPES.has(judged.op.type) && !this.graph.inVector(judged.pos, vv))
        .map(({ op, author }) => ({ opId: op.id, type: op.type, author, device: op.device, at: iso(op) }));
      agreement = {
        termsHash: proposal.termsHash,
        proposal,
        acceptedBy: accept.author,
        acceptOpId: accept.op.id,
        totals: content.totals,
        changesAfter,
      };
    }
    const { status, proposal, shipped, paid, received, disputes } = outcome;
    return { status, proposal, agreement, shipped, paid, received, disputes };
  }
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
