import type { CausalGraph } from './causality.ts';
import type { JudgedOp } from './content.ts';
import type { TermsHash } from './ids.ts';
import type { Dispute, InvoiceStatus, Proposal } from './invoice.ts';
import type { Op } from './ops.ts';
import type { Side } from './roles.ts';

/**
 * The status machine: judges Propose, Accept, MarkShipped, MarkPaid, MarkReceived and Dispute ops by what their
 * authors could see (their causal past), never by clock. Pure: the same ops and graph give the same outcome.
 *
 * - A Propose names real terms (checked by the caller) and is made without having seen a dispute.
 * - An Accept is valid when the proposal it names is the other side's latest proposal in the Accept's causal past
 *   and the accepting side has not proposed since in that past. A proposal the Accept had not seen cannot undo it.
 * - Two valid Accepts can only conflict when neither had seen the other. The one whose own side made no decision
 *   (a valid Propose or Accept) concurrently with it wins: a party whose devices acted concurrently bears its own
 *   conflict. When every acceptance has such a conflict, the acceptance of the later proposal wins.
 *   Acceptances of the same proposal agree: the earliest is named, the others are kept.
 * - MarkShipped and MarkPaid need an acceptance of the agreed proposal in their causal past, MarkReceived an
 *   accepted MarkShipped; a mark already made in what its author had seen is a duplicate. A Dispute stops every
 *   status op made after seeing it.
 */
export interface StatusOutcome {
  readonly status: InvoiceStatus;
  /** The open proposal; once agreed, the agreed one. */
  readonly proposal: Proposal | null;
  readonly agreed: { readonly proposal: Proposal; readonly accept: JudgedOp } | null;
  readonly shipped: boolean;
  readonly paid: boolean;
  readonly received: boolean;
  readonly disputes: Dispute[];
  /** Why each rejected status op was rejected, by position in the linear order; every other one was accepted. */
  readonly rejections: ReadonlyMap<number, string>;
}

/** A Propose that names the terms at its heads, made without having seen a dispute. */
interface ValidProposal {
  readonly judged: JudgedOp;
  readonly op: Op<'Propose'>;
  readonly side: Side;
  readonly pos: number;
}

/** A valid Accept with no other valid Accept in its causal past: it opens an agreement, or competes for one. */
interface Acceptance {
  readonly judged: JudgedOp;
  readonly side: Side;
  readonly pos: number;
  readonly proposal: ValidProposal;
}

type Mark = 'MarkShipped' | 'MarkPaid' | 'MarkReceived';

/** What a mark says, for messages: "it was already marked shipped". */
const MARKED: Readonly<Record<Mark, string>> = { MarkShipped: 'marked shipped', MarkPaid: 'marked paid', MarkReceived: 'marked received' };

const short = (id: string) => `${id.slice(0, 12)}…`;

export function judgeStatus(
  graph: CausalGraph,
  statusOps: readonly JudgedOp[],
  proposalProblem: (op: Op<'Propose'>, pos: number) => string | null,
): StatusOutcome {
  return new StatusJudge(graph, statusOps, proposalProblem).run();
}

class StatusJudge {
  private readonly rejections = new Map<number, string>();
  private readonly disputes: JudgedOp[] = [];
  private readonly proposals: ValidProposal[] = [];
  private readonly proposedHashes = new Set<TermsHash>();
  /** Proposals that do not name the terms at their heads: rejected, unless made after an agreement (which says so). */
  private readonly flawedProposals: Array<{ pos: number; problem: string }> = [];
  private readonly candidates: Acceptance[] = [];
  /** Accepts made after seeing an agreement: their reason names the agreement, known only at the end. */
  private readonly lateAccepts: JudgedOp[] = [];
  private readonly marks: Record<Mark, JudgedOp[]> = { MarkShipped: [], MarkPaid: [], MarkReceived: [] };
  private winner: Acceptance | null = null;

  constructor(
    private readonly graph: CausalGraph,
    private readonly statusOps: readonly JudgedOp[],
    private readonly proposalProblem: (op: Op<'Propose'>, pos: number) => string | null,
  ) {}

  run(): StatusOutcome {
    const rest: JudgedOp[] = [];
    for (const judged of this.statusOps) {
      const { op, pos } = judged;
      if (judged.side === null) this.reject(pos, `only the buyer's or the seller's side can write ${op.type}`);
      else if (op.type === 'Dispute') this.disputes.push(judged);
      else if (op.type === 'Propose') this.judgeProposal(judged, op, judged.side);
      else rest.push(judged);
    }
    for (const judged of rest) if (judged.op.type === 'Accept') this.judgeAccept(judged, judged.op, judged.side!);
    this.decideAgreement();
    for (const judged of rest) if (judged.op.type !== 'Accept') this.judgeMark(judged, judged.op.type as Mark);
    return this.outcome();
  }

  private reject(pos: number, reason: string): void {
    this.rejections.set(pos, reason);
  }

  private inPast(ancestor: number, descendant: number): boolean {
    return ancestor < descendant && this.graph.inPast(ancestor, descendant);
  }

  private concurrent(a: number, b: number): boolean {
    return a !== b && !this.inPast(a, b) && !this.inPast(b, a);
  }

  /** Why a status op made after seeing a dispute is rejected, or null when its author had seen none. */
  private disputed(pos: number): string | null {
    const dispute = this.disputes.find((d) => this.inPast(d.pos, pos));
    return dispute ? `the invoice is disputed (op ${short(dispute.op.id)}): settle it out of band and start a new invoice` : null;
  }

  private judgeProposal(judged: JudgedOp, op: Op<'Propose'>, side: Side): void {
    const disputed = this.disputed(judged.pos);
    if (disputed) return this.reject(judged.pos, disputed);
    const problem = this.proposalProblem(op, judged.pos);
    if (problem) return void this.flawedProposals.push({ pos: judged.pos, problem });
    this.proposals.push({ judged, op, side, pos: judged.pos });
    this.proposedHashes.add(op.payload.termsHash);
  }

  /** The last valid proposal (in linear order) in the causal past of `pos`, optionally only those naming `hash`. */
  private latestProposalSeenBy(pos: number, hash?: TermsHash): ValidProposal | undefined {
    for (let i = this.proposals.length - 1; i >= 0; i--) {
      const proposal = this.proposals[i]!;
      if ((hash === undefined || proposal.op.payload.termsHash === hash) && this.inPast(proposal.pos, pos)) return proposal;
    }
    return undefined;
  }

  private judgeAccept(judged: JudgedOp, op: Op<'Accept'>, side: Side): void {
    const { pos } = judged;
    const hash = op.payload.termsHash;
    const refused = this.disputed(pos) ?? (this.proposedHashes.has(hash) ? null : `it accepts terms ${short(hash)} that nobody proposed`);
    if (refused) return this.reject(pos, refused);
    // Its reason names the agreement, which is decided once every acceptance is known.
    if (this.sawAgreement(pos)) return void this.lateAccepts.push(judged);
    const named = this.latestProposalSeenBy(pos, hash);
    if (!named) return this.reject(pos, `it accepts terms ${short(hash)} from a proposal it had not seen`);
    if (named.side === side) return this.reject(pos, 'a party cannot accept its own proposal');
    const latest = this.latestProposalSeenBy(pos)!;
    if (latest !== named) {
      const terms = short(latest.op.payload.termsHash);
      const by = latest.side === side ? `the ${side}'s own proposal of terms ${terms}` : `a proposal of terms ${terms}`;
      return this.reject(pos, `the proposal of terms ${short(hash)} was superseded by ${by} (op ${short(latest.op.id)}), which it had seen`);
    }
    this.candidates.push({ judged, side, pos, proposal: named });
  }

  /** The earliest valid decision (Propose or Accept) of `acceptance`'s own side made concurrently with it. */
  private conflictOf(acceptance: Acceptance): JudgedOp | null {
    const own = (d: { side: Side; pos: number }) => d.side === acceptance.side && this.concurrent(d.pos, acceptance.pos);
    const proposal = this.proposals.find(own)?.judged;
    const accept = this.candidates.find(own)?.judged;
    if (!proposal || !accept) return proposal ?? accept ?? null;
    return proposal.pos < accept.pos ? proposal : accept;
  }

  /**
   * Of competing acceptances, the one without a concurrent decision of its own side wins (there is at most one);
   * then the acceptance of the later proposal; then the earliest. Then every loser, every Accept made after seeing
   * an agreement, and every proposal the agreement had not seen is rejected, naming the agreement.
   */
  private decideAgreement(): void {
    const conflicts = new Map(this.candidates.map((c) => [c, this.conflictOf(c)]));
    const ranked = [...this.candidates].sort(
      (a, b) => Number(conflicts.get(a) !== null) - Number(conflicts.get(b) !== null) || b.proposal.pos - a.proposal.pos || a.pos - b.pos,
    );
    const winner = (this.winner = ranked[0] ?? null);
    for (const { pos, problem } of this.flawedProposals) {
      this.reject(pos, winner && this.sawAgreement(pos) ? this.alreadyAgreed() : problem);
    }
    if (!winner) return;
    const terms = short(winner.proposal.op.payload.termsHash);
    const accept = short(winner.judged.op.id);
    for (const loser of ranked) {
      if (loser.proposal === winner.proposal) continue;
      const conflict = conflicts.get(loser);
      const why =
        conflicts.get(winner) === null && conflict
          ? `this Accept was made concurrently with op ${short(conflict.op.id)}, a ${conflict.op.type} of the ${loser.side}'s own side, while op ${accept} ` +
            "conflicts with no decision of its own side: a party's concurrent decisions are its own to reconcile"
          : `both acceptances were made concurrently with a decision of their own side, and op ${accept} accepts the later proposal (op ${short(winner.proposal.op.id)})`;
      this.reject(loser.pos, `the invoice is agreed on terms ${terms} by op ${accept} instead: ${why}`);
    }
    for (const late of this.lateAccepts) this.reject(late.pos, this.alreadyAgreed());
    const unseen = `it was made concurrently with the agreement on terms ${terms}: the Accept (op ${accept}) had not seen it, and an acceptance is never undone by a proposal its author could not have seen`;
    for (const proposal of this.proposals) {
      if (this.inPast(proposal.pos, winner.pos)) continue;
      this.reject(proposal.pos, this.sawAgreement(proposal.pos) ? this.alreadyAgreed() : unseen);
    }
  }

  /** Whether a valid Accept is in the causal past of `pos`: its author knew the invoice was agreed. */
  private sawAgreement(pos: number): boolean {
    return this.candidates.some((c) => this.inPast(c.pos, pos));
  }

  private alreadyAgreed(): string {
    return `the invoice is already agreed on terms ${short(this.winner!.proposal.op.payload.termsHash)}`;
  }

  /** Acceptances of the agreed proposal: any of them in a mark's causal past is the agreement seen. */
  private agreeing(): Acceptance[] {
    return this.candidates.filter((c) => c.proposal === this.winner?.proposal);
  }

  private judgeMark(judged: JudgedOp, type: Mark): void {
    const { pos } = judged;
    const problem = this.disputed(pos) ?? this.markProblem(pos, type);
    if (problem) return this.reject(pos, problem);
    const done = this.marks[type].find((mark) => this.inPast(mark.pos, pos));
    if (done) return this.reject(pos, `it was already ${MARKED[type]} by op ${short(done.op.id)}`);
    this.marks[type].push(judged);
  }

  private markProblem(pos: number, type: Mark): string | null {
    if (type === 'MarkReceived') return this.receivedProblem(pos);
    return this.agreementProblem(pos, type === 'MarkShipped' ? 'shipped' : 'paid');
  }

  private agreementProblem(pos: number, what: 'shipped' | 'paid'): string | null {
    const winner = this.winner;
    if (!winner) return `it cannot be marked ${what} before buyer and seller agree`;
    if (this.agreeing().some((c) => this.inPast(c.pos, pos))) return null;
    const lost = this.candidates.find((c) => this.inPast(c.pos, pos));
    if (!lost) return `it marks the invoice ${what} without having seen the agreement`;
    return (
      `it was made on the acceptance of terms ${short(lost.proposal.op.payload.termsHash)} (op ${short(lost.judged.op.id)}), which lost: ` +
      `the invoice is agreed on terms ${short(winner.proposal.op.payload.termsHash)} by op ${short(winner.judged.op.id)}`
    );
  }

  private receivedProblem(pos: number): string | null {
    const shipped = this.marks.MarkShipped;
    if (shipped.length === 0) return 'it cannot be marked received before the seller marks it shipped';
    return shipped.some((mark) => this.inPast(mark.pos, pos)) ? null : 'it marks the goods received without having seen them shipped';
  }

  private outcome(): StatusOutcome {
    const proposalOf = (p: ValidProposal): Proposal => ({
      side: p.side,
      termsHash: p.op.payload.termsHash,
      heads: p.op.payload.heads,
      opId: p.op.id,
      author: p.judged.author,
    });
    const winner = this.winner;
    const open = winner ? winner.proposal : this.proposals[this.proposals.length - 1];
    const proposal = open ? proposalOf(open) : null;
    const disputes: Dispute[] = this.disputes.map(({ op, side, author }) => ({
      side: side!,
      reason: (op as Op<'Dispute'>).payload.reason,
      opId: op.id,
      author,
    }));
    const shipped = this.marks.MarkShipped.length > 0;
    const paid = this.marks.MarkPaid.length > 0;
    const received = this.marks.MarkReceived.length > 0;
    const status = statusOf(disputes[disputes.length - 1], { shipped, paid, received }, winner !== null, proposal);
    return {
      status,
      proposal,
      agreed: winner && proposal ? { proposal, accept: winner.judged } : null,
      shipped,
      paid,
      received,
      disputes,
      rejections: this.rejections,
    };
  }
}

/** The status shown: a dispute first, then how far delivery and payment went, then where the negotiation stands. */
function statusOf(
  lastDispute: Dispute | undefined,
  marks: { readonly shipped: boolean; readonly paid: boolean; readonly received: boolean },
  agreed: boolean,
  proposal: Proposal | null,
): InvoiceStatus {
  const { shipped, paid, received } = marks;
  if (lastDispute) return `${lastDispute.side}-disagrees`;
  if (received) return paid ? 'received and paid' : 'received';
  if (shipped && paid) return 'shipped and paid';
  if (shipped) return 'shipped';
  if (paid) return 'paid';
  if (agreed) return 'agreed';
  return proposal ? `${proposal.side} proposes` : 'draft';
}
